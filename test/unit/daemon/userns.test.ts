import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { nextRangeStart, parseRemap, RemapError, resolveRemap, subRanges } from '../../../src/daemon/userns';
import { OVERFLOW_ID, parseIdMap, toContainerId } from '../../../src/engine/layers/pack';
import { generateSpec, type SpecInput } from '../../../src/engine/runtime/spec';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-userns-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('parseRemap: user, user:group, uid:gid, default; anything else refused', () => {
  assert.deepEqual(parseRemap('default'), { user: 'default' });
  assert.deepEqual(parseRemap('alice'), { user: 'alice' });
  assert.deepEqual(parseRemap('alice:staff'), { user: 'alice', group: 'staff' });
  assert.deepEqual(parseRemap('1000:1000'), { user: '1000', group: '1000' });
  for (const bad of ['', ':', ':g', 'u:', 'a:b:c']) assert.throws(() => parseRemap(bad), RemapError, bad);
});

test('subRanges: the lines of a name (or numeric id), malformed lines skipped', () => {
  const text = 'alice:100000:65536\nbob:165536:65536\n# comment\nalice:300000:10\n1000:400000:5\nalice:x:1\nalice:1\n';
  assert.deepEqual(subRanges(text, ['alice']), [{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]);
  assert.deepEqual(subRanges(text, ['carol', '1000']), [{ start: 400000, count: 5 }]);
  assert.deepEqual(subRanges('', ['alice']), []);
});

test('nextRangeStart: after every range of both files, 100000 at least', () => {
  assert.equal(nextRangeStart('', ''), 100000);
  assert.equal(nextRangeStart('a:100000:65536\n', 'b:10:5\n'), 165536);
  assert.equal(nextRangeStart('a:100000:65536\n', 'b:200000:100\n'), 200100);
});

test('resolveRemap: the first range of the user and of the group, as long as the shorter', () => {
  const subuid = path.join(dir, 'subuid');
  const subgid = path.join(dir, 'subgid');
  // root and its group exist on every host.
  fs.writeFileSync(subuid, 'other:1:2\nroot:100000:65536\nroot:500000:10\n');
  fs.writeFileSync(subgid, '0:200000:1000\n');
  assert.deepEqual(resolveRemap('root', { subuid, subgid }), { user: 'root', group: 'root', uid: 100000, gid: 200000, size: 1000 });
  assert.deepEqual(resolveRemap('0:0', { subuid, subgid }), { user: 'root', group: 'root', uid: 100000, gid: 200000, size: 1000 });
  fs.writeFileSync(subgid, '');
  assert.throws(() => resolveRemap('root', { subuid, subgid }), /no subgid ranges found for group "root"/);
  fs.writeFileSync(subuid, '');
  assert.throws(() => resolveRemap('root', { subuid, subgid }), /no subuid ranges found for user "root"/);
  assert.throws(() => resolveRemap('no-such-user-berth', { subuid, subgid }), /user "no-such-user-berth" not found/);
});

test('toContainerId / parseIdMap: host ids of the range as the container sees them, others overflow', () => {
  assert.equal(toContainerId(100000, 100000, 65536), 0);
  assert.equal(toContainerId(101000, 100000, 65536), 1000);
  assert.equal(toContainerId(165535, 100000, 65536), 65535);
  assert.equal(toContainerId(165536, 100000, 65536), OVERFLOW_ID);
  assert.equal(toContainerId(0, 100000, 65536), OVERFLOW_ID);
  assert.deepEqual(parseIdMap('100000:200000:65536'), { uid: 100000, gid: 200000, size: 65536 });
  assert.throws(() => parseIdMap('1:2'), /expected UID:GID:SIZE/);
});

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'h', tty: false,
    network: 'private', files: { hosts: '/f/hosts', hostname: '/f/hostname', resolvConf: '/f/resolv.conf' }, cgroupsPath: 'berth:x', mounts: [],
    ...over,
  } as SpecInput;
}

test('generateSpec with a user namespace: the mappings, sysfs only in a network namespace of its own', () => {
  const s = generateSpec(input({ userns: { uid: 100000, gid: 200000, size: 65536 } }));
  assert.ok(s.linux.namespaces.some((n) => n.type === 'user' && !n.path));
  assert.deepEqual(s.linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.deepEqual(s.linux.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
  assert.equal(s.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
  const joined = generateSpec(input({ userns: { uid: 100000, gid: 100000, size: 65536 }, network: { path: '/proc/1/ns/net' } }));
  assert.deepEqual(joined.mounts.find((m) => m.destination === '/sys'), { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const other = generateSpec(input({ userns: { uid: 100000, gid: 100000, size: 65536, path: '/proc/7/ns/user' }, network: { path: '/proc/7/ns/net' } }));
  assert.deepEqual(other.linux.namespaces.find((n) => n.type === 'user'), { type: 'user', path: '/proc/7/ns/user' });
  assert.equal(other.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
  const plain = generateSpec(input());
  assert.ok(!plain.linux.namespaces.some((n) => n.type === 'user'));
  assert.equal(plain.linux.uidMappings, undefined);
});
