// -v, --mount and --tmpfs parsing against the docker CLI's results and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMount, parseTmpfs, parseVolume, parseVolumeFlags } from '../../../../src/cli/opts/mounts';
import { readCSVRecord } from '../../../../src/cli/opts/csv';

describe('-v specs (compose ParseVolume)', () => {
  it('tells binds, named and anonymous volumes apart', () => {
    assert.deepEqual(parseVolume('/data'), { type: 'volume', source: '', target: '/data' });
    assert.deepEqual(parseVolume('/srv:/srv:ro'), { type: 'bind', source: '/srv', target: '/srv' });
    assert.deepEqual(parseVolume('named:/n:nocopy'), { type: 'volume', source: 'named', target: '/n' });
    assert.deepEqual(parseVolume('./rel:/r'), { type: 'bind', source: './rel', target: '/r' });
    assert.deepEqual(parseVolume('~/x:/x'), { type: 'bind', source: '~/x', target: '/x' });
    assert.deepEqual(parseVolume('c:\\dir:/w'), { type: 'bind', source: 'c:\\dir', target: '/w' });
    assert.deepEqual(parseVolume('ab'), { type: 'volume', source: '', target: 'ab' });
  });

  it('fails with docker\'s messages', () => {
    assert.throws(() => parseVolume(''), { message: 'invalid empty volume spec' });
    assert.throws(() => parseVolume('/a::/b'), { message: 'invalid spec: /a::/b: empty section between colons' });
    assert.throws(() => parseVolume('/a:/b:ro:x'), { message: 'invalid spec: /a:/b:ro:x: too many colons' });
  });

  it('makes Binds (relative sources absolute) and Volumes', () => {
    assert.deepEqual(parseVolumeFlags(['/data', '/h:/c:rw,z', './rel:/rel', 'vol:/v', '/data'], '/work'), {
      binds: ['/h:/c:rw,z', '/work/rel:/rel', 'vol:/v'],
      volumes: { '/data': {} },
    });
    // A one-letter name reads as a Windows drive: docker makes it an anonymous volume.
    assert.deepEqual(parseVolumeFlags(['v:/v']).volumes, { 'v:/v': {} });
  });

  it('reads --tmpfs PATH[:OPTIONS], the last one for a path winning', () => {
    assert.deepEqual(parseTmpfs(['/run', '/tmp:rw,size=64m', '/run:noexec']), { '/run': 'noexec', '/tmp': 'rw,size=64m' });
  });
});

describe('--mount (opts.MountOpt)', () => {
  it('reads each type and its options', () => {
    assert.deepEqual(parseMount('type=bind,source=/src,target=/dst,readonly,bind-propagation=rslave'), { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave' } });
    assert.deepEqual(parseMount('type=volume,src=v,dst=/v,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs,volume-driver=local'), {
      Type: 'volume',
      Source: 'v',
      Target: '/v',
      VolumeOptions: { Labels: { a: 'b' }, DriverConfig: { Options: { type: 'tmpfs' }, Name: 'local' }, NoCopy: true },
    });
    assert.deepEqual(parseMount('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
    assert.deepEqual(parseMount('target=/anon'), { Type: 'volume', Target: '/anon' });
    assert.deepEqual(parseMount('type=bind,src=.,dst=/here,ro=false,bind-recursive=disabled', '/work'), { Type: 'bind', Source: '/work', Target: '/here', BindOptions: { NonRecursive: true } });
    assert.deepEqual(parseMount('"type=bind","source=/a,b",target=/c'), { Type: 'bind', Source: '/a,b', Target: '/c' });
  });

  it('fails with docker\'s messages', () => {
    const fails: [string, string][] = [
      ['type=bind,source=/a', 'target is required'],
      ['type=,target=/a', 'type is required'],
      ['type=bind,target=/a,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
      ['type=volume,target=/a,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'"],
      ['type=tmpfs,target=/a,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
      ['type=tmpfs,target=/a,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'],
      ['target=/a,bogus=1', "unexpected key 'bogus' in 'bogus=1'"],
      ['target=/a,rw', "invalid field 'rw' must be a key=value pair"],
      ['type=bind,target=/a,readonly=maybe', 'invalid value for readonly: maybe'],
      ['type=bind,src=/a,target=/b,bind-recursive=readonly', "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction"],
      ['type=bind,src=/a,target=/b,bind-recursive=sometimes', 'invalid value for bind-recursive: sometimes (must be "enabled", "disabled", "writable", or "readonly")'],
      ['', 'EOF'],
      ['a"b', 'parse error on line 1, column 2: bare " in non-quoted field'],
    ];
    for (const [v, message] of fails) assert.throws(() => parseMount(v), { message }, v);
  });

  it('reads CSV as Go does', () => {
    assert.deepEqual(readCSVRecord('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
  });
});
