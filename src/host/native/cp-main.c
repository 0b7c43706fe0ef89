// berth-cp: the reading half of `docker cp`, inside a container's root.
//
//   berth-cp stat ROOT PATH [--bind SRC:/DEST]...
//                             one JSON line on stdout: {"ok":true,"stat":{…}}
//                             or {"ok":false,"kind":"notfound"|"invalid"|
//                             "internal","error":"…"}
//   berth-cp get ROOT PATH [--bind SRC:/DEST]... [--idmap UID:GID:SIZE]
//                             that line on fd 3, then (if ok) the tar of PATH
//                             on stdout; a failure midway: a JSON line on
//                             stderr, exit 1
//
// The container's own mounts (--bind) are bound into a private mount
// namespace first (binds.c). It then chroots into ROOT, so every name, "..", and symlink, even one a
// running container swaps in while we walk, resolves inside ROOT: the kernel
// confines the paths. PATH is absolute and cleaned by the daemon (Docker's
// rules, trailing "/." and "/" kept). The stat is Docker's
// ContainerPathStat: lstat of PATH, the mode in Go's os.FileMode bits, the
// link's target resolved inside ROOT. The tar names PATH by its base name
// (the root's entries are "/", "/bin/", …), as moby's rebase does. Native,
// like berth-untar: `docker cp` makes a HEAD and a GET, and Node's start-up
// per call was most of their time. It looks up no user or group names and
// converts no charsets, so nothing is ever loaded from inside the root.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "binds.h"

// ---------------------------------------------------------------------------
// JSON

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

static int report_failure(FILE *f, const char *kind, const char *message) {
  fprintf(f, "{\"ok\":false,\"kind\":\"%s\",\"error\":", kind);
  json_string(f, message);
  fprintf(f, "}\n");
  fflush(f);
  return 1;
}

// ---------------------------------------------------------------------------
// Paths

// Go's filepath.Base.
static const char *go_base(const char *p, char *buf, size_t cap) {
  size_t n = strlen(p);
  while (n > 0 && p[n - 1] == '/') n--;
  if (n == 0) return *p ? "/" : ".";
  size_t start = n;
  while (start > 0 && p[start - 1] != '/') start--;
  size_t len = n - start < cap - 1 ? n - start : cap - 1;
  memcpy(buf, p + start, len);
  buf[len] = '\0';
  return buf;
}

// Where p leads inside the root, following every symlink as far as the
// path exists (moby's FollowSymlinkInScope): a missing component is kept.
static int follow_in_root(const char *p, char *out, size_t cap) {
  char pending[PATH_MAX * 2];
  size_t n = 0;
  int links = 0;
  out[0] = '\0';
  if (snprintf(pending, sizeof pending, "%s", p) >= (int)sizeof pending) return -1;
  char *rest = pending;
  while (*rest) {
    while (*rest == '/') rest++;
    if (!*rest) break;
    char *end = strchr(rest, '/');
    size_t len = end ? (size_t)(end - rest) : strlen(rest);
    char part[NAME_MAX + 1];
    if (len > NAME_MAX) return -1;
    memcpy(part, rest, len);
    part[len] = '\0';
    rest += len;
    if (strcmp(part, ".") == 0) continue;
    if (strcmp(part, "..") == 0) {
      while (n > 0 && out[n - 1] != '/') n--;
      if (n > 0) n--;
      out[n] = '\0';
      continue;
    }
    if (n + 1 + len + 1 > cap) return -1;
    out[n] = '/';
    memcpy(out + n + 1, part, len + 1);
    struct stat st;
    if (lstat(out, &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++links > 255) return -1;
      char target[PATH_MAX];
      ssize_t t = readlink(out, target, sizeof target - 1);
      if (t < 0) return -1;
      target[t] = '\0';
      char joined[PATH_MAX * 2];
      if (snprintf(joined, sizeof joined, "%s/%s", target, rest) >= (int)sizeof joined) return -1;
      memcpy(pending, joined, strlen(joined) + 1);
      rest = pending;
      if (target[0] == '/') n = 0;
      out[n] = '\0';
      continue;
    }
    n += 1 + len;
  }
  if (n == 0) strcpy(out, "/");
  return 0;
}

// Go's os.FileMode of a mode_t.
static uint32_t go_mode(mode_t m) {
  uint32_t g = m & 0777;
  switch (m & S_IFMT) {
    case S_IFDIR: g |= 1u << 31; break;
    case S_IFLNK: g |= 1u << 27; break;
    case S_IFBLK: g |= 1u << 26; break;
    case S_IFCHR: g |= (1u << 26) | (1u << 21); break;
    case S_IFIFO: g |= 1u << 25; break;
    case S_IFSOCK: g |= 1u << 24; break;
  }
  if (m & S_ISUID) g |= 1u << 23;
  if (m & S_ISGID) g |= 1u << 22;
  if (m & S_ISVTX) g |= 1u << 20;
  return g;
}

// The stat as JSON ({"ok":true,"stat":…}); -1 with errno on failure.
static int print_stat(FILE *f, const char *p) {
  struct stat st;
  if (lstat(p, &st) != 0) return -1;
  char link[PATH_MAX] = "";
  if (S_ISLNK(st.st_mode) && follow_in_root(p, link, sizeof link) != 0) {
    errno = ELOOP;
    return -1;
  }
  char base[NAME_MAX + 1];
  struct tm tm;
  time_t sec = st.st_mtim.tv_sec;
  gmtime_r(&sec, &tm);
  char when[64], frac[16] = "";
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  if (st.st_mtim.tv_nsec) {
    snprintf(frac, sizeof frac, ".%09ld", st.st_mtim.tv_nsec);
    for (size_t i = strlen(frac); i > 1 && frac[i - 1] == '0'; i--) frac[i - 1] = '\0';
  }
  fprintf(f, "{\"ok\":true,\"stat\":{\"name\":");
  json_string(f, go_base(p, base, sizeof base));
  fprintf(f, ",\"size\":%lld,\"mode\":%u,\"mtime\":\"%s%sZ\",\"linkTarget\":", (long long)st.st_size, go_mode(st.st_mode), when, frac);
  json_string(f, link);
  fprintf(f, "}}\n");
  return fflush(f) == 0 ? 0 : -1;
}

static const char *kind_of(int err) {
  if (err == ENOENT) return "notfound";
  if (err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG) return "invalid";
  return "internal";
}

// ---------------------------------------------------------------------------
// The tar writer: ustar headers, with PAX records for what ustar cannot hold
// (long names and link names, big sizes and ids, xattrs).

static char out_buf[1 << 16];
static size_t out_len;
static char why[PATH_MAX + 256];

static int flush_out(void) {
  for (size_t done = 0; done < out_len;) {
    ssize_t w = write(1, out_buf + done, out_len - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)w;
  }
  out_len = 0;
  return 0;
}

static int put(const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    if (out_len == sizeof out_buf && flush_out() != 0) return -1;
    size_t k = sizeof out_buf - out_len < n ? sizeof out_buf - out_len : n;
    memcpy(out_buf + out_len, p, k);
    out_len += k;
    p += k;
    n -= k;
  }
  return 0;
}

static int pad(uint64_t size) {
  static const char zeros[512];
  size_t r = size % 512;
  return r ? put(zeros, 512 - r) : 0;
}

// width-1 octal digits and a NUL (callers keep v within range).
static void octal(char *field, size_t width, uint64_t v) {
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
  field[width - 1] = '\0';
}

struct pax {
  char *data;
  size_t len, cap;
};

static int pax_add(struct pax *x, const char *key, const char *value, size_t vlen) {
  size_t body = 1 + strlen(key) + 1 + vlen + 1; // " key=value\n"
  size_t total = body + 1;
  while (1) {
    char digits[24];
    size_t d = (size_t)snprintf(digits, sizeof digits, "%zu", total);
    if (d + body == total) break;
    total = d + body;
  }
  if (x->len + total > x->cap) {
    size_t cap = (x->cap ? x->cap * 2 : 1024) + total;
    char *p = realloc(x->data, cap);
    if (!p) return -1;
    x->data = p;
    x->cap = cap;
  }
  int n = snprintf(x->data + x->len, x->cap - x->len, "%zu %s=", total, key);
  memcpy(x->data + x->len + n, value, vlen);
  x->data[x->len + n + vlen] = '\n';
  x->len += total;
  return 0;
}

static void checksum(char *h) {
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

static int is_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80) return 0;
  return 1;
}

static int xattr_allowed(const char *name) {
  return (strncmp(name, "user.", 5) == 0 && name[5] != '\0') || strcmp(name, "security.capability") == 0;
}

static int add_xattrs(struct pax *x, const char *path) {
  char names[8192];
  ssize_t n = llistxattr(path, names, sizeof names);
  if (n <= 0) return 0; // none, or not supported
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    if (!xattr_allowed(name)) continue;
    char value[65536];
    ssize_t v = lgetxattr(path, name, value, sizeof value);
    if (v < 0) continue;
    char key[sizeof names + 16];
    snprintf(key, sizeof key, "SCHILY.xattr.%s", name);
    if (pax_add(x, key, value, (size_t)v) != 0) return -1;
  }
  return 0;
}

// --idmap UID:GID:SIZE (userns-remap): the root shows host ids of that
// range; the tar carries them as the container sees them, any other as the
// overflow id 65534 (as the kernel shows an unmapped id).
static struct { int on; uint32_t uid, gid, size; } idmap;

static uint32_t to_container(uint32_t id, uint32_t base) {
  return id >= base && id - base < idmap.size ? id - base : 65534;
}

// Writes one header (preceded by a PAX header when needed).
static int header(const char *name, const struct stat *st_in, char type, const char *linkname, uint64_t size, const char *path) {
  struct stat mapped = *st_in;
  if (idmap.on) {
    mapped.st_uid = to_container(st_in->st_uid, idmap.uid);
    mapped.st_gid = to_container(st_in->st_gid, idmap.gid);
  }
  const struct stat *st = &mapped;
  char h[512];
  struct pax x = { 0 };
  int rc = -1;
  memset(h, 0, sizeof h);
  if (strlen(name) > 100 || !is_ascii(name)) {
    if (pax_add(&x, "path", name, strlen(name)) != 0) goto out;
  }
  if (linkname && (strlen(linkname) > 100 || !is_ascii(linkname))) {
    if (pax_add(&x, "linkpath", linkname, strlen(linkname)) != 0) goto out;
  }
  char num[32];
  if (size > 077777777777ULL) {
    snprintf(num, sizeof num, "%llu", (unsigned long long)size);
    if (pax_add(&x, "size", num, strlen(num)) != 0) goto out;
  }
  if (st->st_uid > 07777777) {
    snprintf(num, sizeof num, "%u", st->st_uid);
    if (pax_add(&x, "uid", num, strlen(num)) != 0) goto out;
  }
  if (st->st_gid > 07777777) {
    snprintf(num, sizeof num, "%u", st->st_gid);
    if (pax_add(&x, "gid", num, strlen(num)) != 0) goto out;
  }
  if (path && type != '1' && add_xattrs(&x, path) != 0) goto out;
  uint64_t mtime = st->st_mtim.tv_sec > 0 ? (uint64_t)st->st_mtim.tv_sec : 0;
  if (x.len) {
    char ph[512];
    memset(ph, 0, sizeof ph);
    snprintf(ph, 100, "PaxHeaders.0/%.80s", is_ascii(name) ? name : "entry");
    octal(ph + 100, 8, 0644);
    octal(ph + 108, 8, 0);
    octal(ph + 116, 8, 0);
    octal(ph + 124, 12, x.len);
    octal(ph + 136, 12, mtime);
    ph[156] = 'x';
    memcpy(ph + 257, "ustar", 6);
    memcpy(ph + 263, "00", 2);
    checksum(ph);
    if (put(ph, 512) != 0 || put(x.data, x.len) != 0 || pad(x.len) != 0) goto out;
  }
  strncpy(h, name, 100);
  octal(h + 100, 8, st->st_mode & 07777);
  octal(h + 108, 8, st->st_uid > 07777777 ? 0 : st->st_uid);
  octal(h + 116, 8, st->st_gid > 07777777 ? 0 : st->st_gid);
  octal(h + 124, 12, size > 077777777777ULL ? 0 : size);
  octal(h + 136, 12, mtime);
  h[156] = type;
  if (linkname) strncpy(h + 157, linkname, 100);
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  if (type == '3' || type == '4') {
    octal(h + 329, 8, major(st->st_rdev));
    octal(h + 337, 8, minor(st->st_rdev));
  }
  checksum(h);
  rc = put(h, 512);
out:
  free(x.data);
  return rc;
}

struct link {
  dev_t dev;
  ino_t ino;
  char *name;
};
static struct link *links;
static size_t nlinks, caplinks;

static const char *first_name(const struct stat *st) {
  for (size_t i = 0; i < nlinks; i++)
    if (links[i].dev == st->st_dev && links[i].ino == st->st_ino) return links[i].name;
  return NULL;
}

static int remember(const struct stat *st, const char *name) {
  if (nlinks == caplinks) {
    size_t cap = caplinks ? caplinks * 2 : 64;
    struct link *l = realloc(links, cap * sizeof *l);
    if (!l) return -1;
    links = l;
    caplinks = cap;
  }
  links[nlinks].dev = st->st_dev;
  links[nlinks].ino = st->st_ino;
  links[nlinks].name = strdup(name);
  if (!links[nlinks].name) return -1;
  nlinks++;
  return 0;
}

static int fail_at(const char *call, const char *p) {
  snprintf(why, sizeof why, "%s %s: %s", call, p, strerror(errno));
  return -1;
}

static int put_file(const char *path, const char *name, const struct stat *st) {
  // O_NONBLOCK: a FIFO swapped in after lstat must not hang us; fstat then
  // checks we opened the very file we walked.
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail_at("open", path);
  struct stat fst;
  if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev) {
    close(fd);
    snprintf(why, sizeof why, "%s changed while it was read", path);
    return -1;
  }
  uint64_t size = (uint64_t)fst.st_size, done = 0;
  if (header(name, &fst, '0', NULL, size, path) != 0) {
    close(fd);
    return fail_at("write", path);
  }
  if (flush_out() != 0) {
    close(fd);
    return fail_at("write", path);
  }
  // Exactly size bytes: a file that grows is cut at its size when it was
  // stat'ed; one that shrinks fails the archive.
  while (done < size) {
    ssize_t want = size - done < sizeof out_buf ? (ssize_t)(size - done) : (ssize_t)sizeof out_buf;
    ssize_t n = pread(fd, out_buf, (size_t)want, (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      if (n == 0) snprintf(why, sizeof why, "%s shrank while it was read", path);
      else fail_at("read", path);
      return -1;
    }
    out_len = (size_t)n;
    if (flush_out() != 0) {
      close(fd);
      return fail_at("write", path);
    }
    done += (uint64_t)n;
  }
  close(fd);
  return pad(size);
}

static int put_entry(const char *path, const char *name, const struct stat *st);

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int put_dir(const char *path, const char *name, const struct stat *st) {
  char dname[PATH_MAX + 2];
  if (snprintf(dname, sizeof dname, "%s/", name) >= (int)sizeof dname) {
    snprintf(why, sizeof why, "name too long: %s", name);
    return -1;
  }
  if (header(dname, st, '5', NULL, 0, path) != 0) return fail_at("write", path);
  DIR *d = opendir(path);
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return 0; // gone meanwhile
    return fail_at("opendir", path);
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *names);
      if (!p) {
        rc = -1;
        break;
      }
      names = p;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = -1;
      break;
    }
    n++;
  }
  closedir(d);
  if (rc != 0) snprintf(why, sizeof why, "out of memory");
  else qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n && rc == 0; i++) {
    char cpath[PATH_MAX], cname[PATH_MAX];
    const char *sep = strcmp(path, "/") == 0 ? "" : "/";
    if (snprintf(cpath, sizeof cpath, "%s%s%s", path, sep, names[i]) >= (int)sizeof cpath || snprintf(cname, sizeof cname, "%s/%s", name, names[i]) >= (int)sizeof cname) {
      snprintf(why, sizeof why, "name too long under %s", path);
      rc = -1;
      break;
    }
    struct stat cst;
    if (lstat(cpath, &cst) != 0) {
      if (errno == ENOENT) continue; // gone meanwhile
      rc = fail_at("lstat", cpath);
      break;
    }
    rc = put_entry(cpath, cname, &cst);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

static int put_entry(const char *path, const char *name, const struct stat *st) {
  if (S_ISDIR(st->st_mode)) return put_dir(path, name, st);
  if (S_ISSOCK(st->st_mode)) return 0; // sockets do not travel in tars
  if (st->st_nlink > 1) {
    const char *first = first_name(st);
    if (first) return header(name, st, '1', first, 0, NULL) == 0 ? 0 : fail_at("write", path);
    if (remember(st, name) != 0) {
      snprintf(why, sizeof why, "out of memory");
      return -1;
    }
  }
  if (S_ISREG(st->st_mode)) return put_file(path, name, st);
  if (S_ISLNK(st->st_mode)) {
    char target[PATH_MAX];
    ssize_t t = readlink(path, target, sizeof target - 1);
    if (t < 0) return fail_at("readlink", path);
    target[t] = '\0';
    return header(name, st, '2', target, 0, path) == 0 ? 0 : fail_at("write", path);
  }
  char type = S_ISCHR(st->st_mode) ? '3' : S_ISBLK(st->st_mode) ? '4' : '6';
  return header(name, st, type, NULL, 0, path) == 0 ? 0 : fail_at("write", path);
}

// ---------------------------------------------------------------------------

int main(int argc, char **argv) {
  struct bind binds[MAX_BINDS];
  size_t nbinds = 0;
  int bad = argc < 4 || (strcmp(argv[1], "stat") != 0 && strcmp(argv[1], "get") != 0) || argv[3][0] != '/';
  for (int i = 4; !bad && i < argc; i += 2) {
    if (strcmp(argv[i], "--idmap") == 0 && i + 1 < argc) {
      idmap.on = 1;
      bad = sscanf(argv[i + 1], "%u:%u:%u", &idmap.uid, &idmap.gid, &idmap.size) != 3;
      continue;
    }
    bad = strcmp(argv[i], "--bind") != 0 || i + 1 >= argc || nbinds == sizeof binds / sizeof binds[0] || bind_parse(argv[i + 1], &binds[nbinds++]) != 0;
  }
  if (bad) {
    fprintf(stderr, "usage: berth-cp stat|get ROOT /PATH [--bind SRC:/DEST]... [--idmap UID:GID:SIZE]\n");
    return 64;
  }
  int get = strcmp(argv[1], "get") == 0;
  FILE *report = stdout;
  if (get && !(report = fdopen(3, "w"))) {
    fprintf(stderr, "fd 3: %s\n", strerror(errno));
    return 64;
  }
  if (bind_all(argv[2], binds, nbinds, why, sizeof why) != 0) return report_failure(report, "internal", why);
  if (chroot(argv[2]) != 0 || chdir("/") != 0) {
    snprintf(why, sizeof why, "chroot %s: %s", argv[2], strerror(errno));
    return report_failure(report, "internal", why);
  }
  const char *p = argv[3];
  if (print_stat(report, p) != 0) {
    int err = errno;
    snprintf(why, sizeof why, "lstat %s: %s", p, strerror(err));
    return report_failure(report, kind_of(err), why);
  }
  if (!get) return 0;
  fclose(report);

  struct stat st;
  char base[NAME_MAX + 1];
  const char *b = go_base(p, base, sizeof base);
  const char *root_name = strcmp(b, "/") == 0 ? "" : b;
  if (lstat(p, &st) != 0) {
    snprintf(why, sizeof why, "lstat %s: %s", p, strerror(errno));
    return report_failure(stderr, "internal", why);
  }
  static const char zeros[1024];
  if (put_entry(p, root_name, &st) != 0 || put(zeros, sizeof zeros) != 0 || flush_out() != 0) {
    if (!why[0]) snprintf(why, sizeof why, "write: %s", strerror(errno));
    return report_failure(stderr, "internal", why);
  }
  return 0;
}
