// berth's default seccomp profile: an allowlist with the same effect as
// Docker's default. Anything not listed fails with EPERM. Pure: no I/O, so it
// is unit-tested without root; runc turns it into a BPF filter.
//
// The profile is generated per container because some syscalls are allowed
// only when the container holds the capability that makes them useful (the
// kernel would refuse most of them anyway, but seccomp keeps the attack
// surface of those code paths closed unless it is needed).


import { profileToOci } from './seccomp-profile';

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_LOG';
export type SeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

export interface OciSyscallRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

// The OCI runtime spec's linux.seccomp object.
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSyscallRule[];
  flags?: string[];
}

const EPERM = 1;
const ENOSYS = 38;

// ---------------------------------------------------------------------------
// Always allowed. Grouped by what they are for; names that exist only on some
// architectures (the *32 / *64 / *_time64 variants of 32-bit ABIs) are listed
// next to their native form. Names the kernel or libseccomp does not know are
// skipped by runc, so listing them is harmless.
// ---------------------------------------------------------------------------
export const ALLOWED_GROUPS: Record<string, readonly string[]> = {
  // Creating, running, waiting for and signalling processes and threads.
  // (clone/clone3 are handled separately: they can create namespaces.)
  process: [
    'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group',
    'wait4', 'waitid', 'waitpid',
    'kill', 'tkill', 'tgkill', 'pidfd_open', 'pidfd_send_signal',
    'getpid', 'getppid', 'gettid', 'getpgid', 'getpgrp', 'getsid', 'setpgid', 'setsid',
    'set_tid_address', 'set_robust_list', 'get_robust_list', 'get_thread_area', 'set_thread_area',
    'restart_syscall', 'rseq', 'membarrier', 'process_mrelease',
    'uretprobe', // x86_64 uprobe return trampoline (kernel 6.11)
  ],

  // A process restricting itself: prctl (PR_SET_NAME, no_new_privs, …),
  // installing further seccomp filters, landlock sandboxes, dropping caps.
  selfRestriction: [
    'prctl', 'seccomp', 'capget', 'capset',
    'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
  ],

  // Resource limits and usage, system information.
  limitsAndInfo: [
    'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage', 'times',
    'uname', 'sysinfo', 'getcpu', 'getrandom',
  ],

  // User and group ids. The kernel checks CAP_SETUID/CAP_SETGID itself.
  credentials: [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
    'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
    'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
    'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
    'setgroups', 'setgroups32',
  ],

  // Address space management. mlock is bounded by RLIMIT_MEMLOCK.
  memory: [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync',
    'mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'mseal',
    'memfd_create', 'memfd_secret', 'pkey_alloc', 'pkey_free', 'pkey_mprotect',
    'map_shadow_stack', // CET shadow stacks (kernel 6.6)
  ],

  // Paths, directories, metadata and permissions on the container's own files.
  files: [
    'open', 'openat', 'openat2', 'creat', 'close', 'close_range',
    'access', 'faccessat', 'faccessat2',
    'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx',
    'statfs', 'statfs64', 'fstatfs', 'fstatfs64',
    'chdir', 'fchdir', 'getcwd', 'umask',
    'mkdir', 'mkdirat', 'mknod', 'mknodat', 'rmdir',
    'rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat',
    'readlink', 'readlinkat', 'getdents', 'getdents64',
    'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
    'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32',
    'truncate', 'truncate64', 'ftruncate', 'ftruncate64',
    'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat',
    'fcntl', 'fcntl64', 'flock',
    // Encoding a file handle is harmless; opening one (open_by_handle_at)
    // is the container escape and needs CAP_DAC_READ_SEARCH below.
    'name_to_handle_at',
    // Read-only mount table queries (kernel 6.8).
    'statmount', 'listmount',
  ],

  // Extended attributes.
  xattrs: [
    'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat',
    'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
    'listxattr', 'llistxattr', 'flistxattr', 'listxattrat',
    'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
  ],

  // Reading, writing and moving data between file descriptors.
  dataIo: [
    'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2',
    'lseek', '_llseek', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range',
    'fallocate', 'fadvise64', 'fadvise64_64', 'readahead', 'cachestat',
    'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range',
    'dup', 'dup2', 'dup3', 'pipe', 'pipe2', 'ioctl',
  ],

  // Linux AIO (io_uring is deliberately absent: it has been a steady source
  // of kernel exploits and bypasses seccomp for the operations it performs).
  asyncIo: [
    'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
    'ioprio_get', 'ioprio_set',
  ],

  // Waiting for events on descriptors, and descriptors that deliver events.
  eventWaiting: [
    'poll', 'ppoll', 'ppoll_time64', 'select', '_newselect', 'pselect6', 'pselect6_time64',
    'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
    'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
    'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch',
    'fanotify_mark', // marks need an fanotify fd, and fanotify_init needs CAP_SYS_ADMIN
  ],

  // Futexes: the basis of every mutex and condition variable.
  futex: ['futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue'],

  // Signal handling.
  signals: [
    'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64',
    'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn', 'pause', 'alarm',
  ],

  // Reading clocks, sleeping and timers. adjtimex/clock_adjtime are allowed
  // for their read-only use (ntp_gettime, chronyc tracking); changing the
  // clock through them needs CAP_SYS_TIME, which the kernel checks. Setting
  // the clock directly (settimeofday, clock_settime) is gated below.
  time: [
    'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep',
    'adjtimex', 'clock_adjtime', 'clock_adjtime64',
    'getitimer', 'setitimer',
    'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
    'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  ],

  // Scheduling of the container's own tasks. Raising priority past the
  // rlimit still needs CAP_SYS_NICE, checked by the kernel.
  scheduling: [
    'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr',
    'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler',
    'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
    'getpriority', 'setpriority',
  ],

  // System V and POSIX IPC, confined by the container's IPC namespace.
  ipc: [
    'ipc', 'msgget', 'msgctl', 'msgsnd', 'msgrcv', 'semget', 'semctl', 'semop', 'semtimedop', 'semtimedop_time64',
    'shmget', 'shmctl', 'shmat', 'shmdt',
    'mq_open', 'mq_unlink', 'mq_getsetattr', 'mq_notify', 'mq_timedsend', 'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
  ],

  // Sockets, confined by the container's network namespace. socket(2)
  // itself is allowed further down, except for two address families.
  // socketcall is the 32-bit x86 multiplexer for all of these.
  network: [
    'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'shutdown',
    'getsockname', 'getpeername', 'getsockopt', 'setsockopt',
    'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
    'socketcall',
  ],
};

// Architecture-specific syscalls, allowed on that architecture only.
const ARCH_ALLOWED: Record<'x86_64' | 'aarch64', readonly string[]> = {
  // TLS setup on x86_64, and the LDT (16-bit segments: wine, old runtimes).
  x86_64: ['arch_prctl', 'modify_ldt'],
  // ARM EABI specials used by 32-bit ARM binaries.
  aarch64: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
};

// Architectures the filter is built for: the native one plus the compat ABIs
// its kernel can run, so a 32-bit binary cannot sidestep the filter.
const ARCHITECTURES: Record<'x86_64' | 'aarch64', string[]> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

// ptrace was a seccomp bypass before kernel 4.8 (a traced process could
// change the syscall after the filter ran). On 4.8+ it is safe to allow
// tracing one's own children; the kernel's ptrace checks still apply.
const PTRACE_SINCE_4_8 = ['ptrace', 'process_vm_readv', 'process_vm_writev'];

// Capability-gated groups: allowed when the container holds any of `caps`.
// These are the calls the capability exists to protect; without it the
// kernel would refuse them, and seccomp keeps their code paths unreachable.
export const CAPABILITY_GROUPS: readonly { caps: string[]; names: string[]; why: string }[] = [
  {
    caps: ['CAP_SYS_ADMIN'],
    why: 'namespaces, mounts, hostname, quotas, tracing and other administration',
    names: [
      'mount', 'umount', 'umount2', 'mount_setattr', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
      'unshare', 'setns', 'clone', 'clone3',
      'sethostname', 'setdomainname', 'quotactl', 'quotactl_fd', 'lookup_dcookie', 'fanotify_init',
      'bpf', 'perf_event_open', 'syslog',
      'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules',
    ],
  },
  { caps: ['CAP_DAC_READ_SEARCH'], why: 'opening files by handle bypasses the mount root', names: ['open_by_handle_at'] },
  { caps: ['CAP_SYS_CHROOT'], why: 'chroot', names: ['chroot'] },
  { caps: ['CAP_SYS_BOOT'], why: 'reboot (inside a PID namespace it ends the container)', names: ['reboot'] },
  { caps: ['CAP_SYS_MODULE'], why: 'loading kernel modules', names: ['init_module', 'finit_module', 'delete_module'] },
  { caps: ['CAP_SYS_PACCT'], why: 'process accounting', names: ['acct'] },
  { caps: ['CAP_SYS_PTRACE'], why: 'inspecting other processes', names: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise'] },
  { caps: ['CAP_SYS_RAWIO'], why: 'raw I/O port access', names: ['iopl', 'ioperm'] },
  { caps: ['CAP_SYS_TIME'], why: 'setting the system clock', names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'] },
  { caps: ['CAP_SYS_TTY_CONFIG'], why: 'hanging up the terminal', names: ['vhangup'] },
  { caps: ['CAP_SYS_NICE'], why: 'NUMA memory policy', names: ['get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node', 'mbind'] },
  { caps: ['CAP_SYSLOG'], why: 'reading the kernel log', names: ['syslog'] },
  { caps: ['CAP_BPF'], why: 'loading BPF programs', names: ['bpf'] },
  { caps: ['CAP_PERFMON'], why: 'performance monitoring', names: ['perf_event_open'] },
];

// Never allowed by this profile whatever the capabilities (listed so the
// tests can check nothing above lets them through): kexec, swap, I/O
// privilege changes on 32-bit x86, the keyring, userfaultfd, io_uring and
// obsolete calls (nfsservctl, vm86, uselib, _sysctl, ustat, …).
export const ALWAYS_BLOCKED = [
  'kexec_load', 'kexec_file_load', 'swapon', 'swapoff', 'vm86', 'vm86old', 'keyctl', 'add_key', 'request_key',
  'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'nfsservctl', 'uselib', '_sysctl',
  'ustat', 'sysfs', 'pivot_root', 'create_module', 'get_kernel_syms', 'query_module',
];

// clone(2) flags that create namespaces. Without CAP_SYS_ADMIN, clone is
// allowed only when none of them is set (the kernel would ask for
// CAP_SYS_ADMIN for all but CLONE_NEWUSER, which seccomp blocks here).
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
export const CLONE_NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

// personality(2) values that only select the ordinary Linux ABI: PER_LINUX,
// PER_LINUX32, UNAME26 alone and with PER_LINUX32, and 0xffffffff (query).
// Others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, …) weaken ASLR and W^X.
export const SAFE_PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

// socket(2) is allowed for every address family except AF_ALG (38, kernel
// crypto API, a recurring exploit vector) and AF_VSOCK (40, talks to the
// hypervisor). On 32-bit x86 socket goes through socketcall, which cannot be
// filtered by family; this matches Docker.
const AF_ALG = 38;
const AF_VSOCK = 40;

export interface SeccompProfileOptions {
  // The container's capabilities (bounding set), "CAP_X" or "X".
  capabilities: string[];
  // Node's process.arch or a kernel machine name; defaults to process.arch.
  arch?: string;
  // Kernel release (os.release()); ptrace is allowed without CAP_SYS_PTRACE
  // only on 4.8 and later. Defaults to assuming a current kernel.
  kernel?: string;
}

function normalizeArch(arch: string): 'x86_64' | 'aarch64' | undefined {
  switch (arch) {
    case 'x64': case 'x86_64': case 'amd64': return 'x86_64';
    case 'arm64': case 'aarch64': return 'aarch64';
    default: return undefined;
  }
}

function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

// Every syscall the default groups allow unconditionally, once each.
export function baseSyscalls(): string[] {
  return [...new Set(Object.values(ALLOWED_GROUPS).flat())];
}

export function defaultSeccompProfile(opts: SeccompProfileOptions): OciSeccomp {
  const caps = new Set(opts.capabilities.map(normalizeCap));
  const arch = normalizeArch(opts.arch ?? process.arch);
  const allowed = new Set(baseSyscalls());
  if (arch) for (const n of ARCH_ALLOWED[arch]) allowed.add(n);
  if (opts.kernel === undefined || kernelAtLeast(opts.kernel, 4, 8)) for (const n of PTRACE_SINCE_4_8) allowed.add(n);
  for (const g of CAPABILITY_GROUPS) {
    if (g.caps.some((c) => caps.has(c))) for (const n of g.names) allowed.add(n);
  }
  const admin = caps.has('CAP_SYS_ADMIN');

  const syscalls: OciSyscallRule[] = [{ names: [...allowed].sort(), action: 'SCMP_ACT_ALLOW' }];

  if (!admin) {
    // fork-style and thread-creating clone calls, but no new namespaces.
    syscalls.push({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    // clone3 passes its flags in a struct seccomp cannot read, so it cannot
    // be filtered like clone. ENOSYS (not EPERM) makes glibc and others fall
    // back to clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }

  for (const p of SAFE_PERSONALITIES) {
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] });
  }

  // Rules on the same syscall are OR-ed: family < AF_ALG, == 39, > AF_VSOCK.
  syscalls.push(
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] },
  );

  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: arch ? [...ARCHITECTURES[arch]] : [],
    syscalls,
  };
}

// The default profile depends only on its options, so each is computed once
// per daemon rather than at every start.
const profiles = new Map<string, OciSeccomp>();
function seccompProfile(opts: SeccompProfileOptions): OciSeccomp {
  const key = JSON.stringify([opts.capabilities, opts.arch, opts.kernel]);
  let p = profiles.get(key);
  if (!p) {
    p = defaultSeccompProfile(opts);
    profiles.set(key, p);
  }
  return p;
}

// The OCI filter for a container's seccomp choice; null means none at all.
// A custom profile (Docker's format) is filtered by the container's caps.
export function seccompFor(choice: { mode: 'default' | 'unconfined' } | { mode: 'custom'; profile: string }, opts: SeccompProfileOptions): OciSeccomp | null {
  if (choice.mode === 'custom') return profileToOci(choice.profile, { capabilities: opts.capabilities, arch: opts.arch, kernel: opts.kernel ?? '' });
  return choice.mode === 'unconfined' ? null : seccompProfile(opts);
}
