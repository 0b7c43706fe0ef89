import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALLOWED_GROUPS, ALWAYS_BLOCKED, baseSyscalls, CAPABILITY_GROUPS, CLONE_NAMESPACE_FLAGS, defaultSeccompProfile, SAFE_PERSONALITIES,
  seccompFor, type OciSeccomp,
} from '../../../../src/engine/runtime/seccomp';
import { DEFAULT_CAPS, generateSpec, type SpecInput } from '../../../../src/engine/runtime/spec';

const profile = (caps: string[] = DEFAULT_CAPS, over: { arch?: string; kernel?: string } = {}) =>
  defaultSeccompProfile({ capabilities: caps, arch: 'x64', ...over });

// Names allowed whatever the arguments.
function unconditional(p: OciSeccomp): string[] {
  return p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names);
}

// What the filter does with one call, following libseccomp: rules on a
// syscall are OR-ed, ALLOW wins over ERRNO, else the default action.
function verdict(p: OciSeccomp, name: string, args: number[] = []): 'allow' | number {
  const matching = p.syscalls.filter((r) => r.names.includes(name) && (r.args ?? []).every((a) => {
    const v = args[a.index] ?? 0;
    switch (a.op) {
      case 'SCMP_CMP_EQ': return v === a.value;
      case 'SCMP_CMP_NE': return v !== a.value;
      case 'SCMP_CMP_LT': return v < a.value;
      case 'SCMP_CMP_LE': return v <= a.value;
      case 'SCMP_CMP_GT': return v > a.value;
      case 'SCMP_CMP_GE': return v >= a.value;
      case 'SCMP_CMP_MASKED_EQ': return (v & a.value) >>> 0 === (a.valueTwo ?? 0);
    }
  }));
  if (matching.some((r) => r.action === 'SCMP_ACT_ALLOW')) return 'allow';
  const errno = matching.find((r) => r.action === 'SCMP_ACT_ERRNO');
  if (errno) return errno.errnoRet ?? 1;
  return p.defaultErrnoRet ?? 1;
}

const EPERM = 1;
const ENOSYS = 38;

test('the profile is a valid OCI linux.seccomp object: deny with EPERM by default, allow rules', () => {
  const p = profile();
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, EPERM);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(Object.keys(p).sort(), ['architectures', 'defaultAction', 'defaultErrnoRet', 'syscalls']);
  assert.ok(p.syscalls.length > 0);
  for (const r of p.syscalls) {
    assert.ok(Array.isArray(r.names) && r.names.length > 0);
    for (const n of r.names) assert.match(n, /^[a-z_][a-z0-9_]*$/);
    assert.ok(r.action === 'SCMP_ACT_ALLOW' || r.action === 'SCMP_ACT_ERRNO', r.action);
    if (r.errnoRet !== undefined) assert.equal(r.action, 'SCMP_ACT_ERRNO');
    for (const a of r.args ?? []) {
      assert.ok(Number.isInteger(a.index) && a.index >= 0 && a.index < 6);
      assert.ok(Number.isInteger(a.value) && a.value >= 0 && a.value <= 0xffffffff);
      assert.match(a.op, /^SCMP_CMP_(NE|LT|LE|EQ|GE|GT|MASKED_EQ)$/);
    }
  }
  // It survives JSON (config.json) unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});

test('aarch64 gets the arm64 and 32-bit arm ABIs and its own extra syscalls', () => {
  const p = profile(DEFAULT_CAPS, { arch: 'arm64' });
  assert.deepEqual(p.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const names = unconditional(p);
  assert.ok(names.includes('set_tls') && names.includes('cacheflush'));
  assert.ok(!names.includes('arch_prctl'));
  assert.ok(unconditional(profile()).includes('arch_prctl'));
  assert.deepEqual(profile(DEFAULT_CAPS, { arch: 'aarch64' }).architectures, p.architectures);
  assert.deepEqual(profile(DEFAULT_CAPS, { arch: 'x86_64' }).architectures, profile().architectures);
});

test('ordinary syscalls are allowed', () => {
  const p = profile();
  for (const n of [
    'read', 'write', 'openat', 'close', 'execve', 'exit_group', 'wait4', 'fork', 'vfork', 'mmap', 'mprotect', 'brk', 'futex',
    'epoll_wait', 'epoll_pwait', 'poll', 'rt_sigaction', 'rt_sigreturn', 'clock_gettime', 'nanosleep', 'getdents64', 'statx',
    'newfstatat', 'pipe2', 'dup3', 'ioctl', 'fcntl', 'getrandom', 'uname', 'prctl', 'setuid', 'setgid', 'setgroups', 'capset',
    'chown', 'mknod', 'socketpair', 'bind', 'connect', 'sendmsg', 'recvmsg', 'setsockopt', 'chroot', 'sched_yield',
    'prlimit64', 'set_robust_list', 'rseq', 'arch_prctl', 'seccomp', 'name_to_handle_at', 'adjtimex',
    // kernel >= 4.8: tracing one's own children is fine
    'ptrace', 'process_vm_readv',
  ]) {
    assert.equal(verdict(p, n), 'allow', n);
  }
});

test('dangerous syscalls are denied with EPERM under Docker\'s default capabilities', () => {
  const p = profile();
  for (const n of [
    'mount', 'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsmount', 'unshare', 'setns',
    'keyctl', 'add_key', 'request_key', 'reboot', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module',
    'delete_module', 'bpf', 'perf_event_open', 'userfaultfd', 'acct', 'swapon', 'swapoff', 'settimeofday', 'clock_settime',
    'stime', 'iopl', 'ioperm', 'lookup_dcookie', 'open_by_handle_at', 'quotactl', 'syslog', 'vm86', 'vm86old', 'nfsservctl',
    'kcmp', 'pidfd_getfd', 'process_madvise', 'sethostname', 'setdomainname', 'io_uring_setup', 'io_uring_enter',
    'fanotify_init', 'vhangup', 'mbind', 'set_mempolicy', 'lsm_set_self_attr', 'uselib', '_sysctl',
  ]) {
    assert.equal(verdict(p, n), EPERM, n);
  }
});

test('clone is allowed only without namespace flags; clone3 fails with ENOSYS so libc falls back', () => {
  const p = profile();
  const cloneRules = p.syscalls.filter((r) => r.names.includes('clone'));
  assert.equal(cloneRules.length, 1);
  assert.deepEqual(cloneRules[0], {
    names: ['clone'],
    action: 'SCMP_ACT_ALLOW',
    args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
  });
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x7e020000);
  // fork() and pthread_create()
  assert.equal(verdict(p, 'clone', [0x01200011]), 'allow');
  assert.equal(verdict(p, 'clone', [0x003d0f00]), 'allow');
  for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
    assert.equal(verdict(p, 'clone', [0x11 | flag]), EPERM, flag.toString(16));
  }
  assert.equal(verdict(p, 'clone3'), ENOSYS);
  assert.deepEqual(p.syscalls.filter((r) => r.names.includes('clone3')), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS }]);
});

test('CAP_SYS_ADMIN allows the namespace and mount family and unrestricted clone', () => {
  const p = profile([...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'sethostname', 'bpf', 'perf_event_open', 'syslog', 'quotactl', 'fsopen']) {
    assert.equal(verdict(p, n, [0x7e020000]), 'allow', n);
  }
  // No leftover argument rule or ENOSYS for clone/clone3.
  assert.deepEqual(p.syscalls.filter((r) => r.names.includes('clone') || r.names.includes('clone3')).length, 1);
  assert.ok(!p.syscalls.some((r) => r.action === 'SCMP_ACT_ERRNO'));
  // Still never: pivot_root, keyrings, kexec, swap.
  for (const n of ['pivot_root', 'keyctl', 'kexec_load', 'swapoff', 'reboot', 'init_module']) assert.equal(verdict(p, n), EPERM, n);
});

test('each capability group opens exactly its syscalls', () => {
  const cases: [string, string[]][] = [
    ['CAP_SYS_BOOT', ['reboot']],
    ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
    ['CAP_SYS_TIME', ['settimeofday', 'clock_settime', 'clock_settime64', 'stime']],
    ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
    ['CAP_SYS_PACCT', ['acct']],
    ['CAP_SYS_NICE', ['mbind', 'set_mempolicy', 'get_mempolicy', 'set_mempolicy_home_node']],
    ['CAP_SYS_TTY_CONFIG', ['vhangup']],
    ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
    ['CAP_SYSLOG', ['syslog']],
    ['CAP_BPF', ['bpf']],
    ['CAP_PERFMON', ['perf_event_open']],
  ];
  const base = new Set(unconditional(profile()));
  for (const [cap, names] of cases) {
    const p = profile([...DEFAULT_CAPS, cap]);
    for (const n of names) assert.equal(verdict(p, n), 'allow', `${cap} ${n}`);
    const added = unconditional(p).filter((n) => !base.has(n));
    assert.deepEqual(added.sort(), [...names].sort(), cap);
    assert.equal(verdict(p, 'mount'), EPERM);
  }
  // chroot follows CAP_SYS_CHROOT, which Docker's defaults include.
  assert.equal(verdict(profile(DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot'), EPERM);
  // Capabilities may be given without the CAP_ prefix.
  assert.equal(verdict(profile(['sys_admin']), 'mount'), 'allow');
});

test('ptrace needs CAP_SYS_PTRACE on kernels older than 4.8', () => {
  assert.equal(verdict(profile(DEFAULT_CAPS, { kernel: '4.4.0-210-generic' }), 'ptrace'), EPERM);
  assert.equal(verdict(profile([...DEFAULT_CAPS, 'CAP_SYS_PTRACE'], { kernel: '4.4.0' }), 'ptrace'), 'allow');
  assert.equal(verdict(profile(DEFAULT_CAPS, { kernel: '4.8.0' }), 'ptrace'), 'allow');
  assert.equal(verdict(profile(DEFAULT_CAPS, { kernel: '6.1.0-18-amd64' }), 'process_vm_writev'), 'allow');
});

test('personality is allowed only with the plain Linux personalities', () => {
  const p = profile();
  assert.deepEqual(SAFE_PERSONALITIES, [0, 8, 0x20000, 0x20008, 0xffffffff]);
  for (const v of SAFE_PERSONALITIES) assert.equal(verdict(p, 'personality', [v]), 'allow', String(v));
  for (const v of [0x0040000 /* ADDR_NO_RANDOMIZE */, 0x0400000 /* READ_IMPLIES_EXEC */, 0x0010 /* PER_BSD */]) {
    assert.equal(verdict(p, 'personality', [v]), EPERM, String(v));
  }
});

test('socket is allowed except for AF_ALG and AF_VSOCK', () => {
  const p = profile();
  for (const af of [1 /* UNIX */, 2 /* INET */, 10 /* INET6 */, 16 /* NETLINK */, 17 /* PACKET */, 39, 41, 44]) {
    assert.equal(verdict(p, 'socket', [af]), 'allow', String(af));
  }
  assert.equal(verdict(p, 'socket', [38]), EPERM);
  assert.equal(verdict(p, 'socket', [40]), EPERM);
});

test('no syscall is listed twice', () => {
  const all = Object.values(ALLOWED_GROUPS).flat();
  assert.deepEqual(all.filter((n, i) => all.indexOf(n) !== i), []);
  assert.equal(baseSyscalls().length, all.length);
  for (const caps of [DEFAULT_CAPS, [...DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYSLOG', 'CAP_BPF']]) {
    const p = profile(caps);
    const names = unconditional(p);
    assert.equal(new Set(names).size, names.length);
    // An unconditionally allowed name never also has an argument rule.
    const conditional = p.syscalls.filter((r) => r.args?.length || r.action !== 'SCMP_ACT_ALLOW').flatMap((r) => r.names);
    assert.deepEqual(conditional.filter((n) => names.includes(n)), []);
  }
  // The base list does not let through anything a capability group guards.
  const gated = new Set(CAPABILITY_GROUPS.flatMap((g) => g.names));
  assert.deepEqual(baseSyscalls().filter((n) => gated.has(n)), []);
  for (const n of ['clone', 'clone3', 'socket', 'personality']) assert.ok(!baseSyscalls().includes(n), n);
});

test('some syscalls stay blocked whatever the capabilities', () => {
  const everyCap = [...new Set(CAPABILITY_GROUPS.flatMap((g) => g.caps)), ...DEFAULT_CAPS];
  for (const arch of ['x64', 'arm64']) {
    const p = profile(everyCap, { arch });
    for (const n of ALWAYS_BLOCKED) assert.equal(verdict(p, n), EPERM, n);
  }
});

test('seccompFor: the default allowlist, or no filter when unconfined', () => {
  const base = { capabilities: DEFAULT_CAPS, arch: 'x64' };
  assert.deepEqual(seccompFor({ mode: 'default' }, base), profile());
  assert.equal(seccompFor({ mode: 'unconfined' }, base), null);
  // The capability set given is the one the profile follows.
  assert.equal(verdict(seccompFor({ mode: 'default' }, { ...base, capabilities: [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'] })!, 'mount'), 'allow');
});

test('generateSpec puts the profile in linux.seccomp, and nothing when unconfined', () => {
  const input: SpecInput = {
    rootfs: '/r', args: ['/bin/sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'h',
    network: 'none', files: { hosts: '/h', hostname: '/hn', resolvConf: '/rc' }, cgroupsPath: '/berth/x',
  };
  const p = profile();
  assert.deepEqual(generateSpec({ ...input, seccomp: p }).linux.seccomp, p);
  assert.ok(!('seccomp' in generateSpec(input).linux));
  assert.ok(!('seccomp' in generateSpec({ ...input, seccomp: null }).linux));
});
