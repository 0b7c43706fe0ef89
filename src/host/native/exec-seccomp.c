// The seccomp program of a runc container, as runc 1.1 builds it for every
// process it starts in one (libcontainer/seccomp and its patchbpf): the
// libseccomp filter of the profile, with runc's -ENOSYS stub in front (a
// syscall newer than any the profile names fails with ENOSYS rather than
// the default action, so a libc can fall back). Compiling the profile costs
// milliseconds; the program depends on nothing but the profile and the
// libseccomp version, so it is kept in a cache file named by the profile's
// hash, which also holds the profile's text and is used only if that text
// is the same.
#define _GNU_SOURCE
#include "exec-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// libcontainer's configs.Action and configs.Operator.
enum { A_KILL = 1, A_ERRNO, A_TRAP, A_ALLOW, A_TRACE, A_LOG, A_NOTIFY, A_KILL_THREAD, A_KILL_PROCESS };
enum { OP_EQ = 1, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_MASKED_EQ };

// Go's libseccomp.GetArchFromString, as libseccomp tokens.
static uint32_t arch_token(const char *name) {
  static const struct { const char *go, *lib; } names[] = {
    {"amd64", "x86_64"}, {"x86-64", "x86_64"}, {"x64", "x86_64"}, {"arm64", "aarch64"},
  };
  char lower[32];
  size_t i;
  for (i = 0; name[i] && i < sizeof lower - 1; i++) lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i];
  lower[i] = 0;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(lower, names[i].go) == 0) return seccomp_arch_resolve_name(names[i].lib);
  }
  return seccomp_arch_resolve_name(lower);
}

// runc's archToNative: the AUDIT_ARCH_ value the kernel reports. libseccomp's
// tokens are those values, but for x32, which shares x86_64's.
static uint32_t audit_arch(uint32_t token) {
  return token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
}

static int is_number(json_t *v) {
  return json_is_integer(v);
}

int seccomp_needs_runc(json_t *profile) {
  json_t *arches = json_object_get(profile, "architectures"), *a, *calls = json_object_get(profile, "syscalls"), *c;
  size_t i;
  json_array_foreach(arches, i, a) {
    if (!json_is_string(a) || arch_token(json_string_value(a)) == 0) return 1;
  }
  if (json_integer_value(json_object_get(profile, "default_action")) == A_NOTIFY) return 1;
  json_array_foreach(calls, i, c) {
    if (json_integer_value(json_object_get(c, "action")) == A_NOTIFY) return 1;
  }
  const char *listener = json_string_value(json_object_get(profile, "listenerPath"));
  return listener && *listener;
}

// runc's getAction. 0 on an unknown action.
static int action_of(json_t *act, json_t *errnoRet, uint32_t *out) {
  if (!is_number(act)) return 0;
  switch (json_integer_value(act)) {
  case A_KILL:
  case A_KILL_THREAD: *out = SCMP_ACT_KILL_THREAD; return 1;
  case A_ERRNO: *out = SCMP_ACT_ERRNO(is_number(errnoRet) ? (uint16_t)json_integer_value(errnoRet) : EPERM); return 1;
  case A_TRAP: *out = SCMP_ACT_TRAP; return 1;
  case A_ALLOW: *out = SCMP_ACT_ALLOW; return 1;
  case A_TRACE: *out = SCMP_ACT_TRACE(is_number(errnoRet) ? (uint16_t)json_integer_value(errnoRet) : EPERM); return 1;
  case A_LOG: *out = SCMP_ACT_LOG; return 1;
  case A_NOTIFY: *out = SCMP_ACT_NOTIFY; return 1;
  case A_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 1;
  }
  return 0;
}

static int operator_of(json_int_t op, enum scmp_compare *out) {
  switch (op) {
  case OP_EQ: *out = SCMP_CMP_EQ; return 1;
  case OP_NE: *out = SCMP_CMP_NE; return 1;
  case OP_GT: *out = SCMP_CMP_GT; return 1;
  case OP_GE: *out = SCMP_CMP_GE; return 1;
  case OP_LT: *out = SCMP_CMP_LT; return 1;
  case OP_LE: *out = SCMP_CMP_LE; return 1;
  case OP_MASKED_EQ: *out = SCMP_CMP_MASKED_EQ; return 1;
  }
  return 0;
}

// runc's InitSeccomp up to the export: the filter libseccomp makes.
static int compile_filter(json_t *profile, struct bpf_prog *out, char *err, size_t errlen) {
  uint32_t def, act;
  if (!action_of(json_object_get(profile, "default_action"), json_object_get(profile, "default_errno_ret"), &def)) {
    snprintf(err, errlen, "error initializing seccomp - invalid default action");
    return -1;
  }
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) {
    snprintf(err, errlen, "error creating filter");
    return -1;
  }
  int rc = -1;
  json_t *a, *c;
  size_t i;
  json_array_foreach(json_object_get(profile, "architectures"), i, a) {
    uint32_t tok = arch_token(json_string_value(a));
    if (seccomp_arch_exist(ctx, tok) == 0) continue;
    if (seccomp_arch_add(ctx, tok) != 0) {
      snprintf(err, errlen, "error adding architecture to seccomp filter");
      goto out;
    }
  }
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  json_array_foreach(json_object_get(profile, "syscalls"), i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name || !*name) {
      snprintf(err, errlen, "empty string is not a valid syscall");
      goto out;
    }
    if (!action_of(json_object_get(c, "action"), json_object_get(c, "errnoRet"), &act)) {
      snprintf(err, errlen, "action in seccomp profile is invalid");
      goto out;
    }
    if (act == def) continue;
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue; // unknown here: runc ignores it too
    json_t *args = json_object_get(c, "args");
    size_t nargs = json_array_size(args);
    if (nargs == 0) {
      if (seccomp_rule_add_array(ctx, act, nr, 0, NULL) != 0) {
        snprintf(err, errlen, "error adding seccomp filter rule for syscall %s", name);
        goto out;
      }
      continue;
    }
    struct scmp_arg_cmp conds[16];
    unsigned counts[6] = {0};
    int multiple = 0;
    if (nargs > 16) {
      snprintf(err, errlen, "too many conditions for syscall %s", name);
      goto out;
    }
    for (size_t k = 0; k < nargs; k++) {
      json_t *arg = json_array_get(args, k);
      json_int_t idx = json_integer_value(json_object_get(arg, "index"));
      enum scmp_compare op;
      if (idx < 0 || idx > 5 || !operator_of(json_integer_value(json_object_get(arg, "op")), &op)) {
        snprintf(err, errlen, "error creating seccomp syscall condition for syscall %s", name);
        goto out;
      }
      conds[k] = (struct scmp_arg_cmp){(unsigned)idx, op, (uint64_t)json_integer_value(json_object_get(arg, "value")), (uint64_t)json_integer_value(json_object_get(arg, "value_two"))};
      if (++counts[idx] > 1) multiple = 1;
    }
    // Two conditions on one argument: one rule each, as runc does.
    for (size_t k = 0; k < (multiple ? nargs : 1); k++) {
      if (seccomp_rule_add_array(ctx, act, nr, multiple ? 1 : nargs, multiple ? &conds[k] : conds) != 0) {
        snprintf(err, errlen, "error adding seccomp rule for syscall %s", name);
        goto out;
      }
    }
  }
  int fd = memfd_create("seccomp", MFD_CLOEXEC);
  if (fd < 0 || seccomp_export_bpf(ctx, fd) != 0) {
    snprintf(err, errlen, "error exporting BPF");
    if (fd >= 0) close(fd);
    goto out;
  }
  off_t size = lseek(fd, 0, SEEK_END);
  out->len = size / sizeof(struct sock_filter);
  out->insns = malloc(size ? size : 1);
  if (pread(fd, out->insns, size, 0) != size) {
    snprintf(err, errlen, "error reading the exported BPF");
    close(fd);
    goto out;
  }
  close(fd);
  rc = 0;
out:
  seccomp_release(ctx);
  return rc;
}

// A program built front to back by prepending, as patchbpf does.
struct prog {
  struct sock_filter *v;
  size_t len, cap;
};

static void prepend(struct prog *p, const struct sock_filter *insns, size_t n) {
  if (p->len + n > p->cap) {
    p->cap = (p->len + n) * 2 + 16;
    p->v = realloc(p->v, p->cap * sizeof *p->v);
  }
  memmove(p->v + n, p->v, p->len * sizeof *p->v);
  memcpy(p->v, insns, n * sizeof *insns);
  p->len += n;
}

static void append(struct prog *p, const struct sock_filter *insns, size_t n) {
  if (p->len + n > p->cap) {
    p->cap = (p->len + n) * 2 + 16;
    p->v = realloc(p->v, p->cap * sizeof *p->v);
  }
  memcpy(p->v + p->len, insns, n * sizeof *insns);
  p->len += n;
}

// golang.org/x/net/bpf's encodings of the instructions patchbpf uses.
enum { J_EQ, J_NE, J_GT, J_LE, J_SET, J_NOTSET };
static struct sock_filter ld_abs(uint32_t off) { return (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off); }
static struct sock_filter ja(uint32_t skip) { return (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, skip); }
static struct sock_filter ret(uint32_t v) { return (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, v); }
static struct sock_filter jif(int test, uint32_t k, uint8_t st, uint8_t sf) {
  uint16_t op;
  int flip = 0;
  switch (test) {
  case J_EQ: op = BPF_JEQ; break;
  case J_NE: op = BPF_JEQ; flip = 1; break;
  case J_GT: op = BPF_JGT; break;
  case J_LE: op = BPF_JGT; flip = 1; break;
  case J_SET: op = BPF_JSET; break;
  default: op = BPF_JSET; flip = 1; break;
  }
  return (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, flip ? sf : st, flip ? st : sf);
}

#define RET_ENOSYS SCMP_ACT_ERRNO(ENOSYS)

// What findLastSyscalls gathers: per native arch, the largest syscall number
// the profile names for each libseccomp arch on it.
struct last {
  uint32_t native;
  int n;
  uint32_t arch[2];
  int sysno[2];
};

// patchbpf's generateEnosysStub. runc walks its arch maps in Go's random
// order, so its stub orders the arches differently from run to run; this
// one keeps the profile's order. Each order makes the same decisions.
static int enosys_stub(json_t *profile, struct prog *out, char *err, size_t errlen) {
  struct last lasts[16];
  int nl = 0;
  json_t *a, *c;
  size_t i;
  json_array_foreach(json_object_get(profile, "architectures"), i, a) {
    uint32_t tok = arch_token(json_string_value(a));
    uint32_t native = audit_arch(tok);
    int j;
    for (j = 0; j < nl && lasts[j].native != native; j++) {}
    if (j == nl) {
      if (nl == 16) break;
      lasts[nl++] = (struct last){.native = native};
    }
    struct last *l = &lasts[j];
    int seen = 0;
    for (int k = 0; k < l->n; k++) seen |= l->arch[k] == tok;
    if (seen) continue;
    int largest = 0;
    size_t k;
    json_array_foreach(json_object_get(profile, "syscalls"), k, c) {
      int nr = seccomp_syscall_resolve_name_arch(tok, json_string_value(json_object_get(c, "name")));
      if (nr == __NR_SCMP_ERROR) continue;
      if (nr > largest) largest = nr;
    }
    if (largest == 0) continue;
    if (l->n == 2) {
      snprintf(err, errlen, "invalid number of architecture overlaps");
      return -1;
    }
    l->arch[l->n] = tok;
    l->sysno[l->n++] = largest;
  }
  uint32_t jumpTable[16] = {0};
  struct prog tail = {0};
  struct sock_filter end[] = {ja(1), ret(RET_ENOSYS)};
  append(&tail, end, 2);
  for (int j = 0; j < nl; j++) {
    struct last *l = &lasts[j];
    uint32_t baseEnosys = tail.len - 1, baseFilter = baseEnosys + 1;
    struct prog section = {0};
    struct sock_filter ld = ld_abs(0);
    if (l->n == 0) continue;
    append(&section, &ld, 1);
    if (l->n == 1) {
      if (l->arch[0] == SCMP_ARCH_S390 || l->arch[0] == SCMP_ARCH_S390X) {
        struct sock_filter s390[] = {jif(J_NE, 0, 1, 0), ret(RET_ENOSYS)};
        append(&section, s390, 2);
      }
      struct prog st = {0};
      if (baseEnosys + 1 <= 255) {
        struct sock_filter t[] = {jif(J_GT, l->sysno[0], baseEnosys + 1, 0), ja(baseFilter)};
        append(&st, t, 2);
      } else {
        struct sock_filter t[] = {jif(J_LE, l->sysno[0], 1, 0), ja(baseEnosys + 1), ja(baseFilter)};
        append(&st, t, 3);
      }
      if (l->native == AUDIT_ARCH_X86_64) {
        struct sock_filter x;
        if (l->arch[0] == SCMP_ARCH_X86_64) x = jif(J_SET, 1u << 30, st.len - 1, 0);
        else if (l->arch[0] == SCMP_ARCH_X32) x = jif(J_NOTSET, 1u << 30, st.len - 1, 0);
        else {
          snprintf(err, errlen, "unknown amd64 native architecture %#x", l->arch[0]);
          return -1;
        }
        prepend(&st, &x, 1);
      }
      append(&section, st.v, st.len);
      free(st.v);
    } else {
      int x32 = l->arch[0] == SCMP_ARCH_X32 ? 0 : l->arch[1] == SCMP_ARCH_X32 ? 1 : -1;
      int x86 = l->arch[0] == SCMP_ARCH_X86_64 ? 0 : l->arch[1] == SCMP_ARCH_X86_64 ? 1 : -1;
      if (l->native != AUDIT_ARCH_X86_64 || x32 < 0 || x86 < 0) {
        snprintf(err, errlen, "unknown architecture overlap on native arch %#x", l->native);
        return -1;
      }
      if (baseEnosys + 2 <= 255) {
        struct sock_filter t[] = {
          jif(J_SET, 1u << 30, 1, 0),
          jif(J_GT, l->sysno[x86], baseEnosys + 2, 1),
          jif(J_GT, l->sysno[x32], baseEnosys + 1, 0),
          ja(baseFilter),
        };
        append(&section, t, 4);
      } else {
        struct sock_filter t[] = {
          jif(J_SET, 1u << 30, 1, 0),
          jif(J_GT, l->sysno[x86], 1, 2),
          jif(J_LE, l->sysno[x32], 1, 0),
          ja(baseEnosys + 1),
          ja(baseFilter),
        };
        append(&section, t, 5);
      }
    }
    prepend(&tail, section.v, section.len);
    free(section.v);
    jumpTable[j] = tail.len;
  }
  struct sock_filter skip = ja(tail.len);
  prepend(&tail, &skip, 1);
  for (int j = 0; j < nl; j++) {
    uint32_t jump = tail.len - jumpTable[j];
    if (jump <= 255) {
      struct sock_filter t = jif(J_EQ, lasts[j].native, jump, 0);
      prepend(&tail, &t, 1);
    } else {
      struct sock_filter t[] = {jif(J_NE, lasts[j].native, 1, 0), ja(jump)};
      prepend(&tail, t, 2);
    }
  }
  struct sock_filter arch = ld_abs(4);
  prepend(&tail, &arch, 1);
  *out = tail;
  return 0;
}

static int is_allow(json_int_t act) {
  return act == A_ALLOW || act == A_LOG || act == A_TRACE;
}

// runc's generatePatch then enosysPatchFilter.
static int build(json_t *profile, struct bpf_prog *prog, char *err, size_t errlen) {
  struct bpf_prog filter;
  if (compile_filter(profile, &filter, err, errlen) != 0) return -1;
  struct prog full = {0};
  json_t *defErrno = json_object_get(profile, "default_errno_ret");
  // runc compares the errno with the whole action value, so this never
  // holds; kept as runc has it.
  int skipStub = (is_number(defErrno) && (uint32_t)json_integer_value(defErrno) == RET_ENOSYS) || is_allow(json_integer_value(json_object_get(profile, "default_action")));
  if (!skipStub && enosys_stub(profile, &full, err, errlen) != 0) {
    free(filter.insns);
    return -1;
  }
  append(&full, filter.insns, filter.len);
  free(filter.insns);
  prog->insns = full.v;
  prog->len = full.len;
  return 0;
}

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

#define MAGIC "berth-bpf 1\n"

// A cache file: MAGIC, the key's length (u32), the key, the program.
static int cache_read(const char *file, const char *key, size_t keylen, struct bpf_prog *prog) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  int ok = 0;
  if (fstat(fd, &st) == 0 && (size_t)st.st_size > sizeof MAGIC - 1 + 4 + keylen) {
    char *buf = malloc(st.st_size);
    if (buf && read(fd, buf, st.st_size) == st.st_size) {
      uint32_t n;
      memcpy(&n, buf + sizeof MAGIC - 1, 4);
      size_t head = sizeof MAGIC - 1 + 4 + keylen;
      size_t rest = st.st_size - head;
      if (memcmp(buf, MAGIC, sizeof MAGIC - 1) == 0 && n == keylen && memcmp(buf + sizeof MAGIC - 1 + 4, key, keylen) == 0 && rest % sizeof(struct sock_filter) == 0 && rest > 0) {
        prog->len = rest / sizeof(struct sock_filter);
        prog->insns = malloc(rest);
        memcpy(prog->insns, buf + head, rest);
        ok = 1;
      }
    }
    free(buf);
  }
  close(fd);
  return ok ? 0 : -1;
}

// Written aside and renamed, so a reader sees a whole file or none.
static void cache_write(const char *dir, const char *file, const char *key, size_t keylen, const struct bpf_prog *prog) {
  char tmp[4096];
  mkdir(dir, 0700);
  if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", file) >= (int)sizeof tmp) return;
  int fd = mkstemp(tmp);
  if (fd < 0) return;
  uint32_t n = keylen;
  size_t size = prog->len * sizeof(struct sock_filter);
  int ok = write(fd, MAGIC, sizeof MAGIC - 1) == sizeof MAGIC - 1 && write(fd, &n, 4) == 4 && write(fd, key, keylen) == (ssize_t)keylen && write(fd, prog->insns, size) == (ssize_t)size;
  close(fd);
  if (!ok || rename(tmp, file) != 0) unlink(tmp);
}

int seccomp_program(json_t *profile, const char *cacheDir, struct bpf_prog *prog, char *err, size_t errlen) {
  if (!cacheDir) return build(profile, prog, err, errlen);
  // The key: the profile as canonical JSON and the library that compiles it.
  char *text = json_dumps(profile, JSON_COMPACT | JSON_SORT_KEYS);
  const struct scmp_version *v = seccomp_version();
  char *key = NULL;
  if (!text || asprintf(&key, "libseccomp %u.%u.%u\n%s", v->major, v->minor, v->micro, text) < 0) {
    free(text);
    return build(profile, prog, err, errlen);
  }
  free(text);
  size_t keylen = strlen(key);
  char file[4096];
  snprintf(file, sizeof file, "%s/%016llx.bpf", cacheDir, (unsigned long long)fnv1a(key, keylen));
  int rc = 0;
  if (cache_read(file, key, keylen, prog) != 0) {
    rc = build(profile, prog, err, errlen);
    if (rc == 0) cache_write(cacheDir, file, key, keylen, prog);
  }
  free(key);
  return rc;
}
