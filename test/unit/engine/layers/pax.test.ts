import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tar from 'tar-stream';
import { fitsUstarName, paxFor } from '../../../../src/engine/layers/pack';
import { BadPaxError, decodePax, encodePax, encodePaxRecord, paxAwareExtract, paxAwarePack, paxHeaderBlock, type TarHeader } from '../../../../src/engine/layers/pax';

const CAPS = Buffer.from('0100000280200000000000000000000000000000', 'hex');

test('PAX records count their own length', () => {
  assert.equal(encodePaxRecord('path', 'a').toString(), '9 path=a\n');
  // 99 bytes without the prefix: the 3-digit prefix pushes it to 102.
  const rec = encodePaxRecord('k', 'x'.repeat(94));
  assert.equal(rec.length, 101);
  assert.ok(rec.toString().startsWith('101 k='));
  const rec2 = encodePaxRecord('k', 'x'.repeat(93));
  assert.equal(rec2.length, parseInt(rec2.toString(), 10));
});

test('PAX values round-trip as raw bytes', () => {
  const raw = Buffer.from([0x00, 0x80, 0xff, 0x0a, 0x3d, 0x20]);
  const buf = encodePax([
    ['SCHILY.xattr.security.capability', CAPS],
    ['SCHILY.xattr.user.raw', raw],
    ['path', 'résumé'],
  ]);
  const back = decodePax(buf);
  assert.ok(back.get('SCHILY.xattr.security.capability')!.equals(CAPS));
  assert.ok(back.get('SCHILY.xattr.user.raw')!.equals(raw));
  assert.equal(back.get('path')!.toString(), 'résumé');
});

test('malformed PAX data is rejected', () => {
  for (const bad of ['x path=a\n', '99 path=a\n', '9 path=a ', '8 =abcd\n', '6 abc\n', '3 \n']) {
    assert.throws(() => decodePax(Buffer.from(bad)), BadPaxError, JSON.stringify(bad));
  }
  // Trailing NUL padding is tolerated.
  assert.equal(decodePax(Buffer.concat([Buffer.from('9 path=a\n'), Buffer.alloc(20)])).get('path')!.toString(), 'a');
});

test('the PAX header block has a valid ustar checksum', () => {
  const block = paxHeaderBlock(123, new Date(1_000_000_000_000));
  assert.equal(block.length, 512);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  assert.equal(parseInt(block.toString('latin1', 148, 155), 8), sum);
  assert.equal(block.toString('latin1', 156, 157), 'x');
  assert.equal(parseInt(block.toString('latin1', 124, 135), 8), 123);
});

test('fitsUstarName follows the name/prefix split', () => {
  assert.ok(fitsUstarName('a'.repeat(100)));
  assert.ok(!fitsUstarName('a'.repeat(101)));
  assert.ok(fitsUstarName('p'.repeat(155) + '/' + 'n'.repeat(100)));
  assert.ok(!fitsUstarName('p'.repeat(156) + '/' + 'n'.repeat(100)));
  assert.ok(!fitsUstarName('ünï'));
});

test('paxFor moves what ustar cannot hold into PAX records', () => {
  const plain: TarHeader = { name: 'etc/passwd', uid: 1000, gid: 1000 };
  assert.equal(paxFor(plain, []), null);

  const long = 'd/'.repeat(200) + 'f';
  const h: TarHeader = { name: long, linkname: 'ü'.repeat(10), uid: 300000, gid: 5 };
  const pax = decodePax(paxFor(h, [['security.capability', CAPS]])!);
  assert.equal(pax.get('path')!.toString(), long);
  assert.equal(pax.get('linkpath')!.toString(), 'ü'.repeat(10));
  assert.equal(pax.get('uid')!.toString(), '300000');
  assert.equal(pax.has('gid'), false);
  assert.ok(pax.get('SCHILY.xattr.security.capability')!.equals(CAPS));
  // The header keeps ASCII placeholders that ustar can store.
  assert.ok(fitsUstarName(h.name));
  assert.ok(/^[\x20-\x7e]{1,100}$/.test(h.linkname!));
});

test('binary xattrs survive tar-stream pack and extract', async () => {
  const { pack, withPax } = paxAwarePack();
  const h1: TarHeader = { name: 'ü/'.repeat(60) + 'ping', mode: 0o4755, size: 4 };
  const pax1 = paxFor(h1, [['security.capability', CAPS], ['user.x', Buffer.from([0xff, 0xfe])]]);
  pack.entry(withPax(h1, pax1), Buffer.from('ping'));
  pack.entry({ name: 'plain', size: 1 }, Buffer.from('p'));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);

  const { extract, takePax } = paxAwareExtract();
  const seen: Array<{ name: string; pax: Map<string, Buffer>; body: string }> = [];
  const done = (async () => {
    for await (const e of extract) {
      const pax = takePax();
      let body = '';
      for await (const c of e) body += (c as Buffer).toString();
      seen.push({ name: e.header.name, pax, body });
    }
  })();
  extract.end(Buffer.concat(chunks));
  await done;

  assert.equal(seen.length, 2);
  assert.equal(seen[0].name, 'ü/'.repeat(60) + 'ping');
  assert.equal(seen[0].body, 'ping');
  assert.ok(seen[0].pax.get('SCHILY.xattr.security.capability')!.equals(CAPS));
  assert.ok(seen[0].pax.get('SCHILY.xattr.user.x')!.equals(Buffer.from([0xff, 0xfe])));
  // Records belong to one entry only.
  assert.equal(seen[1].name, 'plain');
  assert.equal(seen[1].pax.size, 0);
});

test('global PAX records apply to later entries under local ones', async () => {
  // Hand-made: a global header (type g) then an entry with a local header.
  const g = encodePax([['SCHILY.xattr.user.g', 'global'], ['SCHILY.xattr.user.both', 'global']]);
  const l = encodePax([['SCHILY.xattr.user.both', 'local']]);
  const gblock = paxHeaderBlock(g.length, new Date(0));
  gblock.write('g', 156, 1, 'latin1');
  // Fix the checksum after changing the type flag.
  gblock.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of gblock) sum += b;
  gblock.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

  const p = tar.pack();
  p.entry({ name: 'f', size: 0 }, Buffer.alloc(0));
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const plain = Buffer.concat(chunks);
  const archive = Buffer.concat([gblock, pad(g), paxHeaderBlock(l.length, new Date(0)), pad(l), plain]);

  const { extract, takePax } = paxAwareExtract();
  const got: Map<string, Buffer>[] = [];
  const done = (async () => {
    for await (const e of extract) {
      got.push(takePax());
      for await (const _ of e);
    }
  })();
  extract.end(archive);
  await done;
  assert.equal(got.length, 1);
  assert.equal(got[0].get('SCHILY.xattr.user.g')!.toString(), 'global');
  assert.equal(got[0].get('SCHILY.xattr.user.both')!.toString(), 'local');
});
