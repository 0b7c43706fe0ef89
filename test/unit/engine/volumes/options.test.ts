import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MS_BIND, MS_NOSUID, MS_RDONLY, MS_REC } from '../../../../src/host';
import { mergeTmpfsOptions, mountCall, validateLocalOptions, validateVolumeName } from '../../../../src/engine/volumes/options';

const invalid = (re: RegExp) => (err: any) => err?.kind === 'InvalidArgument' && re.test(err.message);

test('volume names as the local driver takes them', () => {
  validateVolumeName('ab');
  validateVolumeName('my_vol.1-x');
  assert.throws(() => validateVolumeName('a'), invalid(/too short/));
  assert.throws(() => validateVolumeName('a/b'), invalid(/"a\/b" includes invalid characters for a local volume name/));
  assert.throws(() => validateVolumeName('-ab'), invalid(/invalid characters/));
});

test('local driver options: known keys, and type and device together', () => {
  validateLocalOptions({});
  validateLocalOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  validateLocalOptions({ type: 'none', device: '/srv', o: 'bind' });
  assert.throws(() => validateLocalOptions({ foo: 'x' }), invalid(/^invalid option: "foo"$/));
  assert.throws(() => validateLocalOptions({ type: 'tmpfs' }), invalid(/^missing required option: "device"$/));
  assert.throws(() => validateLocalOptions({ device: '/x' }), invalid(/^missing required option: "type"$/));
  assert.throws(() => validateLocalOptions({ size: '1g' }), invalid(/quota/));
  assert.throws(() => validateLocalOptions({ type: 'none', device: 'rel', o: 'bind' }), invalid(/absolute/));
});

test('mount calls: flags apart from data; a read-only bind is remounted', () => {
  assert.deepEqual(mountCall({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,nosuid,uid=5' }),
    { source: 'tmpfs', fstype: 'tmpfs', flags: MS_NOSUID, data: 'size=1m,uid=5', remountReadonly: false });
  assert.deepEqual(mountCall({ type: 'none', device: '/srv', o: 'rbind,ro' }),
    { source: '/srv', fstype: null, flags: MS_BIND | MS_REC, data: '', remountReadonly: true });
  assert.equal(mountCall({ type: 'ext4', device: '/dev/x', o: 'ro' }).flags, MS_RDONLY);
  assert.deepEqual(mountCall({ type: 'ext4', device: '/dev/x', o: 'noatime,data=ordered' }), { source: '/dev/x', fstype: 'ext4', flags: 0x400, data: 'data=ordered', remountReadonly: false });
});

test('tmpfs options: Docker\'s defaults under the user\'s', () => {
  assert.deepEqual(mergeTmpfsOptions([]), ['noexec', 'nosuid', 'nodev']);
  assert.deepEqual(mergeTmpfsOptions(['exec', 'size=1m', 'size=2m']), ['nosuid', 'nodev', 'exec', 'size=2m']);
  assert.deepEqual(mergeTmpfsOptions(['rw', 'dev']), ['noexec', 'nosuid', 'rw', 'dev']);
});
