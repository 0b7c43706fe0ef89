// packLayer / packDir, and the applyLayer -> packLayer -> applyLayer round trip.
// Needs root and dist/berth-pack.js (npm run build).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerHelpers } from '../../../src/engine/layers/index';
import { paxAwareExtract } from '../../../src/engine/layers/pax';
import { host, makeTar, snapshot, tarStream, tempDir, type TarEntry } from './helpers';

const tars = new LayerHelpers(host);

const CAPS = Buffer.from('0100000280200000000000000000000000000000', 'hex');

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Listed {
  name: string;
  type: string;
  linkname?: string | null;
  uid?: number;
  pax: Map<string, Buffer>;
}

async function list(tar: Buffer): Promise<Listed[]> {
  const { extract, takePax } = paxAwareExtract();
  const out: Listed[] = [];
  const done = (async () => {
    for await (const e of extract) {
      const pax = takePax();
      // tar-stream leaves PAX uid to us (ids above 0o777777 live there).
      const uid = pax.has('uid') ? Number(pax.get('uid')!.toString()) : e.header.uid;
      out.push({ name: e.header.name, type: e.header.type, linkname: e.header.linkname, uid, pax });
      for await (const _ of e);
    }
  })();
  extract.end(tar);
  await done;
  return out;
}

const longDir = 'deep/' + 'd'.repeat(90) + '/' + 'e'.repeat(90);
const layerEntries: TarEntry[] = [
  { header: { name: 'bin/', type: 'directory', mode: 0o755 } },
  { header: { name: 'bin/ping', mode: 0o4755, uid: 0 }, body: 'ping', xattrs: { 'security.capability': CAPS, 'user.a': 'b' } },
  { header: { name: 'bin/ping-hl', type: 'link', linkname: 'bin/ping' } },
  { header: { name: 'bin/sh', type: 'symlink', linkname: '/etc/shadow' } },
  { header: { name: 'dev/', type: 'directory' } },
  { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
  { header: { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 } },
  { header: { name: 'dev/fifo', type: 'fifo', mode: 0o600 } },
  { header: { name: 'tmp/', type: 'directory', mode: 0o1777 } },
  { header: { name: 'home/', type: 'directory' } },
  { header: { name: 'home/user/', type: 'directory', uid: 300000, gid: 300001, mode: 0o2750 } },
  { header: { name: 'home/user/empty', uid: 300000, gid: 300001 }, body: '' },
  { header: { name: 'home/user/résumé ünïcode.txt', uid: 300000, gid: 300001 }, body: 'utf-8 name' },
  { header: { name: `${longDir}/`, type: 'directory' } },
  { header: { name: `${longDir}/file-with-a-long-path`, mtime: new Date('2010-10-10T10:10:10Z') }, body: 'long' },
  { header: { name: 'deep/longlink', type: 'symlink', linkname: 'x/'.repeat(80) + 'target' } },
  { header: { name: 'etc/', type: 'directory' } },
  { header: { name: 'etc/.wh.removed' } },
  { header: { name: 'var/', type: 'directory' } },
  { header: { name: 'var/cache/', type: 'directory', mode: 0o700 } },
  { header: { name: 'var/cache/.wh..wh..opq' } },
  { header: { name: 'var/cache/new' }, body: 'new' },
];

test('a layer survives apply -> packLayer -> apply unchanged', async (t) => {
  const a = tempDir(t, 'berth-pack-a-');
  const b = tempDir(t, 'berth-pack-b-');
  await tars.apply(tarStream(await makeTar(layerEntries)), a);

  const tar1 = await collect(tars.packLayer(a));
  const tar2 = await collect(tars.packLayer(a));
  assert.ok(tar1.equals(tar2), 'packing is reproducible');

  const entries = await list(tar1);
  const names = entries.map((e) => e.name);
  assert.deepEqual(names, [
    'bin/',
    'bin/ping',
    'bin/ping-hl',
    'bin/sh',
    'deep/',
    'deep/' + 'd'.repeat(90) + '/',
    `${longDir}/`,
    `${longDir}/file-with-a-long-path`,
    'deep/longlink',
    'dev/',
    'dev/fifo',
    'dev/null',
    'dev/sda',
    'etc/',
    'etc/.wh.removed',
    'home/',
    'home/user/',
    'home/user/empty',
    'home/user/résumé ünïcode.txt',
    'tmp/',
    'var/',
    'var/cache/',
    'var/cache/.wh..wh..opq',
    'var/cache/new',
  ]);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('bin/ping-hl')!.type, 'link');
  assert.equal(byName.get('bin/ping-hl')!.linkname, 'bin/ping');
  assert.ok(byName.get('bin/ping')!.pax.get('SCHILY.xattr.security.capability')!.equals(CAPS), 'capability bytes kept exactly');
  assert.equal(byName.get('home/user/empty')!.uid, 300000);
  assert.equal(byName.get('deep/longlink')!.linkname, 'x/'.repeat(80) + 'target');
  // No overlay markers leak into the tar as xattrs.
  for (const e of entries) for (const k of e.pax.keys()) assert.ok(!k.startsWith('SCHILY.xattr.trusted.'), `${e.name}: ${k}`);

  await tars.apply(tarStream(tar1), b);
  const sa = snapshot(a);
  const sb = snapshot(b);
  // The roots are mkdtemp dirs (mode, times differ); compare what is in them.
  assert.deepEqual(sa[''].xattrs, sb[''].xattrs);
  delete sa[''];
  delete sb[''];
  assert.deepEqual(sb, sa);
  assert.equal(sa['etc/removed'].type, 'char');
  assert.equal(sa['var/cache'].xattrs['trusted.overlay.opaque'], Buffer.from('y').toString('hex'));
  assert.equal(sa['bin/ping'].mode, 0o4755);
  assert.equal(sa['bin/ping'].nlink, 2);
});

test('packLayer converts overlay whiteouts, including shared (hardlinked) ones', async (t) => {
  const upper = tempDir(t, 'berth-pack-upper-');
  fs.mkdirSync(path.join(upper, 'a'));
  host.mknod(path.join(upper, 'a/gone1'), 0o020000, 0, 0);
  // overlayfs may link every whiteout to one shared inode.
  fs.linkSync(path.join(upper, 'a/gone1'), path.join(upper, 'a/gone2'));
  host.lsetxattr(upper, 'trusted.overlay.opaque', Buffer.from('y'));
  host.lsetxattr(path.join(upper, 'a'), 'trusted.overlay.origin', Buffer.from('x'));
  host.lsetxattr(path.join(upper, 'a'), 'user.kept', Buffer.from('1'));
  const entries = await list(await collect(tars.packLayer(upper)));
  assert.deepEqual(
    entries.map((e) => [e.name, e.type]),
    [
      ['.wh..wh..opq', 'file'],
      ['a/', 'directory'],
      ['a/.wh.gone1', 'file'],
      ['a/.wh.gone2', 'file'],
    ],
  );
  assert.deepEqual([...entries[1].pax.keys()], ['SCHILY.xattr.user.kept']);
});

test('packDir keeps device nodes as they are and skips trusted xattrs', async (t) => {
  const dir = tempDir(t, 'berth-pack-dir-');
  host.mknod(path.join(dir, 'wh'), 0o020000, 0, 0);
  fs.mkdirSync(path.join(dir, 'o'));
  host.lsetxattr(path.join(dir, 'o'), 'trusted.overlay.opaque', Buffer.from('y'));
  fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd'));
  fs.symlinkSync('/etc', path.join(dir, 'etc'));
  const entries = await list(await collect(tars.packDir(dir)));
  assert.deepEqual(
    entries.map((e) => [e.name, e.type, e.linkname ?? null]),
    [
      ['etc', 'symlink', '/etc'],
      ['o/', 'directory', null],
      ['passwd', 'symlink', '/etc/passwd'],
      ['wh', 'character-device', null],
    ],
  );
  assert.equal(entries[1].pax.size, 0);
});

test('packing a missing directory fails the stream', async (t) => {
  const dir = tempDir(t, 'berth-pack-missing-');
  await assert.rejects(collect(tars.packLayer(path.join(dir, 'nope'))), /pack .*nope/);
});

test('a consumer that stops early does not leave the helper running', async (t) => {
  const dir = tempDir(t, 'berth-pack-big-');
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `f${i}`), Buffer.alloc(1 << 20, i));
  const s = tars.packLayer(dir);
  for await (const _ of s) break; // destroys the stream
  assert.ok(s.destroyed);
  const running = () =>
    fs.readdirSync('/proc').some((pid) => {
      try {
        return /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir);
      } catch {
        return false;
      }
    });
  for (let i = 0; i < 50 && running(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(running(), false, 'pack helper still running');
});
