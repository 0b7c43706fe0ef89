import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { chainIDOf } from '../../../../src/oci/layers';
import { OverlaySnapshotter } from '../../../../src/engine/snapshots/overlay';

const dirs: string[] = [];
let root: string;
let snap: OverlaySnapshotter;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-overlay-'));
  dirs.push(root);
  snap = new OverlaySnapshotter(root);
  await snap.init();
});
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const diff = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

// A fill callback that writes files and reports a diffID.
function fill(files: Record<string, string>, diffID: string, size = 1024) {
  return async (dir: string) => {
    for (const [name, content] of Object.entries(files)) {
      await fsp.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await fsp.writeFile(path.join(dir, name), content);
    }
    return { diffID, size };
  };
}

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind);
  if (re) assert.match(err.message, re);
  return true;
};

test('init creates the directory layout', () => {
  for (const d of ['layers', 'l', 'containers', 'tmp']) assert.ok(fs.statSync(path.join(root, d)).isDirectory(), d);
});

test('createLayer stores the files, meta.json and a short link', async () => {
  const info = await snap.createLayer(undefined, fill({ 'etc/hostname': 'base\n', 'bin/sh': '#!' }, diff('base'), 2048));
  assert.equal(info.chainID, diff('base'));
  assert.equal(info.diffID, diff('base'));
  assert.equal(info.parent, undefined);
  assert.equal(info.size, 2048);
  assert.match(info.link, /^[A-Z0-9]{26}$/);
  assert.equal(fs.readFileSync(path.join(snap.diffDir(info.chainID), 'etc/hostname'), 'utf8'), 'base\n');
  const meta = JSON.parse(fs.readFileSync(path.join(root, 'layers', info.chainID.slice(7), 'meta.json'), 'utf8'));
  assert.deepEqual(meta, { chainID: info.chainID, diffID: info.diffID, size: 2048, link: info.link });
  // The short link points at the diff dir, relative so the root can move.
  const link = path.join(root, 'l', info.link);
  assert.equal(fs.readlinkSync(link), path.join('..', 'layers', info.chainID.slice(7), 'diff'));
  assert.equal(fs.readFileSync(path.join(link, 'etc/hostname'), 'utf8'), 'base\n');
  assert.deepEqual(snap.get(info.chainID), info);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
});

test('a child layer\'s chain id derives from its parent', async () => {
  const base = await snap.createLayer(undefined, fill({ a: '1' }, diff('base')));
  const top = await snap.createLayer(base.chainID, fill({ b: '2' }, diff('top')));
  assert.equal(top.parent, base.chainID);
  assert.equal(top.diffID, diff('top'));
  assert.equal(top.chainID, chainIDOf(base.chainID, diff('top')));
  assert.equal(snap.list().length, 2);
});

test('createLayer on an unknown parent is NotFound and leaves nothing', async () => {
  let called = false;
  await assert.rejects(
    snap.createLayer(diff('nope'), async () => {
      called = true;
      return { diffID: diff('x'), size: 0 };
    }),
    isKind('NotFound', /parent layer/),
  );
  assert.equal(called, false);
  assert.deepEqual(fs.readdirSync(path.join(root, 'layers')), []);
});

test('a failing fill leaves no layer and no temp dir', async () => {
  await assert.rejects(
    snap.createLayer(undefined, async (dir) => {
      await fsp.writeFile(path.join(dir, 'partial'), 'x');
      throw new Error('tar broke');
    }),
    /tar broke/,
  );
  assert.deepEqual(fs.readdirSync(path.join(root, 'layers')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'l')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(snap.list(), []);
});

test('createLayer with an existing chain id returns the existing layer and drops the copy', async () => {
  const first = await snap.createLayer(undefined, fill({ f: 'first' }, diff('same')));
  const second = await snap.createLayer(undefined, fill({ f: 'second' }, diff('same')));
  assert.deepEqual(second, first);
  assert.equal(fs.readFileSync(path.join(snap.diffDir(first.chainID), 'f'), 'utf8'), 'first');
  assert.equal(fs.readdirSync(path.join(root, 'layers')).length, 1);
  assert.equal(fs.readdirSync(path.join(root, 'l')).length, 1);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
});

test('concurrent createLayer calls with the same chain id both succeed', async () => {
  const slow = (content: string) => async (dir: string) => {
    await fsp.writeFile(path.join(dir, 'f'), content);
    await new Promise((r) => setTimeout(r, 20));
    return { diffID: diff('dup'), size: 1 };
  };
  const [a, b] = await Promise.all([snap.createLayer(undefined, slow('a')), snap.createLayer(undefined, slow('b'))]);
  assert.equal(a.chainID, b.chainID);
  assert.equal(a.link, b.link);
  assert.equal(fs.readdirSync(path.join(root, 'l')).length, 1);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
});

test('lowers() lists short links from the top layer down to the base', async () => {
  const l1 = await snap.createLayer(undefined, fill({ one: '1' }, diff('1')));
  const l2 = await snap.createLayer(l1.chainID, fill({ two: '2' }, diff('2')));
  const l3 = await snap.createLayer(l2.chainID, fill({ three: '3' }, diff('3')));
  const lowers = snap.lowers(l3.chainID);
  assert.deepEqual(lowers, [l3, l2, l1].map((l) => path.join(root, 'l', l.link)));
  assert.ok(fs.existsSync(path.join(lowers[0], 'three')));
  assert.ok(fs.existsSync(path.join(lowers[2], 'one')));
  assert.deepEqual(snap.lowers(l1.chainID), [path.join(root, 'l', l1.link)]);
  assert.throws(() => snap.lowers(diff('unknown')), isKind('NotFound'));
});

test('prepare() creates the container dirs and returns an overlay mount', async () => {
  const l1 = await snap.createLayer(undefined, fill({ one: '1' }, diff('1')));
  const l2 = await snap.createLayer(l1.chainID, fill({ two: '2' }, diff('2')));
  const id = 'c'.repeat(64);
  const m = await snap.prepare(id, l2.chainID);
  const cdir = path.join(root, 'containers', id);
  assert.equal(snap.containerDir(id), cdir);
  assert.deepEqual(m, {
    type: 'overlay',
    source: 'overlay',
    target: path.join(cdir, 'merged'),
    options: [
      `lowerdir=${path.join(cdir, 'init')}:${path.join(root, 'l', l2.link)}:${path.join(root, 'l', l1.link)}`,
      `upperdir=${path.join(cdir, 'diff')}`,
      `workdir=${path.join(cdir, 'work')}`,
      // No redirects or metacopy: upper-dir diffs rely on plain whiteouts.
      'redirect_dir=off',
      'metacopy=off',
    ],
  });
  for (const d of ['diff', 'work', 'merged']) assert.ok(fs.statSync(path.join(cdir, d)).isDirectory(), d);
  // Docker's init layer: runc's mount points, made below the writable layer.
  const init = path.join(cdir, 'init');
  for (const d of ['proc', 'sys', 'dev/pts', 'dev/shm']) assert.ok(fs.statSync(path.join(init, d)).isDirectory(), d);
  for (const f of ['.dockerenv', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console']) assert.equal(fs.statSync(path.join(init, f)).size, 0, f);
  assert.equal(fs.readlinkSync(path.join(init, 'etc/mtab')), '/proc/mounts');
  assert.deepEqual(fs.readdirSync(path.join(cdir, 'diff')), []);
  // Made once and shared: each container's init links to it, and removing a
  // container leaves it for the others.
  assert.equal(fs.readlinkSync(init), path.join(root, 'init'));
  const other = 'e'.repeat(64);
  await snap.prepare(other, l2.chainID);
  assert.equal(fs.readlinkSync(path.join(snap.containerDir(other), 'init')), path.join(root, 'init'));
  await snap.removeContainer(other);
  assert.ok(fs.statSync(path.join(root, 'init', 'proc')).isDirectory());
  // Idempotent, and mounts() describes the same thing.
  assert.deepEqual(await snap.prepare(id, l2.chainID), m);
  assert.deepEqual(snap.mounts(id, l2.chainID), m);
  // A container made before init layers existed mounts without one.
  fs.rmSync(init, { recursive: true });
  assert.equal(snap.mounts(id, l2.chainID).options[0], `lowerdir=${path.join(root, 'l', l2.link)}:${path.join(root, 'l', l1.link)}`);
});

test('prepare() on an unknown layer is NotFound', async () => {
  await assert.rejects(snap.prepare('x'.repeat(64), diff('nope')), isKind('NotFound'));
});

test('upperSize sums the files in the writable layer; removeContainer drops it', async () => {
  const l1 = await snap.createLayer(undefined, fill({}, diff('1')));
  const id = 'd'.repeat(64);
  await snap.prepare(id, l1.chainID);
  assert.equal(await snap.upperSize(id), 0);
  const upper = path.join(snap.containerDir(id), 'diff');
  fs.writeFileSync(path.join(upper, 'a'), 'x'.repeat(100));
  fs.mkdirSync(path.join(upper, 'sub'));
  fs.writeFileSync(path.join(upper, 'sub', 'b'), 'y'.repeat(23));
  fs.symlinkSync('a', path.join(upper, 'link'));
  assert.equal(await snap.upperSize(id), 123);
  await snap.removeContainer(id);
  assert.equal(fs.existsSync(snap.containerDir(id)), false);
  assert.equal(await snap.upperSize(id), 0);
});

test('removeLayer removes the dir, the link and the record', async () => {
  const l1 = await snap.createLayer(undefined, fill({ one: '1' }, diff('1')));
  const l2 = await snap.createLayer(l1.chainID, fill({ two: '2' }, diff('2')));
  await snap.removeLayer(l2.chainID);
  assert.equal(snap.get(l2.chainID), undefined);
  assert.equal(fs.existsSync(path.join(root, 'layers', l2.chainID.slice(7))), false);
  assert.equal(fs.existsSync(path.join(root, 'l', l2.link)), false);
  assert.deepEqual(snap.list().map((l) => l.chainID), [l1.chainID]);
  assert.ok(fs.existsSync(path.join(root, 'l', l1.link)));
  await snap.removeLayer(l2.chainID); // unknown: no-op
});

test('init() reloads layers with meta.json and drops the ones without', async () => {
  const l1 = await snap.createLayer(undefined, fill({ one: '1' }, diff('1')));
  const l2 = await snap.createLayer(l1.chainID, fill({ two: '2' }, diff('2')));
  // A layer cut short by a crash: dir present, meta.json missing.
  const orphan = path.join(root, 'layers', 'f'.repeat(64));
  fs.mkdirSync(path.join(orphan, 'diff'), { recursive: true });
  fs.writeFileSync(path.join(orphan, 'diff', 'junk'), 'x');
  // A fill interrupted in tmp/.
  fs.mkdirSync(path.join(root, 'tmp', 'abandoned', 'diff'), { recursive: true });

  const again = new OverlaySnapshotter(root);
  await again.init();
  const plain = (x: object) => JSON.parse(JSON.stringify(x));
  assert.deepEqual(again.get(l1.chainID), plain(l1));
  assert.deepEqual(again.get(l2.chainID), plain(l2));
  assert.equal(again.list().length, 2);
  assert.equal(fs.existsSync(orphan), false);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(again.lowers(l2.chainID), snap.lowers(l2.chainID));
});
