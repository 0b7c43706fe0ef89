// berth-logger: one per running container, beside its conmon. conmon writes
// the container's output as CRI (k8s-file) records into a FIFO; this program
// turns each record into docker's on-disk format (json-file, or local's
// length-framed protobuf) and rotates the files itself, before a write that
// would pass max-size, so the directory never holds more than
// max-size x max-file and a record is never split between two files.
// It is its own session, like conmon: it outlives berthd and keeps logging
// while the daemon is down. It exits when conmon closes the FIFO.
//
//   berth-logger FIFO json|local PATH MAX_SIZE MAX_FILE COMPRESS(0|1) [ATTRS]
//
// MAX_SIZE 0 means no rotation. ATTRS is the json-file "attrs" object (JSON)
// or, for local, key=value pairs joined by \x01. It prints "ok" on stdout
// once the log file is open, then opens the FIFO (which blocks until conmon
// opens its end).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

enum { FMT_JSON, FMT_LOCAL };

static int fmt;
static const char *path;
static long long max_size;
static int max_file;
static int gz_rotated;
static const char *attrs;
static int out_fd = -1;
static long long cur_size;

// Output of one read of the FIFO, written in one write() unless a rotation
// falls inside it.
static char *obuf;
static size_t olen, ocap;

static void die(const char *what) {
  fprintf(stderr, "berth-logger: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void put(const void *p, size_t n) {
  if (olen + n > ocap) {
    while (olen + n > ocap) ocap = ocap ? ocap * 2 : 1 << 16;
    obuf = realloc(obuf, ocap);
    if (!obuf) die("realloc");
  }
  memcpy(obuf + olen, p, n);
  olen += n;
}

static void putc1(char c) { put(&c, 1); }
static void puts1(const char *s) { put(s, strlen(s)); }

// Writes everything or gives up on this batch (a full disk): the container
// must never block on its logger's errors.
static void flush_out(void) {
  size_t off = 0;
  while (off < olen) {
    ssize_t n = write(out_fd, obuf + off, olen - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    off += (size_t)n;
  }
  cur_size += (long long)off;
  olen = 0;
}

static int open_log(void) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) die(path);
  struct stat st;
  cur_size = fstat(fd, &st) == 0 ? st.st_size : 0;
  return fd;
}

static char *numbered(int i, int gz) {
  char *s;
  if (asprintf(&s, "%s.%d%s", path, i, gz ? ".gz" : "") < 0) die("asprintf");
  return s;
}

// gzips FROM into FROM.gz (through a temp name, so a reader never sees half
// of it) and removes FROM.
static void gzip_file(const char *from) {
  char *to, *tmp;
  if (asprintf(&to, "%s.gz", from) < 0 || asprintf(&tmp, "%s.gz.tmp", from) < 0) die("asprintf");
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    free(to);
    free(tmp);
    return;
  }
  gzFile gz = gzopen(tmp, "wb1");
  if (in >= 0 && gz) {
    char buf[1 << 16];
    ssize_t n;
    int ok = 1;
    while ((n = read(in, buf, sizeof buf)) > 0)
      if (gzwrite(gz, buf, (unsigned)n) != n) { ok = 0; break; }
    if (gzclose(gz) != Z_OK) ok = 0;
    gz = NULL;
    if (ok && n == 0 && rename(tmp, to) == 0) unlink(from);
    else unlink(tmp);
  }
  if (gz) gzclose(gz);
  if (in >= 0) close(in);
  free(to);
  free(tmp);
}

// path.N-1 is dropped, path.i becomes path.i+1, path becomes path.1, and a
// new empty path is opened. With max-file 1 the file is
// emptied in place, as docker does.
static void rotate(void) {
  if (max_file <= 1) {
    if (ftruncate(out_fd, 0) == 0) cur_size = 0;
    return;
  }
  close(out_fd);
  for (int gz = 0; gz <= 1; gz++) {
    char *last = numbered(max_file - 1, gz);
    unlink(last);
    free(last);
  }
  for (int i = max_file - 2; i >= 1; i--) {
    for (int gz = 0; gz <= 1; gz++) {
      char *a = numbered(i, gz), *b = numbered(i + 1, gz);
      rename(a, b);
      free(a);
      free(b);
    }
  }
  char *first = numbered(1, 0);
  rename(path, first);
  out_fd = open_log();
  // The newest rotated file stays plain for one more rotation (with three
  // files or more), so a follower that fell a file behind finds it there by
  // its inode; the one before it is compressed now.
  if (gz_rotated) {
    char *older = max_file >= 3 ? numbered(2, 0) : NULL;
    gzip_file(older ? older : first);
    free(older);
  }
  free(first);
}

// ---- one record ----

// The body of a JSON string (no quotes), escaped as docker's marshaller
// does.
static void json_chars(const unsigned char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t start = 0, i = 0;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') { i++; continue; }
      put(s + start, i - start);
      if (b == '\\' || b == '"') { putc1('\\'); putc1((char)b); }
      else if (b == '\n') puts1("\\n");
      else if (b == '\r') puts1("\\r");
      else { puts1("\\u00"); putc1(hex[b >> 4]); putc1(hex[b & 15]); }
      start = ++i;
      continue;
    }
    // UTF-8 as Go decodes it: an invalid sequence is one byte of U+FFFD;
    // U+2028 and U+2029 are escaped.
    size_t len = 0;
    uint32_t c = 0;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; c = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { len = 3; c = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { len = 4; c = b & 0x07; }
    int ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) ok = 0;
      else c = (c << 6) | (s[i + k] & 0x3f);
    }
    if (ok && ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))) ok = 0;
    if (!ok) {
      put(s + start, i - start);
      puts1("\\ufffd");
      start = ++i;
      continue;
    }
    if (c == 0x2028 || c == 0x2029) {
      put(s + start, i - start);
      puts1(c == 0x2028 ? "\\u2028" : "\\u2029");
      start = i + len;
    }
    i += len;
  }
  put(s + start, n - start);
}

static void varint(uint64_t v) {
  while (v >= 0x80) { putc1((char)(v | 0x80)); v >>= 7; }
  putc1((char)v);
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

// Per stream: the partial line being continued (local's metadata).
static uint64_t partial_id[2];
static int partial_ord[2];
static uint64_t next_partial_id = 1;

static void be32(uint32_t v) {
  unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };
  put(b, 4);
}

// docker's local driver: [u32 size][LogEntry][u32 size], big-endian.
// LogEntry: 1 source, 2 time_nano, 3 line, 4 partial, 5 partial metadata
// (1 last, 2 id, 3 ordinal), 6 attrs (1 key, 2 value).
static void local_record(int err, int64_t nanos, const unsigned char *line, size_t n, int partial) {
  const char *source = err ? "stderr" : "stdout";
  int s = err ? 1 : 0;
  int in_group = partial || partial_ord[s] > 0;
  char idbuf[24];
  size_t meta_len = 0;
  if (in_group) {
    if (partial_ord[s] == 0) partial_id[s] = next_partial_id++;
    partial_ord[s]++;
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)partial_id[s]);
    meta_len = (partial ? 0 : 2) + 1 + varint_len(strlen(idbuf)) + strlen(idbuf) + 1 + varint_len((uint64_t)partial_ord[s]);
  }
  size_t attrs_len = 0;
  const char *a = attrs;
  // attrs: "k=v\x01k=v"
  size_t size = 1 + 1 + strlen(source) + 1 + varint_len((uint64_t)nanos) + (n ? 1 + varint_len(n) + n : 0) + (in_group ? 2 + 1 + varint_len(meta_len) + meta_len : 0);
  if (a && *a) {
    const char *p = a;
    while (*p) {
      const char *end = strchr(p, '\x01');
      if (!end) end = p + strlen(p);
      const char *eq = memchr(p, '=', (size_t)(end - p));
      size_t kl = eq ? (size_t)(eq - p) : (size_t)(end - p), vl = eq ? (size_t)(end - eq - 1) : 0;
      size_t el = 1 + varint_len(kl) + kl + 1 + varint_len(vl) + vl;
      attrs_len += 1 + varint_len(el) + el;
      p = *end ? end + 1 : end;
    }
    size += attrs_len;
  }
  be32((uint32_t)size);
  putc1(0x0a); varint(strlen(source)); puts1(source);
  putc1(0x10); varint((uint64_t)nanos);
  if (n) { putc1(0x1a); varint(n); put(line, n); }
  if (in_group) {
    putc1(0x20); putc1(1);
    putc1(0x2a); varint(meta_len);
    if (!partial) { putc1(0x08); putc1(1); }
    putc1(0x12); varint(strlen(idbuf)); puts1(idbuf);
    putc1(0x18); varint((uint64_t)partial_ord[s]);
    if (!partial) partial_ord[s] = 0;
  }
  if (a && *a) {
    const char *p = a;
    while (*p) {
      const char *end = strchr(p, '\x01');
      if (!end) end = p + strlen(p);
      const char *eq = memchr(p, '=', (size_t)(end - p));
      size_t kl = eq ? (size_t)(eq - p) : (size_t)(end - p), vl = eq ? (size_t)(end - eq - 1) : 0;
      size_t el = 1 + varint_len(kl) + kl + 1 + varint_len(vl) + vl;
      putc1(0x32); varint(el);
      putc1(0x0a); varint(kl); put(p, kl);
      putc1(0x12); varint(vl); if (vl) put(eq + 1, vl);
      p = *end ? end + 1 : end;
    }
  }
  be32((uint32_t)size);
}

static void json_record(int err, int64_t nanos, const unsigned char *line, size_t n, int partial) {
  putc1('{');
  // "log" is left out when empty, as docker's marshaller does.
  size_t ln = n + (partial ? 0 : 1);
  if (ln) {
    puts1("\"log\":\"");
    json_chars(line, n);
    // The newline the process wrote is part of the message.
    if (!partial) puts1("\\n");
    puts1("\",");
  }
  puts1(err ? "\"stream\":\"stderr\"," : "\"stream\":\"stdout\",");
  if (attrs && *attrs) { puts1("\"attrs\":"); puts1(attrs); putc1(','); }
  // RFC 3339 with nanoseconds, trailing zeros dropped (Go's RFC3339Nano).
  // conmon stamps every record of one read alike: the seconds are cached.
  static time_t last_sec = -1;
  static char sec_text[32];
  static int sec_len;
  time_t sec = (time_t)(nanos / 1000000000);
  long ns = (long)(nanos % 1000000000);
  if (sec != last_sec) {
    struct tm tm;
    gmtime_r(&sec, &tm);
    sec_len = (int)strftime(sec_text, sizeof sec_text, "%Y-%m-%dT%H:%M:%S", &tm);
    last_sec = sec;
  }
  char tbuf[64];
  memcpy(tbuf, sec_text, (size_t)sec_len);
  int k = sec_len;
  if (ns) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ns);
    int fl = (int)strlen(frac);
    while (frac[fl - 1] == '0') fl--;
    frac[fl] = 0;
    k += snprintf(tbuf + k, sizeof tbuf - (size_t)k, "%s", frac);
  }
  snprintf(tbuf + k, sizeof tbuf - (size_t)k, "Z");
  puts1("\"time\":\"");
  puts1(tbuf);
  puts1("\"}\n");
}

// conmon's "2006-01-02T15:04:05.999999999+07:00" into Unix nanoseconds.
static int64_t parse_time_text(const char *s, size_t n);
static int64_t parse_time(const char *s, size_t n) {
  // conmon stamps every record of one read alike.
  static char last[64];
  static size_t last_n;
  static int64_t last_t;
  if (n == last_n && n < sizeof last && memcmp(s, last, n) == 0) return last_t;
  int64_t t = parse_time_text(s, n);
  if (n < sizeof last) {
    memcpy(last, s, n);
    last_n = n;
    last_t = t;
  }
  return t;
}

static int64_t parse_time_text(const char *s, size_t n) {
  struct tm tm = { 0 };
  int Y, M, D, h, m, sec;
  if (n < 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &Y, &M, &D, &h, &m, &sec) != 6) goto now;
  tm.tm_year = Y - 1900; tm.tm_mon = M - 1; tm.tm_mday = D;
  tm.tm_hour = h; tm.tm_min = m; tm.tm_sec = sec;
  int64_t t = (int64_t)timegm(&tm);
  size_t i = 19;
  int64_t ns = 0;
  if (i < n && s[i] == '.') {
    int digits = 0;
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
      if (digits < 9) { ns = ns * 10 + (s[i] - '0'); digits++; }
    }
    while (digits++ < 9) ns *= 10;
  }
  if (i < n && (s[i] == '+' || s[i] == '-') && i + 6 <= n) {
    int oh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    int om = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
    int64_t off = oh * 3600 + om * 60;
    t -= s[i] == '+' ? off : -off;
  }
  return t * 1000000000 + ns;
now:;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// One CRI record without its newline: "<time> <stream> <F|P> <content>".
static void emit(int err, int64_t nanos, const unsigned char *content, size_t clen, int partial) {
  size_t before = olen;
  if (fmt == FMT_JSON) json_record(err, nanos, content, clen, partial);
  else local_record(err, nanos, content, clen, partial);
  size_t len = olen - before;
  // Rotate before a record that would pass max-size; the record goes whole
  // into the new file.
  if (max_size > 0 && cur_size + (long long)olen > max_size && cur_size + (long long)before > 0) {
    char *tmp = malloc(len);
    if (!tmp) die("malloc");
    memcpy(tmp, obuf + before, len);
    olen = before;
    flush_out();
    rotate();
    put(tmp, len);
    free(tmp);
  }
}

// conmon cuts a line wherever one of its 8 KiB reads ends (a P record, the
// rest follows). Pieces are joined here, up to docker's 16 KiB message
// buffer, so a line is one record (and a rotation never falls inside it)
// unless it is longer than that, as in docker.
#define LINE_MAX_PIECES 16384
static unsigned char pend[2][LINE_MAX_PIECES];
static size_t pend_len[2];
static int64_t pend_time[2];

static void flush_pending(int s) {
  if (pend_len[s]) emit(s, pend_time[s], pend[s], pend_len[s], 1);
  pend_len[s] = 0;
}

// One CRI record without its newline: "<time> <stream> <F|P> <content>".
static void record(const char *rec, size_t n) {
  const char *s1 = memchr(rec, ' ', n);
  if (!s1) return;
  const char *s2 = memchr(s1 + 1, ' ', n - (size_t)(s1 + 1 - rec));
  if (!s2) return;
  const char *tag = s2 + 1;
  const char *s3 = memchr(tag, ' ', n - (size_t)(tag - rec));
  size_t taglen = s3 ? (size_t)(s3 - tag) : n - (size_t)(tag - rec);
  const unsigned char *content = s3 ? (const unsigned char *)s3 + 1 : (const unsigned char *)rec + n;
  size_t clen = (size_t)((const unsigned char *)rec + n - content);
  int err = (size_t)(s2 - s1 - 1) == 6 && memcmp(s1 + 1, "stderr", 6) == 0;
  int partial = memchr(tag, 'P', taglen) != NULL;
  int64_t nanos = parse_time(rec, (size_t)(s1 - rec));

  if (!pend_len[err] && !partial) {
    emit(err, nanos, content, clen, 0);
    return;
  }
  while (clen > 0 || !partial) {
    if (!pend_len[err]) pend_time[err] = nanos;
    size_t room = LINE_MAX_PIECES - pend_len[err];
    size_t k = clen < room ? clen : room;
    memcpy(pend[err] + pend_len[err], content, k);
    pend_len[err] += k;
    content += k;
    clen -= k;
    if (pend_len[err] == LINE_MAX_PIECES && (clen > 0 || partial)) {
      // Longer than the buffer: this piece goes as a partial message.
      flush_pending(err);
      continue;
    }
    if (!partial) {
      emit(err, pend_time[err], pend[err], pend_len[err], 0);
      pend_len[err] = 0;
    }
    break;
  }
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: berth-logger FIFO json|local PATH MAX_SIZE MAX_FILE COMPRESS [ATTRS]\n");
    return 2;
  }
  const char *fifo = argv[1];
  fmt = strcmp(argv[2], "local") == 0 ? FMT_LOCAL : FMT_JSON;
  path = argv[3];
  max_size = atoll(argv[4]);
  max_file = atoi(argv[5]);
  gz_rotated = atoi(argv[6]);
  attrs = argc > 7 ? argv[7] : NULL;
  if (max_file < 1) max_file = 1;

  out_fd = open_log();
  if (write(1, "ok\n", 3) != 3) die("stdout");
  close(1);
  int null = open("/dev/null", O_WRONLY);
  if (null >= 0 && null != 1) { dup2(null, 1); close(null); }

  int in = open(fifo, O_RDONLY | O_CLOEXEC);
  if (in < 0) die(fifo);
  // A roomier pipe: fewer wakeups of both ends under a flood (best effort;
  // capped by /proc/sys/fs/pipe-max-size).
  fcntl(in, F_SETPIPE_SZ, 1 << 20);
  // conmon has its end open now; the FIFO's name is no longer needed.
  unlink(fifo);

  // conmon writes records of at most 8 KiB of content each, so a pending
  // partial record never outgrows this buffer; one that would is cut.
  size_t cap = 1 << 18, have = 0;
  char *buf = malloc(cap);
  if (!buf) die("malloc");
  for (;;) {
    ssize_t n = read(in, buf + have, cap - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    have += (size_t)n;
    size_t start = 0;
    for (;;) {
      char *nl = memchr(buf + start, '\n', have - start);
      if (!nl) break;
      record(buf + start, (size_t)(nl - (buf + start)));
      start = (size_t)(nl - buf) + 1;
    }
    if (start == 0 && have == cap) {
      record(buf, have);
      have = 0;
    } else {
      memmove(buf, buf + start, have - start);
      have -= start;
    }
    flush_out();
  }
  if (have) record(buf, have);
  // What was left without its newline when the container's output ended.
  flush_pending(0);
  flush_pending(1);
  flush_out();
  close(out_fd);
  return 0;
}
