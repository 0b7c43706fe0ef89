import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildEnv, capabilitiesOfMask, DEFAULT_CAPS, DEFAULT_PATH, processSpec, generateSpec, MASKED_PATHS, mergeExecEnv, READONLY_PATHS, type SpecInput } from '../../../../src/engine/runtime/spec';

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/var/lib/berth/overlay/containers/abc/merged',
    args: ['/bin/sh', '-c', 'echo hi'],
    env: ['PATH=/bin', 'HOSTNAME=abc'],
    cwd: '/work',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'abc',
    network: 'none',
    files: { hosts: '/c/abc/hosts', hostname: '/c/abc/hostname', resolvConf: '/c/abc/resolv.conf' },
    cgroupsPath: 'berth-abc.scope',
    ...over,
  };
}

// Docker's default capability set (moby oci/caps/defaults.go).
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

test('root gets Docker\'s default capabilities in bounding, effective and permitted', () => {
  const s = generateSpec(input());
  assert.deepEqual([...DEFAULT_CAPS].sort(), [...DOCKER_CAPS].sort());
  assert.deepEqual([...s.process.capabilities.bounding].sort(), [...DOCKER_CAPS].sort());
  assert.deepEqual(s.process.capabilities.effective, s.process.capabilities.bounding);
  assert.deepEqual(s.process.capabilities.permitted, s.process.capabilities.bounding);
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.deepEqual(s.process.capabilities.ambient, []);
  assert.ok(!s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
});

test('a non-root user keeps the bounding set but has no effective or permitted capabilities', () => {
  const s = generateSpec(input({ user: { uid: 1000, gid: 1000, additionalGids: [10, 100] } }));
  assert.equal(s.process.capabilities.bounding.length, DOCKER_CAPS.length);
  assert.deepEqual(s.process.capabilities.effective, []);
  assert.deepEqual(s.process.capabilities.permitted, []);
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [10, 100] });
});

test('additionalGids is omitted when empty', () => {
  const s = generateSpec(input());
  assert.deepEqual(s.process.user, { uid: 0, gid: 0 });
  assert.ok(!('additionalGids' in s.process.user));
});

test('process fields come from the input', () => {
  const s = generateSpec(input({ tty: true }));
  assert.equal(s.ociVersion, '1.0.2');
  assert.deepEqual(s.process.args, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(s.process.env, ['PATH=/bin', 'HOSTNAME=abc']);
  assert.equal(s.process.cwd, '/work');
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(generateSpec(input()).process.terminal, false);
  assert.equal(s.hostname, 'abc');
  assert.equal(s.linux.cgroupsPath, 'berth-abc.scope');
});

test('root filesystem path and read-only flag', () => {
  assert.deepEqual(generateSpec(input()).root, { path: '/var/lib/berth/overlay/containers/abc/merged', readonly: false });
  assert.equal(generateSpec(input({ readonlyRootfs: true })).root.readonly, true);
});

test('namespaces include network unless the network mode is host', () => {
  const types = (n: SpecInput['network']) => generateSpec(input({ network: n })).linux.namespaces.map((x) => x.type).sort();
  assert.deepEqual(types('none'), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  assert.deepEqual(types('host'), ['cgroup', 'ipc', 'mount', 'pid', 'uts']);
  // No namespace joins an existing one.
  assert.ok(generateSpec(input()).linux.namespaces.every((n) => n.path === undefined));
});

test('default mounts match Docker\'s', () => {
  const s = generateSpec(input());
  const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
  assert.deepEqual(byDest.get('/proc'), { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  assert.equal(byDest.get('/dev')?.type, 'tmpfs');
  assert.ok(byDest.get('/dev')?.options?.includes('mode=755'));
  assert.equal(byDest.get('/dev/pts')?.type, 'devpts');
  assert.ok(byDest.get('/dev/pts')?.options?.includes('newinstance'));
  assert.ok(byDest.get('/dev/pts')?.options?.includes('gid=5'));
  assert.equal(byDest.get('/dev/shm')?.type, 'tmpfs');
  assert.ok(byDest.get('/dev/shm')?.options?.includes('size=65536k'));
  assert.ok(byDest.get('/dev/shm')?.options?.includes('mode=1777'));
  assert.equal(byDest.get('/dev/mqueue')?.type, 'mqueue');
  assert.equal(byDest.get('/sys')?.type, 'sysfs');
  assert.ok(byDest.get('/sys')?.options?.includes('ro'), '/sys is read-only');
  assert.equal(byDest.get('/sys/fs/cgroup')?.type, 'cgroup');
  assert.ok(byDest.get('/sys/fs/cgroup')?.options?.includes('ro'), '/sys/fs/cgroup is read-only');
  for (const d of ['/proc', '/sys', '/dev/mqueue', '/dev/shm']) {
    assert.ok(byDest.get(d)?.options?.includes('nosuid') && byDest.get(d)?.options?.includes('nodev'), d);
  }
});

test('parents are mounted before their children', () => {
  const dests = generateSpec(input()).mounts.map((m) => m.destination);
  const before = (a: string, b: string) => assert.ok(dests.indexOf(a) >= 0 && dests.indexOf(a) < dests.indexOf(b), `${a} before ${b}`);
  before('/dev', '/dev/pts');
  before('/dev', '/dev/shm');
  before('/dev', '/dev/mqueue');
  before('/sys', '/sys/fs/cgroup');
  assert.equal(new Set(dests).size, dests.length, 'no duplicate destinations');
});

test('hosts, hostname and resolv.conf are bind-mounted from the container dir', () => {
  const s = generateSpec(input());
  const binds = s.mounts.filter((m) => m.type === 'bind');
  assert.deepEqual(
    binds.map((m) => [m.destination, m.source]).sort(),
    [
      ['/etc/hostname', '/c/abc/hostname'],
      ['/etc/hosts', '/c/abc/hosts'],
      ['/etc/resolv.conf', '/c/abc/resolv.conf'],
    ],
  );
  for (const b of binds) assert.ok(b.options?.includes('rbind'), b.destination);
});

test('masked and read-only paths', () => {
  const s = generateSpec(input());
  assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
  assert.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
  for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/acpi', '/proc/scsi']) {
    assert.ok(s.linux.maskedPaths.includes(p), p);
  }
  for (const p of ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']) assert.ok(s.linux.readonlyPaths.includes(p), p);
});

test('device cgroup denies everything first, then allows the standard devices', () => {
  const d = generateSpec(input()).linux.resources.devices;
  assert.deepEqual(d[0], { allow: false, access: 'rwm' });
  const allowed = d.filter((r) => r.allow).map((r) => `${r.type} ${r.major}:${r.minor}`);
  for (const dev of ['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:-1']) assert.ok(allowed.includes(dev), dev);
});

test('specs do not share mutable capability arrays between calls', () => {
  const a = generateSpec(input());
  a.process.capabilities.bounding.push('CAP_SYS_ADMIN');
  const b = generateSpec(input());
  assert.ok(!b.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.ok(!DEFAULT_CAPS.includes('CAP_SYS_ADMIN'));
});

test('buildEnv: defaults only', () => {
  assert.deepEqual(buildEnv([], [], 'abc123', '/root'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=abc123', 'HOME=/root']);
  assert.equal(DEFAULT_PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
});

test('buildEnv: container env overrides image env, which overrides the defaults; first-seen order is kept', () => {
  const env = buildEnv(['PATH=/custom/bin', 'FOO=image', 'KEEP=1'], ['FOO=container', 'BAR=2', 'HOSTNAME=named'], 'abc', '/root');
  assert.deepEqual(env, ['PATH=/custom/bin', 'HOSTNAME=named', 'FOO=container', 'KEEP=1', 'BAR=2', 'HOME=/root']);
});

test('buildEnv: HOME from the env wins over the user\'s home', () => {
  assert.deepEqual(buildEnv(['HOME=/home/img'], [], 'h', '/root'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'HOME=/home/img']);
  assert.deepEqual(buildEnv([], ['HOME=/ctr'], 'h', '/home/alice'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'HOME=/ctr']);
});

test('buildEnv: container entries without "=" are ignored; values may contain "="', () => {
  const env = buildEnv(['A=1'], ['A', 'B=x=y'], 'h', '/');
  assert.deepEqual(env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'A=1', 'B=x=y', 'HOME=/']);
});

test('buildEnv: TERM=xterm only with a tty and only when unset', () => {
  assert.ok(buildEnv([], [], 'h', '/', true).includes('TERM=xterm'));
  assert.ok(!buildEnv([], [], 'h', '/', false).some((e) => e.startsWith('TERM=')));
  const custom = buildEnv([], ['TERM=dumb'], 'h', '/', true);
  assert.deepEqual(custom.filter((e) => e.startsWith('TERM=')), ['TERM=dumb']);
});

describe('exec processes', () => {
  test('capabilities from a CapBnd mask: this machine\'s root lacks CAP_SYS_RESOURCE', () => {
    const caps = capabilitiesOfMask('000001fffeffffff');
    assert.equal(caps.length, 40);
    assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
    assert.ok(caps.includes('CAP_SYS_ADMIN') && caps.includes('CAP_CHECKPOINT_RESTORE'));
    assert.deepEqual(capabilitiesOfMask('00000000a80425fb').sort(), [...DEFAULT_CAPS].sort());
  });

  test('exec env: entries replace or add, a bare name removes', () => {
    assert.deepEqual(mergeExecEnv(['PATH=/bin', 'A=1', 'B=2'], ['A=3', 'C=4', 'B', 'NOPE']), ['PATH=/bin', 'A=3', 'C=4']);
  });

  test('an exec process: a console size only with a TTY, no effective capabilities for a non-root user', () => {
    const base = { args: ['sh'], env: [], cwd: '/', tty: false, consoleSize: { height: 1, width: 2 }, capabilities: ['CAP_KILL'] };
    const p = processSpec({ ...base, user: { uid: 1000, gid: 1000, additionalGids: [] } });
    assert.equal(p.consoleSize, undefined);
    assert.deepEqual([p.capabilities.bounding, p.capabilities.effective, p.capabilities.permitted], [['CAP_KILL'], [], []]);
    const r = processSpec({ ...base, tty: true, user: { uid: 0, gid: 0, additionalGids: [5] } });
    assert.deepEqual([r.terminal, r.consoleSize, r.user.additionalGids, r.capabilities.effective], [true, { height: 1, width: 2 }, [5], ['CAP_KILL']]);
  });
});

describe('generateSpec security inputs', () => {
  test('privileged: /sys and cgroups writable, nothing masked, all devices allowed', () => {
    const s = generateSpec(input({ privileged: true, capabilities: ['CAP_SYS_ADMIN'], devices: [{ path: '/dev/loop0', type: 'b', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }] }));
    assert.deepEqual(s.mounts.find((m) => m.destination === '/sys')!.options, ['nosuid', 'noexec', 'nodev', 'rw']);
    assert.equal(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options![0], 'rw');
    assert.deepEqual([s.linux.maskedPaths, s.linux.readonlyPaths], [[], []]);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.deepEqual(s.process.capabilities.bounding, ['CAP_SYS_ADMIN']);
    assert.equal(s.linux.devices![0].path, '/dev/loop0');
  });
  test('not privileged: device rules after the defaults, sysctls beside the domain name, no_new_privs', () => {
    const s = generateSpec(input({ deviceRules: [{ allow: true, type: 'b', major: 7, minor: -1, access: 'rwm' }], sysctl: { 'net.ipv4.ip_forward': '1' }, domainname: 'example.org', noNewPrivileges: true }));
    assert.deepEqual(s.linux.resources.devices.at(-1), { allow: true, type: 'b', major: 7, minor: -1, access: 'rwm' });
    assert.equal(s.linux.resources.devices[0].allow, false);
    assert.deepEqual(s.linux.sysctl, { 'kernel.domainname': 'example.org', 'net.ipv4.ip_forward': '1' });
    assert.equal(s.process.noNewPrivileges, true);
    assert.equal(s.mounts.find((m) => m.destination === '/sys')!.options!.at(-1), 'ro');
    assert.equal(s.linux.devices, undefined);
  });
});

test('an init is bound read-only at /sbin/docker-init before the container\'s mounts and runs the args', () => {
  const s = generateSpec(input({ init: '/usr/bin/tini-static', mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] }] }));
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', '/bin/sh', '-c', 'echo hi']);
  const i = s.mounts.findIndex((m) => m.destination === '/sbin/docker-init');
  assert.deepEqual(s.mounts[i], { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
  assert.ok(i < s.mounts.findIndex((m) => m.destination === '/data'));
  const plain = generateSpec(input());
  assert.deepEqual(plain.process.args, ['/bin/sh', '-c', 'echo hi']);
  assert.ok(!plain.mounts.some((m) => m.destination === '/sbin/docker-init'));
});
