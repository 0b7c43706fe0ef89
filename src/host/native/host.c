// The few syscalls Node lacks. Each function is synchronous and throws an
// Error carrying `errno` and `syscall`; src/host/linux.ts adds the code name.
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
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
// which libuv cannot wrap; the caller reads it with fs.read (one packet a read).
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", 0, js_mount, 0, 0, 0, napi_default, 0},
    {"umount", 0, js_umount, 0, 0, 0, napi_default, 0},
    {"mknod", 0, js_mknod, 0, 0, 0, napi_default, 0},
    {"lsetxattr", 0, js_lsetxattr, 0, 0, 0, napi_default, 0},
    {"lgetxattr", 0, js_lgetxattr, 0, 0, 0, napi_default, 0},
    {"llistxattr", 0, js_llistxattr, 0, 0, 0, napi_default, 0},
    {"chroot", 0, js_chroot, 0, 0, 0, napi_default, 0},
    {"seqpacketConnect", 0, js_seqpacket_connect, 0, 0, 0, napi_default, 0},
    {"shutdown", 0, js_shutdown, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
