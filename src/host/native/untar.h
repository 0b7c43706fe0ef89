// Layer tar application for the berth-untar helper; see untar.c.
#ifndef BERTH_UNTAR_H
#define BERTH_UNTAR_H
#include <stdint.h>

struct untar_result {
  uint64_t entries, files, dirs, symlinks, hardlinks, devices, whiteouts, opaques, bytes, skipped_xattrs;
  int invalid; // on failure: 1 when the archive is at fault, 0 for the host
  int err; // on failure: errno, or 0
  char message[1024];
};

// Reads a tar from fd and applies it to "/" (the caller has chrooted),
// copying every byte read to copy_fd unless it is -1. Returns 0, or -1 with
// r->message set.
int untar_apply(int fd, int copy_fd, int is_root, struct untar_result *r);
#endif
