// Applies a layer tar to "/" of a process that has already chrooted into the
// layer directory (the berth-untar helper). libarchive parses the tar; the
// entries are applied here with plain syscalls, each tried first and repaired
// only on EEXIST/ENOENT, as GNU tar does, because inode syscalls are the
// whole cost of unpacking. The chroot confines every path, so ".." and
// symlinks in names can only ever reach the layer's own tree.
//
// Semantics (Docker's, for one layer applied to an empty directory):
// - an entry replaces whatever is at its path (a directory with its tree;
//   a symlink is removed, never followed); a directory over a directory
//   merges;
// - missing parents are created 0755, root-owned;
// - ".wh.NAME" leaves an overlayfs whiteout (char 0/0) at NAME, and
//   ".wh..wh..opq" marks its directory opaque (trusted.overlay.opaque=y);
//   other ".wh..wh." names are ignored;
// - only user.* and security.capability xattrs are kept;
// - directory times are set last, deepest first.
#define _GNU_SOURCE
#include "untar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

struct dirtime {
  char *path;
  struct timespec ts[2];
};

struct applier {
  struct archive *a;
  struct untar_result *r;
  const struct untar_copy *cp; // NULL: a layer
  int is_root;
  const char *entry; // the raw name, for messages
  struct dirtime *dirs;
  size_t ndirs, capdirs;
};

// errnos a hostile or broken entry can cause: the archive's fault, not the host's.
static int hostile_errno(int err) {
  switch (err) {
    case ENOENT: case ENOTDIR: case EEXIST: case EISDIR: case ELOOP: case ENAMETOOLONG:
    case EPERM: case EINVAL: case ENOTEMPTY: case EMLINK: case E2BIG: case ERANGE: case EXDEV:
      return 1;
    default:
      return 0;
  }
}

static int fail(struct applier *ap, int invalid, int err, const char *fmt, ...) {
  struct untar_result *r = ap->r;
  char what[640];
  va_list va;
  va_start(va, fmt);
  vsnprintf(what, sizeof what, fmt, va);
  va_end(va);
  r->invalid = invalid;
  r->err = err;
  if (ap->entry) snprintf(r->message, sizeof r->message, "entry \"%.300s\": %s", ap->entry, what);
  else snprintf(r->message, sizeof r->message, "%s", what);
  return -1;
}

// A failed syscall on path p.
static int fail_sys(struct applier *ap, const char *call, const char *p) {
  int err = errno;
  return fail(ap, hostile_errno(err), err, "%s %s: %s", call, p, strerror(err));
}

// A clean absolute path: leading "/" and "./", "//" and "." go away and ".."
// is resolved lexically ("../../etc/x" names "/etc/x" in the layer). When
// a relative name climbs above its start, *escaped is set (if given).
static int normalize(const char *name, char *out, size_t cap, int *escaped) {
  size_t n = 0;
  out[n++] = '/';
  const char *s = name;
  while (*s) {
    while (*s == '/') s++;
    if (!*s) break;
    const char *e = s;
    while (*e && *e != '/') e++;
    size_t len = (size_t)(e - s);
    if (len == 1 && s[0] == '.') {
      // nothing
    } else if (len == 2 && s[0] == '.' && s[1] == '.') {
      if (n == 1 && escaped && name[0] != '/') *escaped = 1;
      while (n > 1 && out[n - 1] != '/') n--;
      if (n > 1) n--; // the slash before the dropped component
    } else {
      if (n > 1) out[n++] = '/';
      if (n + len + 1 >= cap) return -1;
      memcpy(out + n, s, len);
      n += len;
    }
    s = e;
  }
  out[n] = '\0';
  return 0;
}

static const char *base_of(const char *p) {
  const char *b = strrchr(p, '/');
  return b ? b + 1 : p;
}

// mkdir -p of p's parent, 0755 (umask is 0).
static int make_parents(struct applier *ap, const char *p) {
  char buf[PATH_MAX];
  size_t len = strlen(p);
  if (len >= sizeof buf) return fail(ap, 1, ENAMETOOLONG, "name too long");
  memcpy(buf, p, len + 1);
  char *slash = strrchr(buf, '/');
  if (!slash || slash == buf) return 0;
  *slash = '\0';
  for (char *c = buf + 1;; c++) {
    if (*c == '/' || *c == '\0') {
      char saved = *c;
      *c = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return fail_sys(ap, "mkdir", buf);
      *c = saved;
      if (saved == '\0') break;
    }
  }
  return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

// Makes room at p: whatever is there goes (a directory with its whole
// tree), and missing parents are created.
static int clear(struct applier *ap, const char *p) {
  struct stat st;
  if (strcmp(p, "/") == 0) return fail(ap, 1, EINVAL, "entry replaces the layer root");
  if (lstat(p, &st) != 0) {
    if (errno == ENOENT) return make_parents(ap, p);
    return fail_sys(ap, "lstat", p);
  }
  if (S_ISDIR(st.st_mode)) {
    if (nftw(p, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) return fail_sys(ap, "remove", p);
  } else if (unlink(p) != 0) {
    return fail_sys(ap, "unlink", p);
  }
  return 0;
}

// After a create call failed with errno: repairs what it can (something in
// the way, a missing parent) and says whether to try once more.
static int repair(struct applier *ap, const char *call, const char *p, int *tried) {
  int err = errno;
  if (*tried || (err != EEXIST && err != ENOENT)) {
    errno = err;
    return fail_sys(ap, call, p);
  }
  *tried = 1;
  return err == EEXIST ? clear(ap, p) : make_parents(ap, p);
}

static int xattr_allowed(const char *name) {
  return (strncmp(name, "user.", 5) == 0 && name[5] != '\0') || strcmp(name, "security.capability") == 0;
}

// fd >= 0: set on the open file; else on p, not following a symlink.
static int set_xattrs(struct applier *ap, struct archive_entry *e, const char *p, int fd) {
  const char *name;
  const void *value;
  size_t size;
  if (archive_entry_xattr_reset(e) == 0) return 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (!xattr_allowed(name)) {
      ap->r->skipped_xattrs++;
      continue;
    }
    int rc = fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(p, name, value, size, 0);
    if (rc != 0) {
      // Like Docker: filesystems without xattrs, and user.* on symlinks.
      if (errno == ENOTSUP || errno == EPERM) ap->r->skipped_xattrs++;
      else return fail_sys(ap, "setxattr", p);
    }
  }
  return 0;
}

struct meta {
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec ts[2]; // atime, mtime
};

static int meta_of(struct applier *ap, struct archive_entry *e, struct meta *m) {
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || uid > 0xfffffffeLL) return fail(ap, 1, EINVAL, "bad uid %lld", (long long)uid);
  if (gid < 0 || gid > 0xfffffffeLL) return fail(ap, 1, EINVAL, "bad gid %lld", (long long)gid);
  m->uid = (uid_t)uid;
  m->gid = (gid_t)gid;
  m->mode = archive_entry_mode(e) & 07777;
  m->ts[1].tv_sec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
  m->ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
  if (archive_entry_atime_is_set(e)) {
    m->ts[0].tv_sec = archive_entry_atime(e);
    m->ts[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    m->ts[0] = m->ts[1];
  }
  return 0;
}

// chown before chmod (chown clears setuid/setgid) and before xattrs (chown
// drops security.capability).
static int finish_node(struct applier *ap, struct archive_entry *e, const char *p, const struct meta *m, int chmod_it, int times) {
  if (lchown(p, m->uid, m->gid) != 0) return fail_sys(ap, "lchown", p);
  if (chmod_it && chmod(p, m->mode) != 0) return fail_sys(ap, "chmod", p);
  if (set_xattrs(ap, e, p, -1) != 0) return -1;
  if (times && utimensat(AT_FDCWD, p, m->ts, AT_SYMLINK_NOFOLLOW) != 0) return fail_sys(ap, "utimensat", p);
  return 0;
}

static int apply_file(struct applier *ap, struct archive_entry *e, const char *p, const struct meta *m) {
  int fd, tried = 0;
  // O_EXCL|O_NOFOLLOW: never write into something that was already there
  // (a device node, a FIFO, a symlink). Created with its final mode.
  while ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m->mode)) < 0) {
    if (repair(ap, "open", p, &tried) != 0) return -1;
  }
  const void *buf;
  size_t size;
  la_int64_t offset, at = 0;
  int rc;
  while ((rc = archive_read_data_block(ap->a, &buf, &size, &offset)) == ARCHIVE_OK) {
    if (offset != at) {
      close(fd);
      return fail(ap, 1, EINVAL, "file data out of order");
    }
    for (size_t done = 0; done < size;) {
      ssize_t w = write(fd, (const char *)buf + done, size - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        close(fd);
        errno = err;
        return fail_sys(ap, "write", p);
      }
      done += (size_t)w;
    }
    at += (la_int64_t)size;
    ap->r->bytes += size;
  }
  if (rc != ARCHIVE_EOF) {
    close(fd);
    return fail(ap, 1, EINVAL, "malformed tar: %s", archive_error_string(ap->a) ?: "short file data");
  }
  // Root-owned files need neither: the process is root and umask is 0.
  if (m->uid != 0 || m->gid != 0 || !ap->is_root) {
    if (fchown(fd, m->uid, m->gid) != 0 || fchmod(fd, m->mode) != 0) {
      int err = errno;
      close(fd);
      errno = err;
      return fail_sys(ap, "fchown", p);
    }
  }
  if (set_xattrs(ap, e, p, fd) != 0 || futimens(fd, m->ts) != 0) {
    int err = errno;
    close(fd);
    if (ap->r->message[0]) return -1;
    errno = err;
    return fail_sys(ap, "futimens", p);
  }
  if (close(fd) != 0) return fail_sys(ap, "close", p);
  ap->r->files++;
  return 0;
}

static int apply_dir(struct applier *ap, struct archive_entry *e, const char *p, const struct meta *m) {
  int tried = 0;
  while (mkdir(p, 0700) != 0) {
    if (errno == EEXIST) {
      struct stat st;
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) break; // directories merge
      errno = EEXIST;
    }
    if (repair(ap, "mkdir", p, &tried) != 0) return -1;
  }
  if (finish_node(ap, e, p, m, 1, 0) != 0) return -1;
  if (ap->ndirs == ap->capdirs) {
    size_t cap = ap->capdirs ? ap->capdirs * 2 : 256;
    struct dirtime *d = realloc(ap->dirs, cap * sizeof *d);
    if (!d) return fail(ap, 0, ENOMEM, "out of memory");
    ap->dirs = d;
    ap->capdirs = cap;
  }
  char *copy = strdup(p);
  if (!copy) return fail(ap, 0, ENOMEM, "out of memory");
  ap->dirs[ap->ndirs].path = copy;
  memcpy(ap->dirs[ap->ndirs].ts, m->ts, sizeof m->ts);
  ap->ndirs++;
  ap->r->dirs++;
  return 0;
}

static int apply_symlink(struct applier *ap, struct archive_entry *e, const char *p, const struct meta *m) {
  const char *target = archive_entry_symlink(e);
  int tried = 0;
  if (!target || !*target) return fail(ap, 1, EINVAL, "symlink with an empty or invalid target");
  if (ap->cp) {
    // moby refuses a link whose target, taken from its directory, climbs
    // out of the extraction directory (the chroot confines it anyway).
    char joined[PATH_MAX], clean[PATH_MAX];
    const char *rel = p + strlen(ap->cp->prefix);
    const char *slash = strrchr(rel, '/');
    int len = slash ? (int)(slash - rel) : 0;
    int escaped = 0;
    if (snprintf(joined, sizeof joined, "./%.*s/%s", len, rel, target) >= (int)sizeof joined) return fail(ap, 1, ENAMETOOLONG, "symlink target too long");
    if (normalize(joined, clean, sizeof clean, &escaped) != 0) return fail(ap, 1, ENAMETOOLONG, "symlink target too long");
    if (escaped) return fail(ap, 1, EINVAL, "invalid symlink \"%.300s\" -> \"%.300s\": outside of the extraction directory", rel, target);
  }
  while (symlink(target, p) != 0) {
    if (repair(ap, "symlink", p, &tried) != 0) return -1;
  }
  if (finish_node(ap, e, p, m, 0, 1) != 0) return -1;
  ap->r->symlinks++;
  return 0;
}

static int apply_hardlink(struct applier *ap, const char *linkname, const char *p) {
  char target[PATH_MAX];
  int tried = 0, escaped = 0;
  if (normalize(linkname, target, sizeof target, ap->cp ? &escaped : NULL) != 0) return fail(ap, 1, ENAMETOOLONG, "hardlink target too long");
  if (escaped) return fail(ap, 1, EINVAL, "invalid hardlink \"%.300s\": outside of the extraction directory", linkname);
  if (ap->cp && strcmp(ap->cp->prefix, "/") != 0) {
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s%s", ap->cp->prefix, target) >= (int)sizeof full) return fail(ap, 1, ENAMETOOLONG, "hardlink target too long");
    strcpy(target, full);
  }
  if (strcmp(target, "/") == 0 || strcmp(target, p) == 0) return fail(ap, 1, EINVAL, "bad hardlink target \"%.300s\"", linkname);
  // link(2) does not follow a symlink target; the chroot confines the rest.
  while (linkat(AT_FDCWD, target, AT_FDCWD, p, 0) != 0) {
    if (repair(ap, "link", p, &tried) != 0) return -1;
  }
  ap->r->hardlinks++;
  return 0;
}

static int apply_node(struct applier *ap, struct archive_entry *e, const char *p, const struct meta *m, mode_t kind) {
  dev_t dev = kind == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  int tried = 0;
  while (mknod(p, kind | m->mode, dev) != 0) {
    if (repair(ap, "mknod", p, &tried) != 0) return -1;
  }
  if (finish_node(ap, e, p, m, 1, 1) != 0) return -1;
  ap->r->devices++;
  return 0;
}

static int apply_whiteout(struct applier *ap, struct archive_entry *e, const char *target) {
  struct meta m;
  if (meta_of(ap, e, &m) != 0 || clear(ap, target) != 0) return -1;
  if (mknod(target, S_IFCHR, makedev(0, 0)) != 0) return fail_sys(ap, "mknod", target);
  if (lchown(target, m.uid, m.gid) != 0) return fail_sys(ap, "lchown", target);
  // The entry's time, not "now": packing this layer again is then reproducible.
  if (utimensat(AT_FDCWD, target, m.ts, AT_SYMLINK_NOFOLLOW) != 0) return fail_sys(ap, "utimensat", target);
  ap->r->whiteouts++;
  return 0;
}

static int apply_opaque(struct applier *ap, const char *dir) {
  struct stat st;
  if (lstat(dir, &st) != 0) {
    if (errno != ENOENT) return fail_sys(ap, "lstat", dir);
    char child[PATH_MAX];
    if (snprintf(child, sizeof child, "%s/x", dir) >= (int)sizeof child) return fail(ap, 1, ENAMETOOLONG, "name too long");
    if (make_parents(ap, child) != 0) return -1;
  } else if (!S_ISDIR(st.st_mode)) {
    return fail(ap, 1, ENOTDIR, "opaque marker in non-directory %s", dir);
  }
  if (lsetxattr(dir, OPAQUE_XATTR, "y", 1, 0) != 0) return fail_sys(ap, "setxattr", dir);
  ap->r->opaques++;
  return 0;
}

// moby's NoOverwriteDirNonDir: a directory stays a directory and a
// non-directory stays one.
static int check_overwrite(struct applier *ap, const char *p, int is_dir) {
  struct stat st;
  if (lstat(p, &st) != 0) return 0;
  if (S_ISDIR(st.st_mode) && !is_dir) return fail(ap, 1, EEXIST, "cannot overwrite directory \"%s\" with non-directory", p);
  if (!S_ISDIR(st.st_mode) && is_dir) return fail(ap, 1, EEXIST, "cannot overwrite non-directory \"%s\" with directory", p);
  return 0;
}

// A cp entry's path: under the prefix; "." (the directory itself) is
// skipped when it is a directory, and refused otherwise.
static int copy_path(struct applier *ap, struct archive_entry *e, const char *name, char *p, size_t cap, int *skip) {
  char rel[PATH_MAX];
  int escaped = 0;
  *skip = 0;
  if (normalize(name, rel, sizeof rel, &escaped) != 0) return fail(ap, 1, ENAMETOOLONG, "name too long");
  if (escaped) return fail(ap, 1, EINVAL, "\"%.300s\" is outside of the extraction directory", name);
  if (strcmp(rel, "/") == 0) {
    if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e)) {
      *skip = 1;
      return 0;
    }
    return fail(ap, 1, EINVAL, "entry replaces the extraction directory");
  }
  const char *prefix = strcmp(ap->cp->prefix, "/") == 0 ? "" : ap->cp->prefix;
  if (snprintf(p, cap, "%s%s", prefix, rel) >= (int)cap) return fail(ap, 1, ENAMETOOLONG, "name too long");
  if (ap->cp->no_overwrite_dir_non_dir && check_overwrite(ap, p, archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e)) != 0) return -1;
  return 0;
}

static int apply_entry(struct applier *ap, struct archive_entry *e) {
  char p[PATH_MAX];
  struct meta m;
  const char *name = archive_entry_pathname(e);
  ap->entry = name ? name : "";
  if (!name) return fail(ap, 1, EINVAL, "entry without a name");
  if (archive_entry_sparse_count(e) > 0) return fail(ap, 1, EINVAL, "sparse files are not supported");
  if (ap->cp) {
    int skip;
    if (copy_path(ap, e, name, p, sizeof p, &skip) != 0) return -1;
    if (skip) return 0;
  } else if (normalize(name, p, sizeof p, NULL) != 0) {
    return fail(ap, 1, ENAMETOOLONG, "name too long");
  }

  const char *base = base_of(p);
  if (!ap->cp && strncmp(base, WH_PREFIX, 4) == 0) {
    if (strcmp(base, WH_OPAQUE) == 0) {
      char dir[PATH_MAX];
      size_t n = (size_t)(base - p) - 1; // without the slash before base
      if (n == 0) n = 1; // the root
      memcpy(dir, p, n);
      dir[n] = '\0';
      return apply_opaque(ap, dir);
    }
    if (strncmp(base, WH_META, strlen(WH_META)) == 0) return 0; // aufs bookkeeping
    const char *hidden = base + 4;
    // ".wh." alone or ".wh.." would name the directory itself or its parent.
    if (!*hidden || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0) return fail(ap, 1, EINVAL, "invalid whiteout name \"%s\"", p);
    char target[PATH_MAX];
    memcpy(target, p, (size_t)(base - p));
    strcpy(target + (base - p), hidden);
    return apply_whiteout(ap, e, target);
  }

  if (meta_of(ap, e, &m) != 0) return -1;
  if (ap->cp && ap->cp->chown) {
    m.uid = ap->cp->uid;
    m.gid = ap->cp->gid;
  }
  if (ap->cp && ap->cp->idmap) {
    // moby's idtools.ToHost words.
    if (m.uid >= ap->cp->idmap_size) return fail(ap, 1, EINVAL, "Container ID %u cannot be mapped to a host ID", (unsigned)m.uid);
    if (m.gid >= ap->cp->idmap_size) return fail(ap, 1, EINVAL, "Container ID %u cannot be mapped to a host ID", (unsigned)m.gid);
    m.uid += ap->cp->idmap_uid;
    m.gid += ap->cp->idmap_gid;
  }
  const char *link = archive_entry_hardlink(e);
  if (link) return apply_hardlink(ap, link, p);
  switch (archive_entry_filetype(e)) {
    case AE_IFREG: return apply_file(ap, e, p, &m);
    case AE_IFDIR: return apply_dir(ap, e, p, &m);
    case AE_IFLNK: return apply_symlink(ap, e, p, &m);
    case AE_IFCHR: return apply_node(ap, e, p, &m, S_IFCHR);
    case AE_IFBLK: return apply_node(ap, e, p, &m, S_IFBLK);
    case AE_IFIFO: return apply_node(ap, e, p, &m, S_IFIFO);
    default: return fail(ap, 1, EINVAL, "unsupported entry type");
  }
}

static int finish_dirs(struct applier *ap) {
  ap->entry = NULL;
  for (size_t i = ap->ndirs; i-- > 0;) {
    struct stat st;
    const char *p = ap->dirs[i].path;
    // A later entry may have replaced the directory.
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && utimensat(AT_FDCWD, p, ap->dirs[i].ts, AT_SYMLINK_NOFOLLOW) != 0) return fail_sys(ap, "utimensat", p);
  }
  return 0;
}

// The tar's bytes, read from fd and, when copy_fd >= 0, copied there as
// read (the daemon keeps the layer tar without writing it itself).
struct source {
  int fd, copy_fd;
  char *buf;
  size_t cap;
  off_t copied, kicked;
  int err; // a failed copy: the host's fault, not the archive's
};

static int copy_out(struct source *s, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t w = write(s->copy_fd, s->buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      s->err = errno;
      return -1;
    }
    done += (size_t)w;
  }
  s->copied += (off_t)n;
  // Start writeback as we go, so the daemon's final fdatasync is short.
  if (s->copied - s->kicked >= (8 << 20)) {
    sync_file_range(s->copy_fd, s->kicked, s->copied - s->kicked, SYNC_FILE_RANGE_WRITE);
    s->kicked = s->copied;
  }
  return 0;
}

static ssize_t source_read(struct source *s) {
  ssize_t n;
  do n = read(s->fd, s->buf, s->cap);
  while (n < 0 && errno == EINTR);
  if (n > 0 && s->copy_fd >= 0 && copy_out(s, (size_t)n) != 0) return -1;
  return n;
}

static la_ssize_t on_read(struct archive *a, void *data, const void **buf) {
  struct source *s = data;
  ssize_t n = source_read(s);
  if (n < 0) archive_set_error(a, s->err ? s->err : errno, "%s", s->err ? "copying the layer" : "reading the layer");
  *buf = s->buf;
  return n;
}

int untar_apply(int fd, int copy_fd, int is_root, const struct untar_copy *cp, struct untar_result *r) {
  struct applier ap = { .r = r, .cp = cp, .is_root = is_root };
  int rc = 0;
  memset(r, 0, sizeof *r);
  umask(0); // modes come from the archive
  // A 1 MiB pipe (from 64 KiB) lets the daemon write ahead while an entry's
  // syscalls run; not a pipe, or not allowed: no matter.
  fcntl(fd, F_SETPIPE_SZ, 1 << 20);
  ap.a = archive_read_new();
  if (!ap.a) return fail(&ap, 0, ENOMEM, "out of memory");
  archive_read_support_format_tar(ap.a);
  archive_read_support_format_empty(ap.a);
  archive_read_support_filter_none(ap.a);
  struct source src = { .fd = fd, .copy_fd = copy_fd, .cap = 1 << 20 };
  src.buf = malloc(src.cap);
  if (!src.buf) {
    archive_read_free(ap.a);
    return fail(&ap, 0, ENOMEM, "out of memory");
  }
  if (archive_read_open(ap.a, &src, NULL, on_read, NULL) != ARCHIVE_OK) {
    rc = fail(&ap, 1, EINVAL, "malformed tar: %s", archive_error_string(ap.a) ?: "cannot read");
  }
  while (rc == 0) {
    struct archive_entry *e;
    int h = archive_read_next_header(ap.a, &e);
    if (h == ARCHIVE_EOF) break;
    if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
      ap.entry = NULL;
      rc = fail(&ap, 1, archive_errno(ap.a), "malformed tar: %s", archive_error_string(ap.a) ?: "bad header");
      break;
    }
    r->entries++;
    rc = apply_entry(&ap, e);
  }
  if (rc == 0) rc = finish_dirs(&ap);
  if (rc == 0 || (copy_fd >= 0 && !src.err) || cp) {
    // Read (and copy) what follows the end-of-archive blocks, or the bad
    // entry: the writer never sees EPIPE, and the copy is the whole stream
    // even when applying failed.
    ssize_t n;
    while ((n = source_read(&src)) > 0);
    if (n < 0 && rc == 0) rc = fail(&ap, src.err ? 0 : 1, src.err ? src.err : errno, "reading after the archive: %s", strerror(src.err ? src.err : errno));
  }
  if (rc != 0 && src.err) {
    r->invalid = 0;
    r->err = src.err;
    snprintf(r->message, sizeof r->message, "keeping a copy of the layer: %s", strerror(src.err));
  }
  archive_read_free(ap.a);
  free(src.buf);
  for (size_t i = 0; i < ap.ndirs; i++) free(ap.dirs[i].path);
  free(ap.dirs);
  return rc;
}
