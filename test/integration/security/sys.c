/* A probe run inside containers by security.test.ts: makes one system
 * call and prints "ok" or the error (strerror), exit 0 or 1. Built
 * statically by the test, so it needs nothing of the image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long r = -1;
  const char *what = argc > 1 ? argv[1] : "";
  if (!strcmp(what, "keyctl")) {
    r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* the session keyring */, 1);
  } else if (!strcmp(what, "kexec_load")) {
    /* An invalid flag: with the call allowed the kernel answers EINVAL
     * (or EPERM without CAP_SYS_BOOT); it never loads anything. */
    r = syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
  } else if (!strcmp(what, "mount")) {
    r = mount("none", "/dev/shm", "tmpfs", 0, NULL);
  } else if (!strcmp(what, "unshare-user")) {
    r = unshare(CLONE_NEWUSER);
  } else if (!strcmp(what, "unshare-mnt")) {
    r = unshare(CLONE_NEWNS);
  } else if (!strcmp(what, "open") && argc > 2) {
    r = open(argv[2], O_RDONLY);
  } else {
    fprintf(stderr, "usage: sys keyctl|kexec_load|mount|unshare-user|unshare-mnt|open PATH\n");
    return 2;
  }
  if (r < 0) {
    printf("%s\n", strerror(errno));
    return 1;
  }
  printf("ok\n");
  return 0;
}
