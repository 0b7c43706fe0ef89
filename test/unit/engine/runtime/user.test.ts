import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { parseGroup, parsePasswd, resolveUser } from '../../../../src/engine/runtime/user';

const PASSWD = [
  '# comment line:x:1:1:c:/c:/bin/sh',
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'short:x:5',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  '',
].join('\n');

const GROUP = [
  'root:x:0:root',
  'wheel:x:10:root,alice',
  'staff:x:50:',
  'users:x:100:alice,bob',
  'alice:x:1000:',
  'nogroup:x:65534:',
  'broken:x',
].join('\n');

const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError);
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

test('parsePasswd skips comments and short lines', () => {
  const p = parsePasswd(PASSWD);
  assert.deepEqual(p.map((e) => e.name), ['root', 'daemon', 'nobody', 'alice']);
  assert.deepEqual(p[3], { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' });
});

test('parseGroup reads members', () => {
  const g = parseGroup(GROUP);
  assert.deepEqual(g.map((e) => e.name), ['root', 'wheel', 'staff', 'users', 'alice', 'nogroup']);
  assert.deepEqual(g[1], { name: 'wheel', gid: 10, members: ['root', 'alice'] });
  assert.deepEqual(g[2].members, []);
});

test('empty user is root with its home and supplementary groups', () => {
  assert.deepEqual(resolveUser('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
});

test('empty user without a passwd file is root with home /root', () => {
  assert.deepEqual(resolveUser('', undefined, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
});

test('a user name', () => {
  assert.deepEqual(resolveUser('nobody', PASSWD, GROUP), { uid: 65534, gid: 65534, additionalGids: [], home: '/nonexistent' });
});

test('a numeric uid found in passwd takes its gid, home and groups', () => {
  assert.deepEqual(resolveUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [10, 100], home: '/home/alice' });
});

test('a numeric uid not in passwd gets gid 0 and home /', () => {
  assert.deepEqual(resolveUser('2000', PASSWD, GROUP), { uid: 2000, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser('2000', undefined, undefined), { uid: 2000, gid: 0, additionalGids: [], home: '/' });
});

test('uid:gid numeric', () => {
  assert.deepEqual(resolveUser('1000:50', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [10, 100], home: '/home/alice' });
  assert.deepEqual(resolveUser('3000:3000', PASSWD, GROUP), { uid: 3000, gid: 3000, additionalGids: [], home: '/' });
});

test('user:group names; the primary group is not repeated as supplementary', () => {
  assert.deepEqual(resolveUser('alice:users', PASSWD, GROUP), { uid: 1000, gid: 100, additionalGids: [10], home: '/home/alice' });
  assert.deepEqual(resolveUser('daemon:staff', PASSWD, GROUP), { uid: 1, gid: 50, additionalGids: [], home: '/usr/sbin' });
});

test('unknown user is InvalidArgument', () => {
  assert.throws(() => resolveUser('bob', PASSWD, GROUP), isInvalid(/unable to find user bob: no matching entries in passwd file/));
  assert.throws(() => resolveUser('alice', undefined, GROUP), isInvalid(/unable to find user alice/));
});

test('unknown group is InvalidArgument', () => {
  assert.throws(() => resolveUser('alice:nosuch', PASSWD, GROUP), isInvalid(/unable to find group nosuch: no matching entries in group file/));
  assert.throws(() => resolveUser('0:wheel', PASSWD, undefined), isInvalid(/unable to find group wheel/));
});

test('ids out of range are InvalidArgument', () => {
  assert.throws(() => resolveUser('2147483648', PASSWD, GROUP), isInvalid(/uids and gids must be in range 0-2147483647/));
  assert.throws(() => resolveUser('1000:99999999999', PASSWD, GROUP), isInvalid(/must be in range/));
  assert.equal(resolveUser('2147483647', undefined, undefined).uid, 2147483647);
});
