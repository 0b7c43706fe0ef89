import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { exists, readJSON, writeFileAtomic, writeFileAtomicSync } from '../../../src/util/fs';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fs-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function sub(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
}

test('writeFileAtomic writes the file and leaves no temp file', async () => {
  const d = sub('a');
  const f = path.join(d, 'state.json');
  await writeFileAtomic(f, '{"v":1}');
  assert.equal(fs.readFileSync(f, 'utf8'), '{"v":1}');
  assert.deepEqual(fs.readdirSync(d), ['state.json']);
  assert.equal(fs.statSync(f).mode & 0o777, 0o600);
});

test('writeFileAtomic replaces an existing file (new inode) and accepts Buffers', async () => {
  const d = sub('b');
  const f = path.join(d, 'x');
  fs.writeFileSync(f, 'old content that is longer');
  const ino = fs.statSync(f).ino;
  await writeFileAtomic(f, Buffer.from('new'), { sync: false });
  assert.equal(fs.readFileSync(f, 'utf8'), 'new');
  assert.notEqual(fs.statSync(f).ino, ino);
  assert.deepEqual(fs.readdirSync(d), ['x']);
});

test('writeFileAtomic: many concurrent writers leave one complete file and no temp files', async () => {
  const d = sub('c');
  const f = path.join(d, 'x');
  const payloads = Array.from({ length: 20 }, (_, i) => `writer-${i}-`.repeat(100));
  await Promise.all(payloads.map((p) => writeFileAtomic(f, p)));
  assert.ok(payloads.includes(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(fs.readdirSync(d), ['x']);
});

test('writeFileAtomic removes its temp file when the rename fails', async () => {
  const d = sub('d');
  const target = path.join(d, 'isdir');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'child'), '');
  await assert.rejects(writeFileAtomic(target, 'x'), (err: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(err.code!));
  assert.deepEqual(fs.readdirSync(d), ['isdir']);
});

test('writeFileAtomic into a missing directory fails with ENOENT', async () => {
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x'), 'x'), { code: 'ENOENT' });
});

test('writeFileAtomicSync writes and leaves no temp file', () => {
  const d = sub('e');
  const f = path.join(d, 'x');
  writeFileAtomicSync(f, 'one');
  writeFileAtomicSync(f, 'two');
  assert.equal(fs.readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(d), ['x']);
});

test('readJSON: missing file is undefined, bad JSON throws', async () => {
  const d = sub('f');
  assert.equal(await readJSON(path.join(d, 'none.json')), undefined);
  fs.writeFileSync(path.join(d, 'ok.json'), '{"a":[1,2]}');
  assert.deepEqual(await readJSON(path.join(d, 'ok.json')), { a: [1, 2] });
  fs.writeFileSync(path.join(d, 'bad.json'), '{"a":');
  await assert.rejects(readJSON(path.join(d, 'bad.json')), SyntaxError);
});

test('exists does not follow symlinks', async () => {
  const d = sub('g');
  fs.symlinkSync(path.join(d, 'nowhere'), path.join(d, 'dangling'));
  assert.equal(await exists(path.join(d, 'dangling')), true);
  assert.equal(await exists(path.join(d, 'nowhere')), false);
});
