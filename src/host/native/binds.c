// See binds.h. Called before the helper chroots into root, so the mount
// sources (host paths the daemon names) are still reachable.
#define _GNU_SOURCE
#include "binds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int bind_parse(char *value, struct bind *b) {
  char *colon = strchr(value, ':');
  if (!colon || colon == value || colon[1] != '/') return -1;
  *colon = '\0';
  b->source = value;
  b->dest = colon + 1;
  return 0;
}

int bind_all(const char *root, const struct bind *binds, size_t n, char *why, size_t cap) {
  if (n == 0) return 0;
  if (unshare(CLONE_NEWNS) != 0) {
    snprintf(why, cap, "unshare: %s", strerror(errno));
    return -1;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
    snprintf(why, cap, "make / a slave: %s", strerror(errno));
    return -1;
  }
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    snprintf(why, cap, "open %s: %s", root, strerror(errno));
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    struct stat src, dst;
    if (stat(binds[i].source, &src) != 0) continue; // gone (a removed network owner)
    struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    int fd = (int)syscall(SYS_openat2, rootfd, binds[i].dest, &how, sizeof how);
    if (fd < 0) continue; // no mount point in the root: nothing to bind over
    if (fstat(fd, &dst) != 0 || (src.st_mode & S_IFMT) != (dst.st_mode & S_IFMT)) {
      close(fd);
      continue;
    }
    char at[64];
    snprintf(at, sizeof at, "/proc/self/fd/%d", fd);
    int rc = mount(binds[i].source, at, NULL, MS_BIND, NULL);
    int err = errno;
    close(fd);
    if (rc != 0) {
      close(rootfd);
      snprintf(why, cap, "bind %s on %s: %s", binds[i].source, binds[i].dest, strerror(err));
      return -1;
    }
  }
  close(rootfd);
  return 0;
}
