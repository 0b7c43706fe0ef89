import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountPoints, mountsOf, parseBind, parseMount, parseTmpfs, parseVolumesFrom } from '../../../../src/server/containers/mounts';

const invalid = (re: RegExp) => (err: any) => err?.kind === 'InvalidArgument' && re.test(err.message);

test('Binds: host paths are binds, names are volumes, a lone path is anonymous', () => {
  assert.deepEqual(parseBind('/host/dir:/ctr:ro'), { type: 'bind', source: '/host/dir', target: '/ctr', readonly: true, mode: 'ro', createHostPath: true });
  assert.deepEqual(parseBind('/h:/c:rw,rshared'), { type: 'bind', source: '/h', target: '/c', readonly: false, mode: 'rw,rshared', createHostPath: true, propagation: 'rshared' });
  assert.deepEqual(parseBind('/h/../h2/:/c/'), { type: 'bind', source: '/h2', target: '/c', readonly: false, mode: '', createHostPath: true });
  assert.deepEqual(parseBind('data:/var/lib/data'), { type: 'volume', source: 'data', target: '/var/lib/data', readonly: false, mode: 'z' });
  assert.deepEqual(parseBind('data:/d:nocopy,Z'), { type: 'volume', source: 'data', target: '/d', readonly: false, mode: 'nocopy,Z', noCopy: true });
  assert.deepEqual(parseBind('/anon'), { type: 'volume', source: '', target: '/anon', readonly: false, mode: '', anonymous: true });
});

test('Binds: dockerd\'s errors', () => {
  assert.throws(() => parseBind('/a:/b:/c:/d'), invalid(/^invalid volume specification: '\/a:\/b:\/c:\/d'$/));
  assert.throws(() => parseBind(':/b'), invalid(/invalid volume specification/));
  assert.throws(() => parseBind('/foo:rw'), invalid(/invalid volume specification: '\/foo:rw'/));
  assert.throws(() => parseBind('/a:/b:ro,rw'), invalid(/^invalid mode: ro,rw$/));
  assert.throws(() => parseBind('/a:/b:bogus'), invalid(/^invalid mode: bogus$/));
  assert.throws(() => parseBind('/a:relative'), invalid(/^invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute$/));
  assert.throws(() => parseBind('/a:/'), invalid(/destination can't be '\/'/));
  assert.throws(() => parseBind('vol:/b:shared'), invalid(/type "volume": field BindOptions must not be specified/));
});

test('Mounts: each type with its options, and what does not belong refused', () => {
  assert.deepEqual(parseMount({ Type: 'bind', Source: '/s', Target: '/t', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } }),
    { type: 'bind', source: '/s', target: '/t', readonly: true, propagation: 'rslave', nonRecursive: true });
  assert.deepEqual(parseMount({ Type: 'volume', Source: 'v', Target: '/t', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } }),
    { type: 'volume', source: 'v', target: '/t', readonly: false, mode: 'z', noCopy: true, driver: 'local', driverOptions: { type: 'tmpfs', device: 'tmpfs' }, labels: { a: 'b' } });
  assert.deepEqual(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o1777, Options: [['exec'], ['uid', '1000']] } }),
    { type: 'tmpfs', source: '', target: '/t', readonly: false, tmpfsOptions: ['size=64m', 'mode=1777', 'exec', 'uid=1000'] });
  assert.deepEqual(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1000 } }).tmpfsOptions, ['size=1000']);
  assert.throws(() => parseMount({ Type: 'bind', Target: '/t' }), invalid(/^invalid mount config for type "bind": field Source must not be empty$/));
  assert.throws(() => parseMount({ Type: 'bind', Source: '/s' }), invalid(/field Target must not be empty/));
  assert.throws(() => parseMount({ Type: 'volume', Source: 'v', Target: '/t', BindOptions: {} }), invalid(/type "volume": field BindOptions must not be specified/));
  assert.throws(() => parseMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }), invalid(/type "tmpfs": field Source must not be specified/));
  assert.throws(() => parseMount({ Type: 'volume', Target: '/t', ReadOnly: true }), invalid(/must not set ReadOnly mode when using anonymous volumes/));
  assert.throws(() => parseMount({ Type: 'npipe', Target: '/t' }), invalid(/type "npipe": mount type unknown/));
  assert.throws(() => parseMount({ Type: 'image', Source: 'busybox', Target: '/t' }), invalid(/HostConfig\.Mounts\.Type "image" is not supported yet/));
  assert.throws(() => parseMount({ Type: 'volume', Source: 'v', Target: '/t', VolumeOptions: { Subpath: 'a' } }), invalid(/HostConfig\.Mounts\.VolumeOptions\.Subpath/));
  assert.throws(() => parseMount({ Type: 'bind', Source: '/s', Target: '/t', BindOptions: { Propagation: 'weird' } }), invalid(/invalid propagation mode: weird/));
});

test('Tmpfs and VolumesFrom', () => {
  assert.deepEqual(parseTmpfs({ '/run': 'rw,size=64m', '/ro': 'ro' }), [
    { type: 'tmpfs', source: '', target: '/run', readonly: false, tmpfsOptions: ['rw', 'size=64m'] },
    { type: 'tmpfs', source: '', target: '/ro', readonly: true, tmpfsOptions: [] },
  ]);
  assert.deepEqual(parseVolumesFrom(['a', 'b:ro', 'c:rw']), [{ container: 'a' }, { container: 'b', readonly: true }, { container: 'c', readonly: false }]);
  assert.throws(() => parseVolumesFrom(['a:xx']), invalid(/^invalid mode: xx$/));
});

test('Config.Volumes become anonymous volumes unless something is mounted there', () => {
  const { mounts } = mountsOf({ binds: ['/h:/data'], volumes: { '/data': {}, '/cache/': {} } });
  assert.deepEqual(mounts.map((m) => [m.type, m.target, !!m.anonymous]), [['bind', '/data', false], ['volume', '/cache', true]]);
  assert.throws(() => mountsOf({ volumes: { rel: {} } }), invalid(/invalid mount path: 'rel' mount path must be absolute/));
});

test('inspect Mounts: binds, volumes and --mount tmpfs as dockerd shows them; --tmpfs ones are not mount points', () => {
  const ms = mountsOf({ binds: ['/h:/b:ro', 'v:/v'], mounts: [{ Type: 'tmpfs', Target: '/mt' }], tmpfs: { '/t': '' } }).mounts;
  assert.deepEqual(mountPoints(ms, (n) => `/root/volumes/${n}/_data`, { '/t': '' }), [
    { Type: 'bind', Source: '/h', Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    { Type: 'volume', Name: 'v', Source: '/root/volumes/v/_data', Destination: '/v', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/mt', Mode: '', RW: true, Propagation: '' },
  ]);
});
