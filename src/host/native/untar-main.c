// berth-untar: applies the layer tar on stdin to DIR, confined to DIR.
//
//   berth-untar DIR [--copy-fd N]
//   berth-untar ROOT --cp DEST [--no-overwrite-dir-non-dir] [--chown UID:GID]
//                       [--bind SRC:/DEST]... [--idmap UID:GID:SIZE]
//                       `docker cp` into a container: chrooted into ROOT
//                       (with the container's own mounts bound in),
//                       extracts under DEST (resolved there) as moby's
//                       archive.Untar does; kind "notfound" when DEST is not
//                       there
//
// It chroots into DIR before reading a byte, so the kernel confines every
// path an entry names; with --copy-fd it also writes every byte it reads to
// fd N (the daemon keeps the layer tar without writing it itself). One JSON
// line on stdout says how it went: {"ok":true,"stats":{…}} (exit 0), or
// {"ok":false,"kind":"invalid"|"internal","error":"…"} (exit 2: the archive
// is at fault; 1: the host is). A native program rather than a Node script:
// the helper starts once per layer, and Node's start-up (~50 ms of CPU) sat
// on the critical path while the daemon's writes waited.
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "binds.h"
#include "untar.h"

static void put_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static int report_failure(const char *kind, const char *message, int code) {
  printf("{\"ok\":false,\"kind\":\"%s\",\"error\":", kind);
  put_json_string(message);
  printf("}\n");
  fflush(stdout);
  return code;
}

// Reads fd 0 to its end, so a client whose upload was refused still gets
// to send it all and read the answer.
static void drain(void) {
  char buf[65536];
  ssize_t n;
  do n = read(0, buf, sizeof buf);
  while (n > 0 || (n < 0 && errno == EINTR));
}

static int parse_id(const char *s, uint32_t *out) {
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || end == s || v > 0xfffffffeUL) return -1;
  *out = (uint32_t)v;
  return end - s;
}

static int set_fsids(uid_t uid, gid_t gid, char *why, size_t cap) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[2];
  setfsgid(gid);
  setfsuid(uid);
  if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
    snprintf(why, cap, "setfsuid %u: failed", (unsigned)uid);
    return -1;
  }
  if (syscall(SYS_capget, &h, caps) != 0) {
    snprintf(why, cap, "capget: %s", strerror(errno));
    return -1;
  }
  caps[0].effective = caps[0].permitted;
  caps[1].effective = caps[1].permitted;
  if (syscall(SYS_capset, &h, caps) != 0) {
    snprintf(why, cap, "capset: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: berth-untar DIR [--copy-fd N]\n"
                  "       berth-untar ROOT --cp DEST [--no-overwrite-dir-non-dir] [--chown UID:GID] [--bind SRC:/DEST]... [--idmap UID:GID:SIZE]\n");
}

int main(int argc, char **argv) {
  int copy_fd = -1;
  struct untar_copy cp = { 0 };
  const char *dest = NULL;
  struct bind binds[MAX_BINDS];
  size_t nbinds = 0;
  if (argc < 2 || argv[1][0] == '-') {
    usage();
    return 64;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--copy-fd") == 0 && i + 1 < argc) {
      char *end = NULL;
      long n = strtol(argv[++i], &end, 10);
      if (argv[i][0] < '0' || argv[i][0] > '9' || *end != '\0' || n > 1 << 20) {
        usage();
        return 64;
      }
      copy_fd = (int)n;
    } else if (strcmp(argv[i], "--cp") == 0 && i + 1 < argc) {
      dest = argv[++i];
    } else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc && nbinds < sizeof binds / sizeof binds[0]) {
      if (bind_parse(argv[++i], &binds[nbinds++]) != 0) {
        usage();
        return 64;
      }
    } else if (strcmp(argv[i], "--idmap") == 0 && i + 1 < argc) {
      if (sscanf(argv[++i], "%u:%u:%u", &cp.idmap_uid, &cp.idmap_gid, &cp.idmap_size) != 3) {
        usage();
        return 64;
      }
      cp.idmap = 1;
    } else if (strcmp(argv[i], "--no-overwrite-dir-non-dir") == 0) {
      cp.no_overwrite_dir_non_dir = 1;
    } else if (strcmp(argv[i], "--chown") == 0 && i + 1 < argc) {
      const char *v = argv[++i];
      int n = parse_id(v, &cp.uid);
      if (n < 0 || v[n] != ':' || parse_id(v + n + 1, &cp.gid) < 0 || strchr(v + n + 1, ':')) {
        usage();
        return 64;
      }
      cp.chown = 1;
    } else {
      usage();
      return 64;
    }
  }
  if (!dest && (cp.no_overwrite_dir_non_dir || cp.chown || nbinds || cp.idmap)) {
    usage();
    return 64;
  }
  // Names are bytes; with a UTF-8 ctype libarchive hands PAX (UTF-8) names
  // over as they are. C.UTF-8 is built into glibc, so nothing is read from
  // disk, and it is set before the chroot anyway.
  setlocale(LC_CTYPE, "C.UTF-8");
  char why[PATH_MAX + 128];
  if (bind_all(argv[1], binds, nbinds, why, sizeof why) != 0) {
    drain();
    return report_failure("internal", why, 1);
  }
  if (chroot(argv[1]) != 0 || chdir("/") != 0) {
    snprintf(why, sizeof why, "chroot %s: %s", argv[1], strerror(errno));
    if (dest) drain();
    return report_failure("internal", why, 1);
  }
  // A remapped container's root: its overlay takes new files' owners from
  // the creator's filesystem ids, and host root's are unmapped there
  // (EOVERFLOW). Those of the range's root instead, capabilities kept
  // (a non-zero fsuid drops the filesystem ones from the effective set).
  if (cp.idmap && set_fsids(cp.idmap_uid, cp.idmap_gid, why, sizeof why) != 0) {
    drain();
    return report_failure("internal", why, 1);
  }
  char resolved[PATH_MAX];
  if (dest) {
    // Inside the chroot, so every link on the way resolves inside ROOT;
    // the last one too (a link to a directory is that directory).
    struct stat st;
    if (!realpath(dest, resolved) || stat(resolved, &st) != 0) {
      int err = errno;
      drain();
      snprintf(why, sizeof why, "%s: %s", dest, strerror(err));
      return report_failure(err == ENOENT ? "notfound" : "invalid", why, 2);
    }
    if (!S_ISDIR(st.st_mode)) {
      drain();
      return report_failure("invalid", "extraction point is not a directory", 2);
    }
    cp.prefix = resolved;
  }
  struct untar_result r;
  if (untar_apply(0, copy_fd, geteuid() == 0, dest ? &cp : NULL, &r) != 0) {
    return r.invalid ? report_failure("invalid", r.message, 2) : report_failure("internal", r.message, 1);
  }
  printf("{\"ok\":true,\"stats\":{\"entries\":%llu,\"files\":%llu,\"dirs\":%llu,\"symlinks\":%llu,\"hardlinks\":%llu,"
         "\"devices\":%llu,\"whiteouts\":%llu,\"opaques\":%llu,\"bytes\":%llu,\"skippedXattrs\":%llu}}\n",
         (unsigned long long)r.entries, (unsigned long long)r.files, (unsigned long long)r.dirs,
         (unsigned long long)r.symlinks, (unsigned long long)r.hardlinks, (unsigned long long)r.devices,
         (unsigned long long)r.whiteouts, (unsigned long long)r.opaques, (unsigned long long)r.bytes,
         (unsigned long long)r.skipped_xattrs);
  return fflush(stdout) == 0 ? 0 : 1;
}
