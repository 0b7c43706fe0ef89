// berth-untar: applies the layer tar on stdin to DIR, confined to DIR.
//
//   berth-untar DIR [--copy-fd N]
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
#include <unistd.h>

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

int main(int argc, char **argv) {
  int copy_fd = -1;
  char *end = NULL;
  if (argc == 4 && strcmp(argv[2], "--copy-fd") == 0) {
    long n = strtol(argv[3], &end, 10);
    if (argv[3][0] >= '0' && argv[3][0] <= '9' && *end == '\0' && n <= 1 << 20) copy_fd = (int)n;
  }
  if ((argc == 4 && copy_fd < 0) || (argc != 2 && argc != 4) || argv[1][0] == '-') {
    fprintf(stderr, "usage: berth-untar DIR [--copy-fd N]\n");
    return 64;
  }
  // Names are bytes; with a UTF-8 ctype libarchive hands PAX (UTF-8) names
  // over as they are. C.UTF-8 is built into glibc, so nothing is read from
  // disk, and it is set before the chroot anyway.
  setlocale(LC_CTYPE, "C.UTF-8");
  char why[512];
  if (chroot(argv[1]) != 0 || chdir("/") != 0) {
    snprintf(why, sizeof why, "chroot %s: %s", argv[1], strerror(errno));
    return report_failure("internal", why, 1);
  }
  struct untar_result r;
  if (untar_apply(0, copy_fd, geteuid() == 0, &r) != 0) {
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
