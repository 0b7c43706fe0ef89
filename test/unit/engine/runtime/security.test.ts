import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_CAPABILITIES, checkSysctls, containerCapabilities, normalizeCapabilities, parseDeviceCgroupRule, resolveGroupAdd } from '../../../../src/engine/runtime/security';
import { DEFAULT_CAPS } from '../../../../src/engine/runtime/spec';
import { checkWorkdir } from '../../../../src/engine/containers/security';

const HELD = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');

describe('capabilities', () => {
  test('names with or without CAP_, any case, and ALL; unknown ones in dockerd\'s words', () => {
    assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_chown', 'all', ' sys_time ']), ['CAP_NET_ADMIN', 'CAP_CHOWN', 'ALL', 'CAP_SYS_TIME']);
    assert.throws(() => normalizeCapabilities(['foo']), { message: 'unknown capability: "CAP_FOO"' });
  });

  test('Docker\'s order: drop from the defaults, then add; ALL on either side', () => {
    assert.deepEqual(containerCapabilities({}, HELD), DEFAULT_CAPS);
    const dropped = containerCapabilities({ capDrop: ['CAP_NET_RAW', 'CAP_MKNOD'], capAdd: ['CAP_NET_ADMIN'] }, HELD);
    assert.deepEqual(dropped, [...DEFAULT_CAPS.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN']);
    assert.deepEqual(containerCapabilities({ capDrop: ['ALL'], capAdd: ['chown'] }, HELD), ['CAP_CHOWN']);
    const all = containerCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }, HELD);
    assert.deepEqual(all, HELD.filter((c) => c !== 'CAP_SYS_ADMIN'));
    // Added and dropped: the add wins, as the drops apply first.
    assert.ok(containerCapabilities({ capAdd: ['CAP_KILL'], capDrop: ['CAP_KILL'] }, HELD).includes('CAP_KILL'));
  });

  test('privileged gets what berthd holds; a capability it lacks cannot be added by name', () => {
    assert.deepEqual(containerCapabilities({ privileged: true, capDrop: ['ALL'] }, HELD), HELD);
    assert.throws(() => containerCapabilities({ capAdd: ['SYS_RESOURCE'] }, HELD), /cannot add capability CAP_SYS_RESOURCE: berthd does not hold it/);
    assert.ok(!containerCapabilities({ capAdd: ['ALL'] }, HELD).includes('CAP_SYS_RESOURCE'));
  });
});

describe('sysctls (runc\'s rules)', () => {
  const priv = { ipcHost: false, netHost: false, utsHost: false };
  test('namespaced ones pass', () => {
    checkSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'kernel.msgmax': '1', 'kernel.sem': '1 2 3 4', 'fs.mqueue.msg_max': '5', 'kernel.domainname': 'x' }, priv);
  });
  test('others, and ones of a namespace shared with the host, are refused', () => {
    assert.throws(() => checkSysctls({ 'kernel.panic': '1' }, priv), { message: 'sysctl "kernel.panic" is not in a separate kernel namespace' });
    assert.throws(() => checkSysctls({ 'vm.swappiness': '1' }, priv), /not in a separate kernel namespace/);
    assert.throws(() => checkSysctls({ 'net.core.somaxconn': '1' }, { ...priv, netHost: true }), { message: 'sysctl "net.core.somaxconn" is not allowed in the hosts network namespace' });
    assert.throws(() => checkSysctls({ 'kernel.shmmax': '1' }, { ...priv, ipcHost: true }), { message: 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace' });
    assert.throws(() => checkSysctls({ 'kernel.hostname': 'x' }, priv), /conflicts with the OCI "hostname" field/);
    assert.throws(() => checkSysctls({ 'kernel.domainname': 'x' }, { ...priv, utsHost: true }), /not in a separate kernel namespace/);
  });
});

test('device cgroup rules', () => {
  assert.deepEqual(parseDeviceCgroupRule('c 1:3 mr'), { allow: true, type: 'c', major: 1, minor: 3, access: 'mr' });
  assert.deepEqual(parseDeviceCgroupRule('b *:* rwm'), { allow: true, type: 'b', major: -1, minor: -1, access: 'rwm' });
  for (const bad of ['x 1:3 rwm', 'c 1:3', 'c 1 rwm', 'c 1:3 rwx', ' c 1:3 r']) {
    assert.throws(() => parseDeviceCgroupRule(bad), { message: `invalid device cgroup rule format: '${bad}'` });
  }
});

test('--group-add: names of the container\'s /etc/group, its gids, or numbers', () => {
  const group = 'root:x:0:\naudio:x:29:\nstaff:x:50:\n';
  assert.deepEqual(resolveGroupAdd(['audio', '50', '1234', 'audio'], group), [29, 50, 1234]);
  assert.throws(() => resolveGroupAdd(['video'], group), { message: 'Unable to find group video: no matching entries in group file' });
  assert.throws(() => resolveGroupAdd(['2147483648'], group), { message: 'uids and gids must be in range 0-2147483647' });
  assert.deepEqual(resolveGroupAdd([], undefined), []);
});

test('working directories the runtime mounts over are refused (CVE-2024-21626)', () => {
  for (const cwd of ['/proc/self/fd/7', '/proc/1/cwd', '/dev/fd/8', '/sys/fs/cgroup', '/proc', '/work/../proc/self/fd/7', '//proc/self/fd/7']) {
    assert.throws(() => checkWorkdir(cwd), /is refused/, cwd);
  }
  for (const cwd of ['/', '/work', '/process', '/devices', '/srv/proc/self', '/dev', '/dev/shm', '/dev/fdx']) checkWorkdir(cwd);
  for (const cwd of ['/dev/stdin', '/dev/core', '/dev/fd']) assert.throws(() => checkWorkdir(cwd), /a link the runtime makes to \/proc\/self\/fd/, cwd);
  assert.throws(() => checkWorkdir('/work', '/proc/self/fd/7'), { message: /the working directory \/work is refused: it resolves to \/proc\/self\/fd\/7, inside \/proc/ });
});
