// The few syscalls Node lacks. Each function is synchronous and throws an
// Error carrying `errno` and `syscall`; src/host/linux.ts adds the code name.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_ARG 4096

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_value msg, error, code, sc;
  char buf[512];
  snprintf(buf, sizeof buf, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_int32(env, err, &code);
  napi_set_named_property(env, error, "errno", code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "not enough arguments");
    return -1;
  }
  return 0;
}

// Copies a string argument; an empty string or null/undefined gives NULL.
static int get_str(napi_env env, napi_value v, char *buf, size_t len, char **out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) { *out = NULL; return 0; }
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string");
    return -1;
  }
  if (n >= len - 1) {
    napi_throw_range_error(env, NULL, "string argument too long");
    return -1;
  }
  *out = buf;
  return 0;
}

static int64_t get_i64(napi_env env, napi_value v) {
  int64_t x = 0;
  napi_get_value_int64(env, v, &x);
  return x;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// mount(source, target, fstype, flags, data)
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv)) return NULL;
  static char src[MAX_ARG], tgt[MAX_ARG], fst[256], data[MAX_ARG];
  char *s, *t, *f, *d;
  if (get_str(env, argv[0], src, sizeof src, &s) || get_str(env, argv[1], tgt, sizeof tgt, &t) ||
      get_str(env, argv[2], fst, sizeof fst, &f) || get_str(env, argv[4], data, sizeof data, &d))
    return NULL;
  unsigned long flags = (unsigned long)get_i64(env, argv[3]);
  if (mount(s, t, f, flags, d) != 0) return throw_errno(env, "mount", errno);
  return undefined(env);
}

// mountAs(fsuid, fsgid, source, target, fstype, flags, data): a mount made
// with the calling thread's filesystem ids set to (fsuid, fsgid) and its
// capabilities kept. overlayfs does its own work in the upper and work
// dirs with its mounter's credentials: on layers seen through an idmapped
// mount (userns-remap), those ids must be mapped ones. Per thread; the ids
// and capabilities are restored before it returns.
static napi_value js_mount_as(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (get_args(env, info, 7, argv)) return NULL;
  static char src[MAX_ARG], tgt[MAX_ARG], fst[256], data[MAX_ARG];
  char *s, *t, *f, *d;
  if (get_str(env, argv[2], src, sizeof src, &s) || get_str(env, argv[3], tgt, sizeof tgt, &t) ||
      get_str(env, argv[4], fst, sizeof fst, &f) || get_str(env, argv[6], data, sizeof data, &d))
    return NULL;
  uid_t fsuid = (uid_t)get_i64(env, argv[0]);
  gid_t fsgid = (gid_t)get_i64(env, argv[1]);
  unsigned long flags = (unsigned long)get_i64(env, argv[5]);
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct saved[2], caps[2];
  if (syscall(SYS_capget, &h, saved) != 0) return throw_errno(env, "capget", errno);
  uid_t old_uid = (uid_t)setfsuid((uid_t)-1);
  gid_t old_gid = (gid_t)setfsgid((gid_t)-1);
  setfsgid(fsgid);
  setfsuid(fsuid);
  // A non-zero fsuid drops the filesystem capabilities from the effective set.
  memcpy(caps, saved, sizeof caps);
  caps[0].effective = caps[0].permitted;
  caps[1].effective = caps[1].permitted;
  int err = 0;
  if (syscall(SYS_capset, &h, caps) != 0) err = errno;
  else if (mount(s, t, f, flags, d) != 0) err = errno;
  setfsuid(old_uid);
  setfsgid(old_gid);
  syscall(SYS_capset, &h, saved);
  if (err) return throw_errno(env, "mount", err);
  return undefined(env);
}

// mkdirAs(fsuid, fsgid, path, mode): `mkdir -p path` with the calling
// thread's filesystem ids set as mountAs does: in a remapped container's
// root (idmapped layers) a directory host root makes has an unmapped owner
// (EOVERFLOW); one the remapped root makes is root's on disk.
static napi_value js_mkdir_as(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (get_args(env, info, 4, argv)) return NULL;
  static char p[MAX_ARG];
  char *ps;
  if (get_str(env, argv[2], p, sizeof p, &ps)) return NULL;
  if (!ps || ps[0] != '/') return throw_errno(env, "mkdir", EINVAL);
  uid_t fsuid = (uid_t)get_i64(env, argv[0]);
  gid_t fsgid = (gid_t)get_i64(env, argv[1]);
  mode_t mode = (mode_t)get_i64(env, argv[3]);
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct saved[2], caps[2];
  if (syscall(SYS_capget, &h, saved) != 0) return throw_errno(env, "capget", errno);
  uid_t old_uid = (uid_t)setfsuid((uid_t)-1);
  gid_t old_gid = (gid_t)setfsgid((gid_t)-1);
  setfsgid(fsgid);
  setfsuid(fsuid);
  memcpy(caps, saved, sizeof caps);
  caps[0].effective = caps[0].permitted;
  caps[1].effective = caps[1].permitted;
  int err = 0;
  if (syscall(SYS_capset, &h, caps) != 0) err = errno;
  for (char *c = ps + 1; !err; c++) {
    if (*c != '/' && *c != '\0') continue;
    char saved_c = *c;
    *c = '\0';
    if (mkdir(ps, mode) != 0 && errno != EEXIST) err = errno;
    *c = saved_c;
    if (saved_c == '\0') break;
  }
  setfsuid(old_uid);
  setfsgid(old_gid);
  syscall(SYS_capset, &h, saved);
  if (err) return throw_errno(env, "mkdir", err);
  return undefined(env);
}

static int idmap_child(void *arg) {
  (void)arg;
  pause();
  return 0;
}

// idmapMount(source, target, hostUid, hostGid, size): an idmapped bind of
// source at target, ids 0..size-1 on disk seen as hostUid.., hostGid.. (and
// written back as 0..). The user namespace that carries the mapping is a
// child's, made for it and gone once the mount holds it.
static napi_value js_idmap_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv)) return NULL;
  static char src[MAX_ARG], tgt[MAX_ARG];
  char *s, *t;
  if (get_str(env, argv[0], src, sizeof src, &s) || get_str(env, argv[1], tgt, sizeof tgt, &t)) return NULL;
  if (!s || !t) return throw_errno(env, "idmap", EINVAL);
  long uid = (long)get_i64(env, argv[2]), gid = (long)get_i64(env, argv[3]), size = (long)get_i64(env, argv[4]);
  static char stack[16384] __attribute__((aligned(16)));
  pid_t pid = clone(idmap_child, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL);
  if (pid < 0) return throw_errno(env, "clone", errno);
  char path[64], map[96];
  int err = 0, ns = -1, tree = -1;
  const char *what = "idmap";
  for (int i = 0; i < 2 && !err; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, i ? "gid_map" : "uid_map");
    snprintf(map, sizeof map, "0 %ld %ld\n", i ? gid : uid, size);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, map, strlen(map)) < 0) { err = errno; what = "write uid_map"; }
    if (fd >= 0) close(fd);
  }
  if (!err) {
    snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
    ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) { err = errno; what = "open userns"; }
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  if (!err) {
    tree = open_tree(AT_FDCWD, s, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) { err = errno; what = "open_tree"; }
  }
  if (!err) {
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)ns };
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) { err = errno; what = "mount_setattr"; }
  }
  if (!err && move_mount(tree, "", AT_FDCWD, t, MOVE_MOUNT_F_EMPTY_PATH) != 0) { err = errno; what = "move_mount"; }
  if (tree >= 0) close(tree);
  if (ns >= 0) close(ns);
  if (err) return throw_errno(env, what, err);
  return undefined(env);
}

// umount(target, flags)
static napi_value js_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  char tgt[MAX_ARG], *t;
  if (get_str(env, argv[0], tgt, sizeof tgt, &t)) return NULL;
  if (umount2(t, (int)get_i64(env, argv[1])) != 0) return throw_errno(env, "umount2", errno);
  return undefined(env);
}

// mknod(path, mode, major, minor)
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (get_args(env, info, 4, argv)) return NULL;
  char p[MAX_ARG], *path;
  if (get_str(env, argv[0], p, sizeof p, &path)) return NULL;
  dev_t dev = makedev((unsigned)get_i64(env, argv[2]), (unsigned)get_i64(env, argv[3]));
  if (mknod(path, (mode_t)get_i64(env, argv[1]), dev) != 0) return throw_errno(env, "mknod", errno);
  return undefined(env);
}

// lsetxattr(path, name, value: Buffer)
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv)) return NULL;
  char p[MAX_ARG], n[256], *path, *name;
  if (get_str(env, argv[0], p, sizeof p, &path) || get_str(env, argv[1], n, sizeof n, &name)) return NULL;
  void *data; size_t len;
  if (napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_errno(env, "lsetxattr", errno);
  return undefined(env);
}

// lgetxattr(path, name) -> Buffer | null when the attribute is absent
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  char p[MAX_ARG], n[256], *path, *name;
  if (get_str(env, argv[0], p, sizeof p, &path) || get_str(env, argv[1], n, sizeof n, &name)) return NULL;
  char val[65536];
  ssize_t len = lgetxattr(path, name, val, sizeof val);
  if (len < 0) {
    if (errno == ENODATA) { napi_value nul; napi_get_null(env, &nul); return nul; }
    return throw_errno(env, "lgetxattr", errno);
  }
  napi_value out; void *dst;
  napi_create_buffer_copy(env, (size_t)len, val, &dst, &out);
  return out;
}

// llistxattr(path) -> string[]
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  char p[MAX_ARG], *path;
  if (get_str(env, argv[0], p, sizeof p, &path)) return NULL;
  char list[65536];
  ssize_t len = llistxattr(path, list, sizeof list);
  if (len < 0) return throw_errno(env, "llistxattr", errno);
  napi_value arr; napi_create_array(env, &arr);
  uint32_t i = 0;
  for (ssize_t off = 0; off < len;) {
    size_t n = strlen(list + off);
    napi_value s; napi_create_string_utf8(env, list + off, n, &s);
    napi_set_element(env, arr, i++, s);
    off += (ssize_t)n + 1;
  }
  return arr;
}

// chroot(path): confines this whole process; used only by the unpack helper.
static napi_value js_chroot(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  char p[MAX_ARG], *path;
  if (get_str(env, argv[0], p, sizeof p, &path)) return NULL;
  if (chroot(path) != 0) return throw_errno(env, "chroot", errno);
  if (chdir("/") != 0) return throw_errno(env, "chdir", errno);
  return undefined(env);
}

// seqpacketConnect(path) -> fd. conmon's attach socket is SOCK_SEQPACKET,
// which libuv's streams cannot wrap; watchPackets below polls it instead.
static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  char p[MAX_ARG], *path;
  if (get_str(env, argv[0], p, sizeof p, &path)) return NULL;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return throw_errno(env, "connect", ENAMETOOLONG);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "connect", e);
  }
  napi_value out; napi_create_int32(env, fd, &out);
  return out;
}

// shutdown(fd, how): SHUT_WR signals stdin EOF; SHUT_RDWR wakes a blocked read.
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  if (shutdown((int)get_i64(env, argv[0]), (int)get_i64(env, argv[1])) != 0 && errno != ENOTCONN)
    return throw_errno(env, "shutdown", errno);
  return undefined(env);
}

// unreadBytes(fd) -> the bytes waiting in a pipe or socket (FIONREAD): how
// the resize writer knows conmon has taken its last message.
static napi_value js_unread_bytes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  int n = 0;
  if (ioctl((int)get_i64(env, argv[0]), FIONREAD, &n) != 0) return throw_errno(env, "ioctl", errno);
  napi_value out; napi_create_int32(env, n, &out);
  return out;
}

// ----- event-driven packet I/O -----
//
// A uv_poll_t on a SOCK_SEQPACKET fd: packets are read on the event loop as
// the kernel reports them and handed to a JS callback one by one, so no
// libuv pool thread sits blocked in read() for as long as a client stays
// attached. Sends never block: a full socket answers -1 and the caller asks
// to hear when it is writable again.

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref on_packet;   // (packet: Buffer) => void
  napi_ref on_end;      // (errno: number) => void; 0 when the peer closed
  napi_ref on_writable; // () => void
  napi_async_context async;
  napi_ref resource;    // async_hooks' resource, kept alive as napi_async_init asks
  int fd;
  int reading;          // read interest (off while the consumer is full)
  int want_write;       // a caller waits for room to send
  int closed;           // close() was called: nothing more is delivered
  int refs;             // the JS external and the uv handle each hold one
  size_t max;
  char *buf;
} packet_watch;

static void watch_unref(packet_watch *w) {
  if (--w->refs > 0) return;
  free(w->buf);
  free(w);
}

static void watch_poll_cb(uv_poll_t *handle, int status, int events);

static void watch_restart(packet_watch *w) {
  if (w->closed) return;
  int events = (w->reading ? UV_READABLE : 0) | (w->want_write ? UV_WRITABLE : 0);
  if (events) uv_poll_start(&w->poll, events, watch_poll_cb);
  else uv_poll_stop(&w->poll);
}

// Calls a JS callback from the event loop; an exception it throws becomes
// an uncaught exception, as it would from any other event.
static void watch_call(packet_watch *w, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = w->env;
  napi_value fn, recv, result;
  napi_get_reference_value(env, ref, &fn);
  napi_get_global(env, &recv); // make_callback wants an object
  if (napi_make_callback(env, w->async, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

static void watch_end(packet_watch *w, int err) {
  w->reading = 0;
  w->want_write = 0;
  watch_restart(w);
  napi_value arg;
  napi_create_int32(w->env, err, &arg);
  watch_call(w, w->on_end, 1, &arg);
}

// At most this many packets per wakeup, so one busy stream cannot hold the
// loop; the poll is level-triggered and comes back for the rest.
#define PACKETS_PER_WAKEUP 32

static void watch_poll_cb(uv_poll_t *handle, int status, int events) {
  packet_watch *w = handle->data;
  if (w->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  if (status < 0) {
    watch_end(w, -status);
    goto out;
  }
  if ((events & UV_WRITABLE) && w->want_write) {
    w->want_write = 0;
    watch_restart(w);
    watch_call(w, w->on_writable, 0, NULL);
  }
  for (int i = 0; i < PACKETS_PER_WAKEUP && (events & UV_READABLE) && w->reading && !w->closed; i++) {
    ssize_t n = recv(w->fd, w->buf, w->max, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      watch_end(w, n == 0 ? 0 : errno);
      break;
    }
    napi_value buf;
    void *dst;
    napi_create_buffer_copy(w->env, (size_t)n, w->buf, &dst, &buf);
    watch_call(w, w->on_packet, 1, &buf);
  }
out:
  napi_close_handle_scope(w->env, scope);
}

static void watch_closed(uv_handle_t *handle) {
  packet_watch *w = handle->data;
  close(w->fd);
  napi_delete_reference(w->env, w->on_packet);
  napi_delete_reference(w->env, w->on_end);
  napi_delete_reference(w->env, w->on_writable);
  napi_async_destroy(w->env, w->async);
  napi_delete_reference(w->env, w->resource);
  watch_unref(w);
}

static void watch_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  watch_unref((packet_watch *)data);
}

static packet_watch *get_watch(napi_env env, napi_value v) {
  packet_watch *w = NULL;
  if (napi_get_value_external(env, v, (void **)&w) != napi_ok || !w) {
    napi_throw_type_error(env, NULL, "expected a packet watch");
    return NULL;
  }
  if (w->closed) {
    throw_errno(env, "packet watch", EBADF);
    return NULL;
  }
  return w;
}

// watchPackets(fd, maxPacket, onPacket, onEnd, onWritable) -> handle. Takes
// the fd over: it is closed by closePackets. Reading starts at once.
static napi_value js_watch_packets(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv)) return NULL;
  int fd = (int)get_i64(env, argv[0]);
  int64_t max = get_i64(env, argv[1]);
  if (max < 1 || max > (1 << 20)) {
    napi_throw_range_error(env, NULL, "maxPacket out of range");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  packet_watch *w = calloc(1, sizeof *w);
  if (!w || !(w->buf = malloc((size_t)max))) {
    free(w);
    return throw_errno(env, "malloc", ENOMEM);
  }
  w->env = env;
  w->fd = fd;
  w->max = (size_t)max;
  w->reading = 1;
  int rc = uv_poll_init_socket(loop, &w->poll, fd);
  if (rc != 0) {
    free(w->buf);
    free(w);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  w->poll.data = w;
  w->refs = 2;
  napi_create_reference(env, argv[2], 1, &w->on_packet);
  napi_create_reference(env, argv[3], 1, &w->on_end);
  napi_create_reference(env, argv[4], 1, &w->on_writable);
  napi_value name, resource;
  napi_create_string_utf8(env, "berth:packets", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &w->resource);
  napi_async_init(env, resource, name, &w->async);
  napi_value ext;
  napi_create_external(env, w, watch_finalize, NULL, &ext);
  watch_restart(w);
  return ext;
}

// sendPacket(handle, buffer) -> bytes sent, or -1 when the socket is full.
static napi_value js_send_packet(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  packet_watch *w = get_watch(env, argv[0]);
  if (!w) return NULL;
  void *data; size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "packet must be a Buffer");
    return NULL;
  }
  ssize_t n;
  do n = send(w->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, "send", errno);
  napi_value out;
  napi_create_int64(env, n < 0 ? -1 : (int64_t)n, &out);
  return out;
}

// setPacketInterest(handle, reading, wantWritable)
static napi_value js_set_packet_interest(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv)) return NULL;
  packet_watch *w = get_watch(env, argv[0]);
  if (!w) return NULL;
  bool reading, writable;
  napi_get_value_bool(env, argv[1], &reading);
  napi_get_value_bool(env, argv[2], &writable);
  w->reading = reading;
  w->want_write = writable;
  watch_restart(w);
  return undefined(env);
}

// shutdownPackets(handle, how)
static napi_value js_shutdown_packets(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  packet_watch *w = get_watch(env, argv[0]);
  if (!w) return NULL;
  if (shutdown(w->fd, (int)get_i64(env, argv[1])) != 0 && errno != ENOTCONN) return throw_errno(env, "shutdown", errno);
  return undefined(env);
}

// closePackets(handle): stops polling; the fd is closed once libuv lets go
// of it. Idempotent.
static napi_value js_close_packets(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  packet_watch *w = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&w) != napi_ok || !w) {
    napi_throw_type_error(env, NULL, "expected a packet watch");
    return NULL;
  }
  if (!w->closed) {
    w->closed = 1;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watch_closed);
  }
  return undefined(env);
}

// ----- spawning without fork -----
//
// Node's spawn forks the whole daemon (about 80 MB of mappings: 2–8 ms of
// page-table copying and copy-on-write faults, with the event loop blocked)
// only to exec right after. posix_spawn in glibc uses clone(CLONE_VM |
// CLONE_VFORK): no copy. Each child is a session of its own (what Node's
// `detached` does), with default signal dispositions (the daemon ignores
// SIGPIPE) and an empty signal mask. Its exit is watched through a pidfd on
// the event loop (unref'd, so it never keeps the daemon alive) and reaped
// there: libuv only waits for the pids it spawned itself.

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref on_exit;     // (code: number, signal: number) => void
  napi_async_context async;
  napi_ref resource;
  pid_t pid;
  int pidfd;
} child_watch;

static void child_closed(uv_handle_t *handle) {
  child_watch *c = handle->data;
  close(c->pidfd);
  napi_delete_reference(c->env, c->on_exit);
  napi_async_destroy(c->env, c->async);
  napi_delete_reference(c->env, c->resource);
  free(c);
}

static void child_poll_cb(uv_poll_t *handle, int status, int events) {
  (void)status; (void)events;
  child_watch *c = handle->data;
  int st = 0;
  pid_t r;
  do r = waitpid(c->pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return; // not exited yet
  uv_poll_stop(&c->poll);
  int code = r > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  int sig = r > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  napi_handle_scope scope;
  napi_open_handle_scope(c->env, &scope);
  napi_value argv[2], fn, recv, result;
  napi_create_int32(c->env, code, &argv[0]);
  napi_create_int32(c->env, sig, &argv[1]);
  napi_get_reference_value(c->env, c->on_exit, &fn);
  napi_get_global(c->env, &recv);
  if (napi_make_callback(c->env, c->async, recv, fn, 2, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(c->env, &exc);
    napi_fatal_exception(c->env, exc);
  }
  napi_close_handle_scope(c->env, scope);
  uv_close((uv_handle_t *)&c->poll, child_closed);
}

// A JS array of strings as a NULL-terminated, malloc'd vector (NULL on error,
// with an exception pending).
static char **get_strv(napi_env env, napi_value arr) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an array of strings");
    return NULL;
  }
  char **v = calloc(n + 1, sizeof *v);
  if (!v) { throw_errno(env, "malloc", ENOMEM); return NULL; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    size_t len;
    napi_get_element(env, arr, i, &e);
    if (napi_get_value_string_utf8(env, e, NULL, 0, &len) != napi_ok || !(v[i] = malloc(len + 1))) {
      for (uint32_t j = 0; j < i; j++) free(v[j]);
      free(v);
      napi_throw_type_error(env, NULL, "expected an array of strings");
      return NULL;
    }
    napi_get_value_string_utf8(env, e, v[i], len + 1, &len);
  }
  return v;
}

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

#define MAX_STDIO 8
#define STDIO_IGNORE -1 // /dev/null
#define STDIO_PIPE -2   // one end of a socket pair (what Node's 'pipe' is)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// spawn(file, argv, envp, stdio, onExit, cwd) -> [pid, parent fd for each stdio
// entry (-1 where it is not a pipe)]. stdio[i] says what the child's fd i
// is: -1 /dev/null, -2 a socket pair. Throws with the exec's errno (ENOENT,
// EACCES) when the program cannot run.
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv)) return NULL;
  // The child's working directory ("" : the daemon's).
  char cwd[MAX_ARG], *cwdp = NULL;
  if (get_str(env, argv[5], cwd, sizeof cwd, &cwdp)) return NULL;
  if (cwdp && !*cwdp) cwdp = NULL;
  char file[MAX_ARG], *filep = NULL;
  if (get_str(env, argv[0], file, sizeof file, &filep)) return NULL;
  if (!filep) {
    napi_throw_type_error(env, NULL, "expected a file");
    return NULL;
  }
  uint32_t nfd;
  napi_get_array_length(env, argv[3], &nfd);
  if (nfd > MAX_STDIO) {
    napi_throw_range_error(env, NULL, "too many stdio entries");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  char **args = get_strv(env, argv[1]);
  if (!args) return NULL;
  char **envp = get_strv(env, argv[2]);
  if (!envp) { free_strv(args); return NULL; }

  int parent[MAX_STDIO], child[MAX_STDIO];
  for (uint32_t i = 0; i < MAX_STDIO; i++) parent[i] = child[i] = -1;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  int err = 0;
  const char *failed = "posix_spawn";
  for (uint32_t i = 0; i < nfd && !err; i++) {
    napi_value e;
    napi_get_element(env, argv[3], i, &e);
    int kind = (int)get_i64(env, e);
    if (kind == STDIO_PIPE) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) { err = errno; failed = "socketpair"; break; }
      parent[i] = sv[0];
      child[i] = sv[1];
      // A child end numbered below nfd could be overwritten by an earlier
      // dup2 of the file actions: move it above them.
      if (child[i] < (int)nfd) {
        int moved = fcntl(child[i], F_DUPFD_CLOEXEC, (int)nfd);
        if (moved < 0) { err = errno; failed = "fcntl"; break; }
        close(child[i]);
        child[i] = moved;
      }
      err = posix_spawn_file_actions_adddup2(&fa, child[i], (int)i);
    } else {
      err = posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0);
    }
  }
  if (!err && cwdp) err = posix_spawn_file_actions_addchdir_np(&fa, cwdp);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
#ifdef __GLIBC__
  // glibc's sigfillset leaves out its two internal signals (32 and 33), and
  // its posix_spawn leaves those ignored in the child, which every container
  // would then inherit through conmon and runc. Their bits set by hand make
  // them default, as Node's spawn leaves every signal.
  all.__val[0] |= (1UL << (32 - 1)) | (1UL << (33 - 1));
#endif
  if (!err) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!err) err = posix_spawnattr_setsigmask(&attr, &none);
  if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = -1;
  if (!err) err = posix_spawn(&pid, file, &fa, &attr, args, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  free_strv(args);
  free_strv(envp);
  for (uint32_t i = 0; i < MAX_STDIO; i++) if (child[i] >= 0) close(child[i]);
  int pidfd = -1;
  if (!err) {
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
      // Cannot watch it (a kernel before 5.3): do not leave it unreaped.
      err = errno;
      failed = "pidfd_open";
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
  }
  if (err) {
    for (uint32_t i = 0; i < MAX_STDIO; i++) if (parent[i] >= 0) close(parent[i]);
    return throw_errno(env, failed, err);
  }

  child_watch *c = calloc(1, sizeof *c);
  c->env = env;
  c->pid = pid;
  c->pidfd = pidfd;
  uv_poll_init(loop, &c->poll, pidfd);
  c->poll.data = c;
  napi_create_reference(env, argv[4], 1, &c->on_exit);
  napi_value name, resource;
  napi_create_string_utf8(env, "berth:child", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &c->resource);
  napi_async_init(env, resource, name, &c->async);
  uv_poll_start(&c->poll, UV_READABLE, child_poll_cb);
  uv_unref((uv_handle_t *)&c->poll);

  napi_value out, v;
  napi_create_array_with_length(env, nfd + 1, &out);
  napi_create_int32(env, pid, &v);
  napi_set_element(env, out, 0, v);
  for (uint32_t i = 0; i < nfd; i++) {
    napi_create_int32(env, parent[i], &v);
    napi_set_element(env, out, i + 1, v);
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", 0, js_mount, 0, 0, 0, napi_default, 0},
    {"umount", 0, js_umount, 0, 0, 0, napi_default, 0},
    {"mountAs", 0, js_mount_as, 0, 0, 0, napi_default, 0},
    {"idmapMount", 0, js_idmap_mount, 0, 0, 0, napi_default, 0},
    {"mkdirAs", 0, js_mkdir_as, 0, 0, 0, napi_default, 0},
    {"mknod", 0, js_mknod, 0, 0, 0, napi_default, 0},
    {"lsetxattr", 0, js_lsetxattr, 0, 0, 0, napi_default, 0},
    {"lgetxattr", 0, js_lgetxattr, 0, 0, 0, napi_default, 0},
    {"llistxattr", 0, js_llistxattr, 0, 0, 0, napi_default, 0},
    {"chroot", 0, js_chroot, 0, 0, 0, napi_default, 0},
    {"seqpacketConnect", 0, js_seqpacket_connect, 0, 0, 0, napi_default, 0},
    {"shutdown", 0, js_shutdown, 0, 0, 0, napi_default, 0},
    {"unreadBytes", 0, js_unread_bytes, 0, 0, 0, napi_default, 0},
    {"watchPackets", 0, js_watch_packets, 0, 0, 0, napi_default, 0},
    {"sendPacket", 0, js_send_packet, 0, 0, 0, napi_default, 0},
    {"setPacketInterest", 0, js_set_packet_interest, 0, 0, 0, napi_default, 0},
    {"shutdownPackets", 0, js_shutdown_packets, 0, 0, 0, napi_default, 0},
    {"closePackets", 0, js_close_packets, 0, 0, 0, napi_default, 0},
    {"spawn", 0, js_spawn, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
