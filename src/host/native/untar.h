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

// `docker cp` into a container (moby's archive.Untar), instead of a layer:
// names land under prefix, ".wh." names are plain files, a name, hardlink
// or symlink target that climbs out of prefix is refused.
struct untar_copy {
  const char *prefix; // the extraction directory, resolved inside the chroot
  int no_overwrite_dir_non_dir; // refuse to replace a directory with a non-directory, and back
  int chown; // every entry gets uid:gid instead of the tar's
  uint32_t uid, gid;
  // userns-remap: ids (the tar's, or chown's) are a remapped container's,
  // written as host ids base.. (refused past size).
  int idmap;
  uint32_t idmap_uid, idmap_gid, idmap_size;
};

// Reads a tar from fd and applies it to "/" (the caller has chrooted),
// copying every byte read to copy_fd unless it is -1; with cp set, as
// `docker cp` extracts. Returns 0, or -1 with r->message set.
int untar_apply(int fd, int copy_fd, int is_root, const struct untar_copy *cp, struct untar_result *r);
#endif
