// The container's own mounts, bound into a helper's private view of its
// root (berth-cp, berth-untar --cp); see binds.c.
#ifndef BERTH_BINDS_H
#define BERTH_BINDS_H
#include <stddef.h>

// Parses "--bind SRC:DEST" (DEST absolute inside the root) into binds;
// returns 0, or -1 when the value is malformed.
// A container's network files and every volume and bind it mounts.
#define MAX_BINDS 128
struct bind {
  const char *source, *dest;
};
int bind_parse(char *value, struct bind *b);

// Enters a private mount namespace (nothing propagates back to the host)
// and binds each source over its destination inside root. The destination
// is opened with openat2(RESOLVE_IN_ROOT), so a link in the container can
// never point it outside root; one that is missing, or not of the source's
// type, is skipped, as is a source that is gone. Returns 0, or -1 with why
// set.
int bind_all(const char *root, const struct bind *binds, size_t n, char *why, size_t cap);
#endif
