// berth-exec: runs a process in a running runc container, as `runc exec`
// does, for conmon (which runs it as its runtime for exec sessions):
//
//   berth-exec --runc RUNC [--seccomp-cache DIR] --root ROOT exec
//              --pid-file FILE --process PROCESS.json --detach
//              [--tty] [--console-socket SOCK] ID
//
// runc exec is a Go program that re-executes itself as `runc init` and
// compiles the container's seccomp profile on every call: 40-60 ms here.
// This does the same steps in C, from the same inputs (runc's state.json
// for the container, the OCI process for the session), in runc 1.1's order:
//   it checks the container runs and is not frozen (init's pid and start
//   time, the freezer); opens its namespaces, cgroup dirs, the console
//   socket and the pid file's dir; writes config.oom_score_adj; joins the
//   namespaces (ipc, uts, net, pid, mnt: the ones the container has) and
//   clones the process, straight into the unified cgroup;
//   the process moves itself into each v1 cgroup, joins the cgroup
//   namespace, sets its rlimits, then as runc's setns init: setsid, the
//   session keyring, the pty (made inside the container, its master sent
//   over the console socket), no_new_privs, the seccomp filter (exec-
//   seccomp.c: runc's very program, cached), the bounding set, user and
//   groups (stdio chowned to it), cwd, capabilities, and execve after Go's
//   LookPath rules;
//   this process waits for the execve (the sync socket closes on exec) or
//   the error (said in runc's words, exit 255), writes the pid file and
//   exits; conmon, a subreaper, inherits the process.
// It differs from runc in how, not what: two processes where runc has four
// (runc and the three stages of its re-executed init), and no move by pid
// into a cgroup (see start and become). Anything it does not do (a user namespace, AppArmor
// or SELinux labels, seccomp notify, Intel RDT, options it does not know)
// is left to runc: it executes RUNC with the same arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec-seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static char **orig_argv;
static int orig_argc;
static const char *runc_path;

// How runc fails: its message on stderr, exit 255.
static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "exec failed: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(255);
}

// Hands the whole call to runc: the same arguments, less this helper's own.
static void use_runc(void) {
  if (!runc_path) die("berth-exec: no runc to fall back to");
  char **argv = calloc(orig_argc + 1, sizeof *argv);
  int n = 0;
  argv[n++] = (char *)runc_path;
  for (int i = 1; i < orig_argc; i++) {
    if (strcmp(orig_argv[i], "--runc") == 0 || strcmp(orig_argv[i], "--seccomp-cache") == 0) {
      i++;
      continue;
    }
    argv[n++] = orig_argv[i];
  }
  execv(runc_path, argv);
  die("berth-exec: exec %s: %s", runc_path, strerror(errno));
}

// Go's error strings: strerror, lower case.
static const char *go_err(int e) {
  static char buf[128];
  snprintf(buf, sizeof buf, "%s", strerror(e));
  if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z')) buf[0] += 32;
  return buf;
}

static json_t *load_json(const char *file) {
  json_error_t e;
  json_t *j = json_load_file(file, 0, &e);
  if (!j) die("%s: %s", file, e.text);
  return j;
}

// --- capabilities and rlimits by name ------------------------------------

static const char *cap_names[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

static int last_cap(void) {
  static int last = -1;
  if (last >= 0) return last;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (!f || fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
  if (f) fclose(f);
  return last;
}

// A set of names as a mask. Names this kernel (or list) does not know are
// ignored, as runc ignores them (with a warning).
static uint64_t cap_mask(json_t *names) {
  uint64_t m = 0;
  json_t *v;
  size_t i;
  json_array_foreach(names, i, v) {
    const char *s = json_string_value(v);
    for (int c = 0; s && c < NCAPS && c <= last_cap(); c++) {
      if (strcmp(s, cap_names[c]) == 0) m |= 1ull << c;
    }
  }
  return m;
}

static int rlimit_of(const char *name) {
  static const struct { const char *name; int res; } names[] = {
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(name, names[i].name) == 0) return names[i].res;
  }
  return -1;
}

// --- what is run -----------------------------------------------------------

struct rlim {
  int res;
  struct rlimit lim;
};

struct job {
  const char *id;
  // state.json
  pid_t init;
  int ns_fds[8];
  const char *ns_names[8];
  int nns;
  int cg_fds[32]; // each cgroup's dir
  const char *cg_paths[32];
  int ncg;
  int unified_fd;
  json_t *seccomp;
  struct bpf_prog filter;
  int new_keyring;
  // process.json
  int terminal;
  unsigned short rows, cols;
  char **args;
  char **env;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  int nnp;
  uint64_t caps[5]; // bounding, effective, permitted, inheritable, ambient
  int own_caps;
  struct rlim rlimits[32];
  int nrlimits, own_rlimits;
  int console;
  int cgroupns; // joined by the process itself (see start)
  int slow;     // moved into its cgroups by the parent, runc's way
};

static char **strings_of(json_t *arr) {
  size_t n = json_array_size(arr), i;
  char **v = calloc(n + 1, sizeof *v);
  json_t *s;
  json_array_foreach(arr, i, s) v[i] = (char *)(json_string_value(s) ? json_string_value(s) : "");
  return v;
}

// Go's os.Setenv over an empty environment, as runc init builds it: a name
// set twice keeps its first place and its last value.
static char **environment(json_t *arr) {
  size_t n = json_array_size(arr), i, out = 0;
  char **v = calloc(n + 2, sizeof *v);
  json_t *s;
  json_array_foreach(arr, i, s) {
    const char *kv = json_string_value(s);
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq) die("unable to start container process: invalid environment variable: \"%s\"", kv ? kv : "");
    if (eq == kv) die("unable to start container process: environment variable name can't be empty: \"%s\"", kv);
    size_t name = eq - kv + 1, j;
    for (j = 0; j < out && strncmp(v[j], kv, name) != 0; j++) {}
    v[j] = (char *)kv;
    if (j == out) out++;
  }
  return v;
}

static const char *getenv_in(char **env, const char *name) {
  size_t n = strlen(name);
  for (; *env; env++) {
    if (strncmp(*env, name, n) == 0 && (*env)[n] == '=') return *env + n + 1;
  }
  return NULL;
}

static const char *namespace_order[] = {"NEWUSER", "NEWIPC", "NEWUTS", "NEWNET", "NEWPID", "NEWNS", "NEWCGROUP"};

static int has_namespace(json_t *config, const char *type) {
  json_t *ns;
  size_t i;
  json_array_foreach(json_object_get(config, "namespaces"), i, ns) {
    const char *t = json_string_value(json_object_get(ns, "type"));
    if (t && strcmp(t, type) == 0) return 1;
  }
  return 0;
}

static int nonempty(json_t *v) {
  return (json_is_string(v) && *json_string_value(v)) || (json_is_array(v) && json_array_size(v) > 0);
}

// The start time of pid (field 22 of its stat), 0 if it is gone.
static unsigned long long start_time(pid_t pid) {
  char file[64], buf[1024];
  snprintf(file, sizeof file, "/proc/%d/stat", pid);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long t = 0;
  // After ")": state, then fields 4..22.
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    if (++field == 22) {
      t = strtoull(tok, NULL, 10);
      break;
    }
  }
  return t;
}

static int read_small(const char *file, char *buf, size_t len) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return 0;
}

// runc's container.Status(): gone (stopped), or frozen (paused).
static void check_running(struct job *j, json_t *state) {
  json_t *start = json_object_get(state, "init_process_start");
  if (j->init <= 0 || start_time(j->init) == 0 || (json_is_integer(start) && start_time(j->init) != (unsigned long long)json_integer_value(start))) {
    die("cannot exec in a stopped container");
  }
  json_t *paths = json_object_get(state, "cgroup_paths");
  const char *freezer = json_string_value(json_object_get(paths, "freezer"));
  const char *unified = json_string_value(json_object_get(paths, ""));
  char file[PATH_MAX], buf[64];
  if (freezer) {
    snprintf(file, sizeof file, "%s/freezer.state", freezer);
    if (read_small(file, buf, sizeof buf) == 0 && strncmp(buf, "THAWED", 6) != 0) die("cannot exec in a paused container (use --ignore-paused to override)");
  } else if (unified) {
    snprintf(file, sizeof file, "%s/cgroup.freeze", unified);
    if (read_small(file, buf, sizeof buf) == 0 && buf[0] == '1') die("cannot exec in a paused container (use --ignore-paused to override)");
  }
}

static void load_state(struct job *j, const char *root, const char *cacheDir) {
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/%s/state.json", root, j->id);
  if (access(file, F_OK) != 0) die("container does not exist");
  json_t *state = load_json(file);
  json_t *config = json_object_get(state, "config");
  if (json_is_true(json_object_get(state, "rootless")) || has_namespace(config, "NEWUSER") || nonempty(json_object_get(config, "uid_mappings")) ||
      nonempty(json_object_get(config, "apparmor_profile")) || nonempty(json_object_get(config, "process_label")) ||
      nonempty(json_object_get(state, "intel_rdt_path"))) {
    use_runc();
  }
  j->seccomp = json_object_get(config, "seccomp");
  if (json_is_null(j->seccomp)) j->seccomp = NULL;
  if (j->seccomp && seccomp_needs_runc(j->seccomp)) use_runc();
  j->init = (pid_t)json_integer_value(json_object_get(state, "init_process_pid"));
  check_running(j, state);
  j->new_keyring = !json_is_true(json_object_get(config, "no_new_keyring"));

  // The container's rlimits, unless the process brings its own.
  json_t *r;
  size_t i;
  json_array_foreach(json_object_get(config, "rlimits"), i, r) {
    if (j->own_rlimits || j->nrlimits == 32) break;
    j->rlimits[j->nrlimits++] = (struct rlim){(int)json_integer_value(json_object_get(r, "type")),
      {(rlim_t)json_integer_value(json_object_get(r, "soft")), (rlim_t)json_integer_value(json_object_get(r, "hard"))}};
  }

  // Its namespaces, opened now: joining the mount namespace changes what
  // the /proc paths name.
  json_t *paths = json_object_get(state, "namespace_paths");
  for (size_t k = 0; k < sizeof namespace_order / sizeof namespace_order[0]; k++) {
    if (!has_namespace(config, namespace_order[k])) continue;
    const char *p = json_string_value(json_object_get(paths, namespace_order[k]));
    if (!p || !*p) continue;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("unable to start container process: namespace path: lstat %s: %s", p, go_err(errno));
    j->ns_names[j->nns] = namespace_order[k];
    j->ns_fds[j->nns++] = fd;
  }
  // Every cgroup it is in, v1 controllers and the unified hierarchy alike,
  // as dirs opened now (the process's own moves happen inside the
  // container's mount namespace).
  const char *key;
  json_t *v;
  json_object_foreach(json_object_get(state, "cgroup_paths"), key, v) {
    const char *p = json_string_value(v);
    if (!p || j->ncg == 32) continue;
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die("unable to start container process: error adding pid to cgroups: open %s: %s", p, go_err(errno));
    if (*key == 0) j->unified_fd = fd;
    j->cg_paths[j->ncg] = p;
    j->cg_fds[j->ncg++] = fd;
  }
  json_t *oom = json_object_get(config, "oom_score_adj");
  if (json_is_integer(oom)) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(oom));
    if (fd < 0 || write(fd, buf, n) != n) die("unable to start container process: failed to update /proc/self/oom_score_adj: %s", go_err(errno));
    close(fd);
  }
  if (j->seccomp) {
    char err[512];
    if (seccomp_program(j->seccomp, cacheDir, &j->filter, err, sizeof err) != 0) die("unable to start container process: %s", err);
  }
  // The capabilities when the process names none.
  json_t *caps = json_object_get(config, "capabilities");
  if (!j->own_caps && json_is_object(caps)) {
    j->caps[0] = cap_mask(json_object_get(caps, "Bounding"));
    j->caps[1] = cap_mask(json_object_get(caps, "Effective"));
    j->caps[2] = cap_mask(json_object_get(caps, "Permitted"));
    j->caps[3] = cap_mask(json_object_get(caps, "Inheritable"));
    j->caps[4] = cap_mask(json_object_get(caps, "Ambient"));
  }
  // The state stays loaded: the job points into it.
}

static void load_process(struct job *j, const char *file) {
  json_t *p = load_json(file);
  if (nonempty(json_object_get(p, "apparmorProfile")) || nonempty(json_object_get(p, "selinuxLabel"))) use_runc();
  j->terminal = json_is_true(json_object_get(p, "terminal"));
  json_t *size = json_object_get(p, "consoleSize");
  j->rows = (unsigned short)json_integer_value(json_object_get(size, "height"));
  j->cols = (unsigned short)json_integer_value(json_object_get(size, "width"));
  json_t *args = json_object_get(p, "args");
  j->cwd = json_string_value(json_object_get(p, "cwd"));
  // runc's validateProcessSpec.
  if (!j->cwd || !*j->cwd) die("Cwd property must not be empty");
  if (j->cwd[0] != '/') die("Cwd must be an absolute path");
  if (json_array_size(args) == 0) die("args must not be empty");
  j->args = strings_of(args);
  j->env = environment(json_object_get(p, "env"));
  json_t *user = json_object_get(p, "user");
  j->uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
  j->gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
  json_t *groups = json_object_get(user, "additionalGids"), *g;
  size_t i;
  j->ngroups = json_array_size(groups);
  j->groups = calloc(j->ngroups + 1, sizeof *j->groups);
  json_array_foreach(groups, i, g) j->groups[i] = (gid_t)json_integer_value(g);
  j->nnp = json_is_true(json_object_get(p, "noNewPrivileges"));
  json_t *caps = json_object_get(p, "capabilities");
  if (json_is_object(caps)) {
    j->own_caps = 1;
    j->caps[0] = cap_mask(json_object_get(caps, "bounding"));
    j->caps[1] = cap_mask(json_object_get(caps, "effective"));
    j->caps[2] = cap_mask(json_object_get(caps, "permitted"));
    j->caps[3] = cap_mask(json_object_get(caps, "inheritable"));
    j->caps[4] = cap_mask(json_object_get(caps, "ambient"));
  }
  json_t *rl = json_object_get(p, "rlimits"), *r;
  if (json_array_size(rl) > 0) {
    j->own_rlimits = 1;
    json_array_foreach(rl, i, r) {
      const char *type = json_string_value(json_object_get(r, "type"));
      int res = rlimit_of(type);
      if (res < 0) die("wrong rlimit value: %s", type ? type : "");
      if (j->nrlimits == 32) break;
      j->rlimits[j->nrlimits++] = (struct rlim){res, {(rlim_t)json_integer_value(json_object_get(r, "soft")), (rlim_t)json_integer_value(json_object_get(r, "hard"))}};
    }
  }
}

// --- the process's side ----------------------------------------------------

// The process's end of the sync socket, and the parent's.
static int sync_fd = -1, parent_fd = -1;

// An error before execve goes to the parent, which reports it.
static void fail(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof msg) n = sizeof msg - 1;
  if (write(sync_fd, msg, n) < 0) {}
  _exit(1);
}

// containerd/console's NewPty inside the container, runc's setupConsole:
// the master goes to conmon, the slave becomes stdio and the controlling
// terminal.
static void setup_console(struct job *j) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open /dev/ptmx: %s", go_err(errno));
  int unlock = 0;
  unsigned ptn;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) fail("unable to set up the pty: %s", go_err(errno));
  char slave[64];
  snprintf(slave, sizeof slave, "/dev/pts/%u", ptn);
  if (j->rows && j->cols) {
    struct winsize ws = {.ws_row = j->rows, .ws_col = j->cols};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail("unable to resize the pty: %s", go_err(errno));
  }
  // utils.SendFd: the master's name as the data, the fd as SCM_RIGHTS.
  const char *name = "/dev/ptmx";
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(j->console, &msg, 0) < 0) fail("unable to send the pty to the console socket: %s", go_err(errno));
  close(master);
  close(j->console);
  int fd = open(slave, O_RDWR);
  if (fd < 0) fail("open %s: %s", slave, go_err(errno));
  for (int i = 0; i < 3; i++) {
    if (dup3(fd, i, 0) < 0) fail("dup3: %s", go_err(errno));
  }
  if (fd > 2) close(fd);
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail("ioctl TIOCSCTTY: %s", go_err(errno));
}

// libcontainer/user: the home of uid in the container's /etc/passwd (by
// name or uid, first match), "/" without one.
static const char *home_of(uid_t uid) {
  static char home[PATH_MAX];
  snprintf(home, sizeof home, "/");
  FILE *f = fopen("/etc/passwd", "re");
  if (!f) return home;
  char line[4096], want[32];
  snprintf(want, sizeof want, "%u", uid);
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *fields[7] = {0}, *s = line;
    int n = 0;
    while (n < 7) {
      fields[n++] = s;
      s = strchr(s, ':');
      if (!s) break;
      *s++ = 0;
    }
    if (n < 6) continue;
    if (strcmp(fields[0], want) == 0 || strcmp(fields[2], want) == 0) {
      snprintf(home, sizeof home, "%s", fields[5]);
      break;
    }
  }
  fclose(f);
  return home;
}

// runc's fixStdioPermissions: stdio owned by the user the process runs as
// (but /dev/null), so it can reopen its own console.
static void fix_stdio(uid_t uid) {
  struct stat null;
  if (stat("/dev/null", &null) < 0) fail("stat /dev/null: %s", go_err(errno));
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0) fail("fstat fd %d: %s", fd, go_err(errno));
    if (st.st_uid == uid || st.st_rdev == null.st_rdev) continue;
    if (fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS) fail("fchown fd %d: %s", fd, go_err(errno));
  }
}

static void apply_bounding(uint64_t bounding) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) fail("capget: %s", go_err(errno));
  if (!(d[0].effective & (1u << CAP_SETPCAP))) return;
  for (int c = 0; c <= last_cap(); c++) {
    if (bounding & (1ull << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail("unable to apply caps: %s", go_err(errno));
  }
}

// gocapability's Apply(CAPS | BOUNDS | AMBS), as runc's ApplyCaps calls it.
static void apply_caps(const uint64_t caps[5]) {
  apply_bounding(caps[0]);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  for (int i = 0; i < 2; i++) {
    d[i].effective = (uint32_t)(caps[1] >> (32 * i));
    d[i].permitted = (uint32_t)(caps[2] >> (32 * i));
    d[i].inheritable = (uint32_t)(caps[3] >> (32 * i));
  }
  if (syscall(SYS_capset, &h, d) < 0) fail("unable to apply caps: %s", go_err(errno));
  // gocapability lowers every ambient capability not in the set and raises
  // those in it, ignoring what the calls return: the same end state.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c <= last_cap(); c++) {
    if (caps[4] & (1ull << c)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  }
}

static void load_seccomp(struct job *j) {
  struct sock_fprog prog = {.len = (unsigned short)j->filter.len, .filter = j->filter.insns};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) fail("unable to init seccomp: error loading seccomp filter into kernel: error loading seccomp filter: %s", go_err(errno));
}

// Go's findExecutable: a regular file (or anything but a directory) with
// an execute bit.
static int find_executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return errno;
  if (!S_ISDIR(st.st_mode) && (st.st_mode & 0111)) return 0;
  return EACCES;
}

// Go 1.19's exec.LookPath with the process's PATH, then execve; what fails
// is said in Go's words, which berthd maps to 126 and 127 as dockerd does.
static void run(struct job *j) {
  const char *file = j->args[0];
  const char *path = file;
  char buf[PATH_MAX];
  if (strchr(file, '/')) {
    int e = find_executable(file);
    if (e == EACCES) fail("exec: \"%s\": permission denied", file);
    if (e) fail("exec: \"%s\": stat %s: %s", file, file, go_err(e));
  } else {
    const char *p = getenv_in(j->env, "PATH");
    path = NULL;
    while (p && *p) {
      const char *colon = strchr(p, ':');
      size_t n = colon ? (size_t)(colon - p) : strlen(p);
      if (n == 0) snprintf(buf, sizeof buf, "./%s", file);
      else snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, file);
      if (find_executable(buf) == 0) {
        path = buf;
        break;
      }
      if (!colon) break;
      p = colon + 1;
    }
    if (!path) fail("exec: \"%s\": executable file not found in $PATH", file);
    if (path[0] != '/') fail("exec: \"%s\": cannot run executable found relative to current directory", file);
  }
  for (;;) {
    execve(path, j->args, j->env);
    if (errno != EINTR) break;
  }
  fail("exec %s: %s", path, go_err(errno));
}

// The process's side: into the cgroups and the cgroup namespace, its
// rlimits, then runc's setns init and finalizeNamespace, in their order.
static void become(struct job *j) {
  if (j->slow) {
    char go;
    if (read(sync_fd, &go, 1) != 1) _exit(1);
  } else {
    // Each v1 hierarchy: "0" to its tasks file moves the writer's own
    // thread, for which the kernel skips its global thread-group lock (a
    // move by pid takes it, and its first taking waits for an RCU grace
    // period: 10-15 ms here). One thread: the whole process.
    for (int k = 0; k < j->ncg; k++) {
      if (j->cg_fds[k] == j->unified_fd) continue;
      int fd = openat(j->cg_fds[k], "tasks", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) fail("error adding pid %d to cgroups: failed to write 0 to %s/tasks: %s", getpid(), j->cg_paths[k], go_err(errno));
      close(fd);
    }
  }
  if (j->cgroupns >= 0 && setns(j->cgroupns, 0) < 0) fail("failed to join namespace NEWCGROUP: %s", go_err(errno));
  for (int k = 0; k < j->nns; k++) close(j->ns_fds[k]);
  for (int k = 0; k < j->ncg; k++) close(j->cg_fds[k]);
  // runc sets them from its parent (prlimit) before its init goes on; the
  // process has every capability yet, and no user namespace to lose them to.
  for (int k = 0; k < j->nrlimits; k++) {
    if (setrlimit(j->rlimits[k].res, &j->rlimits[k].lim) < 0) fail("error setting rlimits for process: error setting rlimit type %d: %s", j->rlimits[k].res, go_err(errno));
  }
  // Go keeps only an ignored SIGHUP or SIGINT; every other signal gets a
  // handler of its own, which execve resets to the default. And its mask
  // starts clear.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sig == SIGHUP || sig == SIGINT || sig == SIGKILL || sig == SIGSTOP) continue;
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
      sa.sa_handler = SIG_DFL;
      sigaction(sig, &sa, NULL);
    }
  }
  if (setsid() < 0) fail("setsid failed: %s", go_err(errno));
  if (j->new_keyring) {
    char name[128];
    snprintf(name, sizeof name, "_ses.%s", j->id);
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS) fail("unable to join session keyring: %s", go_err(errno));
  }
  if (j->terminal) setup_console(j);
  if (j->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl no_new_privs: %s", go_err(errno));
  if (j->seccomp && !j->nnp) load_seccomp(j);
  // finalizeNamespace.
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  int chdir_later = 0;
  if (chdir(j->cwd) < 0) {
    if (errno != EACCES && errno != EPERM) fail("chdir to cwd (\"%s\") set in config.json failed: %s", j->cwd, go_err(errno));
    chdir_later = 1;
  }
  apply_bounding(j->caps[0]);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("prctl keepcaps: %s", go_err(errno));
  fix_stdio(j->uid);
  if (setgroups(j->ngroups, j->groups) < 0) fail("setgroups: %s", go_err(errno));
  if (syscall(SYS_setgid, j->gid) < 0) fail("setgid: %s", go_err(errno));
  if (syscall(SYS_setuid, j->uid) < 0) fail("setuid: %s", go_err(errno));
  if (!getenv_in(j->env, "HOME")) {
    size_t n = 0;
    while (j->env[n]) n++;
    char *home;
    if (asprintf(&home, "HOME=%s", home_of(j->uid)) < 0) fail("out of memory");
    j->env = realloc(j->env, (n + 2) * sizeof *j->env);
    j->env[n] = home;
    j->env[n + 1] = NULL;
  }
  if (chdir_later && chdir(j->cwd) < 0) fail("chdir to cwd (\"%s\") set in config.json failed: %s", j->cwd, go_err(errno));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("prctl keepcaps: %s", go_err(errno));
  apply_caps(j->caps);
  if (j->seccomp && j->nnp) load_seccomp(j);
  run(j);
}

// --- the parent's side -----------------------------------------------------

// runc's way into the cgroups: the pid into every cgroup.procs.
static void join_cgroups(struct job *j, pid_t pid) {
  char num[32];
  int len = snprintf(num, sizeof num, "%d", pid);
  for (int k = 0; k < j->ncg; k++) {
    int fd = openat(j->cg_fds[k], "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, num, len) != len) {
      int e = errno;
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      die("unable to start container process: error adding pid %d to cgroups: failed to write %d to %s/cgroup.procs: %s", pid, pid, j->cg_paths[k], go_err(e));
    }
    close(fd);
  }
}

struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

// Joins the container's namespaces (but its cgroup one) and starts the
// process in them: cloned straight into the unified cgroup
// (CLONE_INTO_CGROUP: no move, so no global lock), the v1 ones it joins
// itself. The cgroup namespace comes last, from the process: the clone's
// permission check wants both cgroups inside the caller's namespace.
// Should that clone fail (a pids limit on cgroup v2, an old kernel), it is
// runc's way: a plain clone, moved by pid into every cgroup.procs. Returns
// the process's pid.
static pid_t start(struct job *j) {
  for (int k = 0; k < j->nns; k++) {
    if (strcmp(j->ns_names[k], "NEWCGROUP") == 0) {
      j->cgroupns = j->ns_fds[k];
      continue;
    }
    if (setns(j->ns_fds[k], 0) < 0) die("unable to start container process: failed to join namespace %s: %s", j->ns_names[k], go_err(errno));
  }
  pid_t p = -1;
  if (j->unified_fd >= 0) {
    struct clone_args_v2 args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)j->unified_fd};
    p = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  }
  if (p < 0) {
    j->slow = j->unified_fd >= 0;
    p = fork();
  }
  if (p < 0) die("unable to start container process: clone: %s", go_err(errno));
  if (p == 0) become(j);
  if (j->slow) {
    join_cgroups(j, p);
    if (write(parent_fd, "g", 1) != 1) die("unable to start container process: sync: %s", go_err(errno));
  }
  return p;
}

static void write_pid_file(int dir, const char *file, pid_t pid) {
  // runc's createPidFile: ".<name>" beside it, then renamed.
  const char *slash = strrchr(file, '/');
  const char *base = slash ? slash + 1 : file;
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, ".%s", base);
  int fd = openat(dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) die("open %s: %s", tmp, go_err(errno));
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", pid);
  if (write(fd, buf, n) != n) die("write %s: %s", tmp, go_err(errno));
  close(fd);
  if (renameat(dir, tmp, dir, base) < 0) die("rename %s %s: %s", tmp, file, go_err(errno));
}

static int connect_console(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("console socket path too long: %s", path);
  strcpy(addr.sun_path, path);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("dial unix %s: connect: %s", path, go_err(errno));
  return fd;
}

int main(int argc, char **argv) {
  orig_argc = argc;
  orig_argv = argv;
  const char *root = "/run/runc", *cacheDir = NULL, *pidFile = NULL, *processFile = NULL, *consoleSocket = NULL;
  int i = 1, detach = 0;
  struct job j = {.unified_fd = -1, .cgroupns = -1};
  for (; i < argc && strcmp(argv[i], "exec") != 0; i++) {
    if (strcmp(argv[i], "--runc") == 0 && i + 1 < argc) runc_path = argv[++i];
    else if (strcmp(argv[i], "--seccomp-cache") == 0 && i + 1 < argc) cacheDir = argv[++i];
    else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) root = argv[++i];
    else use_runc();
  }
  if (i == argc) use_runc();
  for (i++; i < argc - 1; i++) {
    if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc - 1) pidFile = argv[++i];
    else if (strcmp(argv[i], "--process") == 0 && i + 1 < argc - 1) processFile = argv[++i];
    else if (strcmp(argv[i], "--console-socket") == 0 && i + 1 < argc - 1) consoleSocket = argv[++i];
    else if (strcmp(argv[i], "--detach") == 0 || strcmp(argv[i], "-d") == 0) detach = 1;
    else if (strcmp(argv[i], "--tty") == 0 || strcmp(argv[i], "-t") == 0) {} // the process file says
    else use_runc();
  }
  // Only what conmon asks for: a detached run of a process file.
  if (i != argc - 1 || !detach || !processFile || argv[i][0] == '-') use_runc();
  j.id = argv[i];

  load_process(&j, processFile);
  load_state(&j, root, cacheDir);
  if (j.terminal && !consoleSocket) die("cannot allocate tty if runc will detach without setting console socket");
  j.console = j.terminal ? connect_console(consoleSocket) : -1;
  // The pid file's dir, opened before this process joins the container's
  // mount namespace.
  int pidDir = AT_FDCWD;
  if (pidFile) {
    char dir[PATH_MAX];
    const char *slash = strrchr(pidFile, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - pidFile) + (slash == pidFile) : 1, slash ? pidFile : ".");
    pidDir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pidDir < 0) die("open %s: %s", dir, go_err(errno));
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair: %s", go_err(errno));
  sync_fd = sv[1];
  parent_fd = sv[0];
  pid_t pid = start(&j);
  close(sv[1]);
  // The socket closes when the process has called execve; before, it says why not.
  char msg[2048];
  ssize_t n = read(sv[0], msg, sizeof msg - 1);
  if (n > 0) {
    msg[n] = 0;
    waitpid(pid, NULL, 0);
    die("unable to start container process: %s", msg);
  }
  if (pidFile) write_pid_file(pidDir, pidFile, pid);
  return 0;
}
