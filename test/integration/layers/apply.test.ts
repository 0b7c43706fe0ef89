// Applying layers (LayerHelpers.apply) against hostile tars: nothing may change outside the layer dir.
// Needs root and build/Release/berth-untar (npm install).
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { LayerHelpers } from '../../../src/engine/layers/index';
import { isKind } from '../../../src/errors';
import { exists, host, info, makeTar, sandbox, snapshot, tarStream, xattrsOf, type Sandbox, type TarEntry } from './helpers';

const tars = new LayerHelpers(host);

const rel = (abs: string) => abs.slice(1); // "/tmp/x" -> "tmp/x"
const up = '../../../../../../../../';

// Applies entries, then checks the canary dir is byte-for-byte unchanged and
// nothing appeared next to the layer dir or at the escape paths given.
async function applyConfined(t: TestContext, sb: Sandbox, entries: TarEntry[], escapes: string[] = []) {
  const before = snapshot(sb.canaryDir);
  const baseXattrs = xattrsOf(sb.base);
  let result: Awaited<ReturnType<typeof tars.apply>> | undefined;
  let error: unknown;
  try {
    result = await tars.apply(tarStream(await makeTar(entries)), sb.layer);
  } catch (err) {
    error = err;
  }
  for (const p of escapes) t.after(() => fs.rmSync(p, { recursive: true, force: true }));
  assert.deepEqual(snapshot(sb.canaryDir), before, 'canary dir changed');
  assert.deepEqual(fs.readdirSync(sb.base), ['layer'], 'something appeared next to the layer');
  assert.deepEqual(xattrsOf(sb.base), baseXattrs, 'xattrs changed on the layer parent');
  for (const p of escapes) assert.equal(exists(p), false, `${p} was created outside the layer`);
  return { result, error };
}

test('dot-dot and absolute names land inside the layer', async (t) => {
  const sb = sandbox(t);
  const tag = crypto.randomBytes(4).toString('hex');
  const { result, error } = await applyConfined(
    t,
    sb,
    [
      { header: { name: '../escaped-dotdot' }, body: 'x' },
      { header: { name: up + rel(sb.canary) }, body: 'pwned' },
      { header: { name: sb.canary }, body: 'pwned-abs' },
      { header: { name: `/tmp/berth-escape-${tag}` }, body: 'x' },
      { header: { name: `./../x/../../berth-escape-${tag}` }, body: 'x' },
      { header: { name: '..', type: 'directory', mode: 0o750 } },
    ],
    [`/tmp/berth-escape-${tag}`, `/berth-escape-${tag}`],
  );
  assert.equal(error, undefined);
  assert.equal(result!.files, 5);
  assert.equal(fs.readFileSync(path.join(sb.layer, 'escaped-dotdot'), 'utf8'), 'x');
  assert.equal(fs.readFileSync(path.join(sb.layer, rel(sb.canary)), 'utf8'), 'pwned-abs');
  assert.ok(exists(path.join(sb.layer, `tmp/berth-escape-${tag}`)));
  assert.ok(exists(path.join(sb.layer, `berth-escape-${tag}`)));
  // ".." is the layer root itself.
  assert.equal(fs.statSync(sb.layer).mode & 0o7777, 0o750);
});

test('names are cleaned lexically: ".", "//", trailing "/" and UTF-8 and long names', async (t) => {
  const sb = sandbox(t);
  const long = 'd'.repeat(120) + '/' + 'f'.repeat(150); // needs a PAX path
  const longUtf8 = 'ü'.repeat(60) + '/' + 'ß'.repeat(70);
  const cases: Array<[string, string]> = [
    ['./etc/passwd', 'etc/passwd'],
    ['//usr//bin/', 'usr/bin'],
    ['usr/./lib/x', 'usr/lib/x'],
    ['a/b/../../../../c', 'c'],
    ['a/../b', 'b'],
    ['./../x/../../y', 'y'],
    ['résumé/ünï', 'résumé/ünï'],
    [long, long],
    [longUtf8, longUtf8],
  ];
  const { result, error } = await applyConfined(
    t,
    sb,
    cases.map(([name]) => (name.endsWith('/') ? { header: { name, type: 'directory' as const } } : { header: { name }, body: name })),
  );
  assert.equal(error, undefined);
  assert.equal(result!.entries, cases.length);
  for (const [name, want] of cases) {
    const st = fs.lstatSync(path.join(sb.layer, want));
    if (name.endsWith('/')) assert.ok(st.isDirectory(), name);
    else assert.equal(fs.readFileSync(path.join(sb.layer, want), 'utf8'), name, name);
  }
});

test('symlinks to /, to ../.. and chains resolve inside the layer', async (t) => {
  const sb = sandbox(t);
  const tag = crypto.randomBytes(4).toString('hex');
  const { error } = await applyConfined(
    t,
    sb,
    [
      { header: { name: 'evil', type: 'symlink', linkname: '/' } },
      { header: { name: 'up', type: 'symlink', linkname: '../..' } },
      { header: { name: 'chain1', type: 'symlink', linkname: 'chain2' } },
      { header: { name: 'chain2', type: 'symlink', linkname: up + rel(sb.canaryDir) } },
      { header: { name: 'evil' + sb.canary }, body: 'via-root' },
      { header: { name: `up/berth-escape-${tag}` }, body: 'via-up' },
      { header: { name: 'chain1/canary' }, body: 'via-chain' },
      { header: { name: 'chain1/newdir', type: 'directory', mode: 0o777 } },
      { header: { name: `evil/tmp/berth-escape-${tag}/`, type: 'directory' } },
      // A file entry over a symlink to the canary replaces the symlink.
      { header: { name: 'abs', type: 'symlink', linkname: sb.canary } },
      { header: { name: 'abs' }, body: 'replaced' },
    ],
    [`/tmp/berth-escape-${tag}`, `/berth-escape-${tag}`, path.join(path.dirname(sb.base), `berth-escape-${tag}`)],
  );
  assert.equal(error, undefined);
  assert.equal(fs.readFileSync(path.join(sb.layer, rel(sb.canary)), 'utf8'), 'via-chain');
  assert.equal(fs.readFileSync(path.join(sb.layer, `berth-escape-${tag}`), 'utf8'), 'via-up');
  assert.ok(fs.statSync(path.join(sb.layer, rel(sb.canaryDir), 'newdir')).isDirectory());
  assert.ok(fs.statSync(path.join(sb.layer, `tmp/berth-escape-${tag}`)).isDirectory());
  const abs = fs.lstatSync(path.join(sb.layer, 'abs'));
  assert.ok(abs.isFile());
  assert.equal(fs.readFileSync(path.join(sb.layer, 'abs'), 'utf8'), 'replaced');
});

test('hardlinks cannot reach files outside the layer', async (t) => {
  const cases: Array<[string, (sb: Sandbox) => TarEntry[]]> = [
    ['dot-dot target', (sb) => [{ header: { name: 'hl', type: 'link', linkname: up + rel(sb.canary) } }]],
    ['absolute target', (sb) => [{ header: { name: 'hl', type: 'link', linkname: sb.canary } }]],
    ['target through a symlink', (sb) => [
      { header: { name: 's', type: 'symlink', linkname: up + rel(sb.canaryDir) } },
      { header: { name: 'hl', type: 'link', linkname: 's/canary' } },
    ]],
    ['target through a symlink chain', (sb) => [
      { header: { name: 'a', type: 'symlink', linkname: 'b' } },
      { header: { name: 'b', type: 'symlink', linkname: sb.canaryDir } },
      { header: { name: 'hl', type: 'link', linkname: 'a/canary' } },
    ]],
  ];
  for (const [what, entries] of cases) {
    await t.test(what, async (t) => {
      const sb = sandbox(t);
      const { error } = await applyConfined(t, sb, entries(sb));
      assert.ok(isKind(error, 'InvalidArgument'), `expected InvalidArgument, got ${error}`);
      assert.match(String((error as Error).message), /hl/);
      assert.equal(fs.statSync(sb.canary).nlink, 1);
      assert.equal(exists(path.join(sb.layer, 'hl')), false);
    });
  }

  await t.test('links through symlink chains stay inside', async (t) => {
    const sb = sandbox(t);
    const { error } = await applyConfined(t, sb, [
      { header: { name: 'real/', type: 'directory' } },
      { header: { name: 'real/f' }, body: 'data' },
      { header: { name: 's1', type: 'symlink', linkname: 's2' } },
      { header: { name: 's2', type: 'symlink', linkname: '/real' } },
      { header: { name: 'hl', type: 'link', linkname: 's1/f' } },
      { header: { name: 'hls', type: 'link', linkname: 's2' } },
      { header: { name: 'hl2', type: 'link', linkname: '../../../real/f' } },
    ]);
    assert.equal(error, undefined);
    const f = fs.statSync(path.join(sb.layer, 'real/f'));
    assert.equal(fs.statSync(path.join(sb.layer, 'hl')).ino, f.ino);
    assert.equal(fs.statSync(path.join(sb.layer, 'hl2')).ino, f.ino);
    assert.equal(f.nlink, 3);
    // A hardlink to a symlink links the symlink itself, never its target.
    assert.equal(fs.lstatSync(path.join(sb.layer, 'hls')).ino, fs.lstatSync(path.join(sb.layer, 's2')).ino);
    assert.equal(fs.readlinkSync(path.join(sb.layer, 'hls')), '/real');
  });
});

test('whiteouts and opaque markers stay inside the layer', async (t) => {
  const sb = sandbox(t);
  const { result, error } = await applyConfined(t, sb, [
    { header: { name: 'd/', type: 'directory' } },
    { header: { name: 'd/f' }, body: 'gone soon' },
    { header: { name: 'keep' }, body: 'kept' },
    { header: { name: '.wh.d' } },
    { header: { name: '../.wh.canary' } },
    { header: { name: up + rel(sb.canaryDir) + '/.wh.canary' } },
    { header: { name: 'evil', type: 'symlink', linkname: sb.canaryDir } },
    { header: { name: 'evil/.wh.canary' } },
    { header: { name: '.wh..wh..opq' } },
    { header: { name: '../.wh..wh..opq' } },
    { header: { name: 'opq/', type: 'directory' } },
    { header: { name: 'opq/.wh..wh..opq' } },
    { header: { name: '.wh..wh.plnk' } },
  ]);
  assert.equal(error, undefined);
  assert.equal(result!.whiteouts, 4);
  assert.equal(result!.opaques, 3);
  const isWhiteout = (p: string) => {
    const st = fs.lstatSync(path.join(sb.layer, p));
    return st.isCharacterDevice() && st.rdev === 0;
  };
  assert.ok(isWhiteout('d'), 'directory replaced by a whiteout');
  assert.ok(isWhiteout('canary'));
  assert.ok(isWhiteout(rel(sb.canary)));
  assert.equal(fs.readFileSync(path.join(sb.layer, 'keep'), 'utf8'), 'kept');
  assert.equal(xattrsOf(sb.layer)['trusted.overlay.opaque'], Buffer.from('y').toString('hex'));
  assert.equal(xattrsOf(path.join(sb.layer, 'opq'))['trusted.overlay.opaque'], Buffer.from('y').toString('hex'));
  assert.equal(exists(path.join(sb.layer, '.wh..wh.plnk')), false);
  assert.equal(xattrsOf(sb.canaryDir)['trusted.overlay.opaque'], undefined);
});

test('bad whiteout names are rejected', async (t) => {
  for (const name of ['.wh.', 'a/.wh..', '.wh..']) {
    const sb = sandbox(t);
    const { error } = await applyConfined(t, sb, [{ header: { name } }]);
    assert.ok(isKind(error, 'InvalidArgument'), `${name}: ${error}`);
  }
});

test('directories, symlinks and files replace each other without following links', async (t) => {
  const sb = sandbox(t);
  const { error } = await applyConfined(t, sb, [
    { header: { name: 'real/', type: 'directory', mode: 0o755 } },
    { header: { name: 'real/keep' }, body: 'keep' },
    { header: { name: 's', type: 'symlink', linkname: 'real' } },
    { header: { name: 's/', type: 'directory', mode: 0o700 } },
    { header: { name: 'out', type: 'symlink', linkname: sb.canaryDir } },
    { header: { name: 'out/', type: 'directory', mode: 0o777 } },
    { header: { name: 'd/', type: 'directory' } },
    { header: { name: 'd/x/', type: 'directory' } },
    { header: { name: 'd/x/f' }, body: 'f' },
    { header: { name: 'd', type: 'symlink', linkname: '/' } },
    { header: { name: 'fd/', type: 'directory' } },
    { header: { name: 'fd/f' }, body: 'f' },
    { header: { name: 'fd' }, body: 'now a file' },
    { header: { name: 'ff' }, body: 'file first' },
    { header: { name: 'ff/', type: 'directory', mode: 0o711 } },
    { header: { name: 'ld/', type: 'directory' } },
    { header: { name: 'ld/f' }, body: 'f' },
    { header: { name: 'target' }, body: 't' },
    { header: { name: 'ld', type: 'link', linkname: 'target' } },
    // Removing a tree unlinks the symlinks in it, never what they point to.
    { header: { name: 'keepme/', type: 'directory' } },
    { header: { name: 'keepme/file' }, body: 'still here' },
    { header: { name: 'rmd/', type: 'directory' } },
    { header: { name: 'rmd/link', type: 'symlink', linkname: '/keepme' } },
    { header: { name: 'rmd/rel', type: 'symlink', linkname: '../keepme' } },
    { header: { name: 'rmd' }, body: 'file over a tree with symlinks' },
  ]);
  assert.equal(error, undefined);
  const L = (p: string) => path.join(sb.layer, p);
  assert.ok(fs.lstatSync(L('s')).isDirectory());
  assert.equal(fs.statSync(L('s')).mode & 0o7777, 0o700);
  assert.equal(fs.statSync(L('real')).mode & 0o7777, 0o755, 'directory entry followed a symlink');
  assert.equal(fs.readFileSync(L('real/keep'), 'utf8'), 'keep');
  assert.ok(fs.lstatSync(L('out')).isDirectory());
  assert.ok(fs.lstatSync(L('d')).isSymbolicLink());
  assert.equal(fs.readlinkSync(L('d')), '/');
  assert.ok(fs.lstatSync(L('fd')).isFile());
  assert.equal(fs.readFileSync(L('fd'), 'utf8'), 'now a file');
  assert.ok(fs.lstatSync(L('ff')).isDirectory());
  assert.equal(fs.statSync(L('ff')).mode & 0o7777, 0o711);
  assert.equal(fs.lstatSync(L('ld')).ino, fs.lstatSync(L('target')).ino);
  assert.equal(fs.readFileSync(L('keepme/file'), 'utf8'), 'still here');
  assert.ok(fs.lstatSync(L('rmd')).isFile());
});

// cap_setuid (bit 7: a 0x80 byte, not valid UTF-8) and cap_net_raw, effective.
export const CAPS = Buffer.from('0100000280200000000000000000000000000000', 'hex');

test('device nodes, FIFOs, special modes and xattrs', { timeout: 30_000 }, async (t) => {
  const sb = sandbox(t);
  const { result, error } = await applyConfined(t, sb, [
    { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 } },
    { header: { name: 'dev/zero', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o666 } },
    // Files over existing nodes must replace them, never write into them
    // (opening the FIFO would hang; the device would get the data).
    { header: { name: 'dev/zero' }, body: 'not into the device' },
    { header: { name: 'p', type: 'fifo', mode: 0o644 } },
    { header: { name: 'p' }, body: 'not through the fifo' },
    { header: { name: 'p2', type: 'fifo', mode: 0o600, uid: 7 } },
    { header: { name: 'suid', mode: 0o4755, uid: 1000, gid: 1000 }, body: '#!/bin/sh\n' },
    { header: { name: 'sgid', mode: 0o2711, uid: 0, gid: 50 }, body: 'x' },
    { header: { name: 'tmp/', type: 'directory', mode: 0o1777 } },
    {
      header: { name: 'capbin', mode: 0o755, uid: 1000, gid: 1000 },
      body: 'binary',
      xattrs: {
        'security.capability': CAPS,
        'user.note': 'hello',
        'trusted.overlay.opaque': 'y',
        'trusted.overlay.redirect': '/etc',
        'security.selinux': 'system_u:object_r:shadow_t:s0',
      },
    },
    { header: { name: 'fakeopq/', type: 'directory' }, xattrs: { 'trusted.overlay.opaque': 'y', 'user.ok': 'yes' } },
  ]);
  assert.equal(error, undefined);
  assert.equal(result!.skippedXattrs, 4);
  const L = (p: string) => path.join(sb.layer, p);
  const nul = fs.lstatSync(L('dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  assert.equal(nul.mode & 0o7777, 0o666);
  const loop = fs.lstatSync(L('dev/loop9'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, (7 << 8) | 9);
  assert.equal(loop.gid, 6);
  assert.ok(fs.lstatSync(L('dev/zero')).isFile());
  assert.equal(fs.readFileSync(L('dev/zero'), 'utf8'), 'not into the device');
  assert.ok(fs.lstatSync(L('p')).isFile());
  assert.ok(fs.lstatSync(L('p2')).isFIFO());
  assert.equal(fs.lstatSync(L('p2')).uid, 7);
  const suid = fs.lstatSync(L('suid'));
  assert.equal(suid.mode & 0o7777, 0o4755, 'setuid survives the chown');
  assert.equal(suid.uid, 1000);
  assert.equal(fs.lstatSync(L('sgid')).mode & 0o7777, 0o2711);
  assert.equal(fs.lstatSync(L('sgid')).gid, 50);
  assert.equal(fs.lstatSync(L('tmp')).mode & 0o7777, 0o1777);
  const cap = info(L('capbin'));
  assert.equal(cap.uid, 1000);
  assert.deepEqual(cap.xattrs, { 'security.capability': CAPS.toString('hex'), 'user.note': Buffer.from('hello').toString('hex') });
  assert.deepEqual(xattrsOf(L('fakeopq')), { 'user.ok': Buffer.from('yes').toString('hex') });
});

test('file and directory times are kept; directory times set last', async (t) => {
  const sb = sandbox(t);
  const { error } = await applyConfined(t, sb, [
    { header: { name: 'd/', type: 'directory', mtime: new Date('2002-02-02T00:00:00Z') } },
    { header: { name: 'd/f', mtime: new Date('2001-01-01T00:00:00Z') }, body: 'f' },
    { header: { name: 'd/l', type: 'symlink', linkname: 'f', mtime: new Date('2003-03-03T00:00:00Z') } },
    { header: { name: 'd/sub/', type: 'directory', mtime: new Date('2004-04-04T00:00:00Z') } },
    { header: { name: 'd/sub/g' }, body: 'g' },
  ]);
  assert.equal(error, undefined);
  const sec = (s: string) => new Date(s).getTime() / 1000;
  assert.equal(info(path.join(sb.layer, 'd')).mtime, sec('2002-02-02T00:00:00Z'));
  assert.equal(info(path.join(sb.layer, 'd/f')).mtime, sec('2001-01-01T00:00:00Z'));
  assert.equal(info(path.join(sb.layer, 'd/l')).mtime, sec('2003-03-03T00:00:00Z'));
  assert.equal(info(path.join(sb.layer, 'd/sub')).mtime, sec('2004-04-04T00:00:00Z'));
});

test('large files are streamed intact', async (t) => {
  const sb = sandbox(t);
  const big = crypto.randomBytes(6 * 1024 * 1024 + 123);
  const tar = await makeTar([{ header: { name: 'big' }, body: big }]);
  // Fed in small chunks, as a network stream would be.
  const chunks: Buffer[] = [];
  for (let i = 0; i < tar.length; i += 65536) chunks.push(tar.subarray(i, i + 65536));
  const stats = await tars.apply(Readable.from(chunks), sb.layer);
  assert.equal(stats.bytes, big.length);
  assert.ok(fs.readFileSync(path.join(sb.layer, 'big')).equals(big));
});

test('malformed archives reject with InvalidArgument', async (t) => {
  const good = await makeTar([{ header: { name: 'f' }, body: 'x'.repeat(5000) }]);
  const cases: Array<[string, Buffer]> = [
    ['garbage', Buffer.from('this is not a tar archive '.repeat(40))],
    ['truncated', good.subarray(0, 1536)],
    ['bad checksum', Buffer.concat([Buffer.from(good.subarray(0, 148)), Buffer.from('0000000\0'), good.subarray(156)])],
  ];
  for (const [what, buf] of cases) {
    const sb = sandbox(t);
    await assert.rejects(tars.apply(tarStream(buf), sb.layer), (err: any) => {
      assert.ok(isKind(err, 'InvalidArgument'), `${what}: ${err}`);
      return true;
    });
  }
});

test('an empty archive applies nothing', async (t) => {
  const sb = sandbox(t);
  const stats = await tars.apply(tarStream(Buffer.alloc(1024)), sb.layer);
  assert.equal(stats.entries, 0);
  assert.deepEqual(fs.readdirSync(sb.layer), []);
});

test('an input error rejects with that error and stops the helper', async (t) => {
  const sb = sandbox(t);
  const tar = await makeTar([{ header: { name: 'f' }, body: 'x'.repeat(100_000) }]);
  const input = new Readable({ read() {} });
  input.push(tar.subarray(0, 10_000));
  setTimeout(() => input.destroy(new Error('download failed')), 50);
  await assert.rejects(tars.apply(input, sb.layer), /download failed/);
});

test('a missing layer directory is an error', async (t) => {
  const sb = sandbox(t);
  await assert.rejects(tars.apply(tarStream(Buffer.alloc(1024)), path.join(sb.base, 'nope')), /chroot/);
  assert.deepEqual(fs.readdirSync(sb.base), ['layer']);
});
