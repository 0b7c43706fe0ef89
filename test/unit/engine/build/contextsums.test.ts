// contextSums: the content hashes taken from the context tar as it is
// uploaded, which COPY's cache key uses instead of reading the files again.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { contextSums } from '../../../../src/engine/build/copy';

type E = { name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; data?: string; linkname?: string };

function tarOf(entries: E[]): Readable {
  const p = tar.pack();
  for (const e of entries) {
    if (e.type === undefined || e.type === 'file') p.entry({ name: e.name }, e.data ?? '');
    else p.entry({ name: e.name, type: e.type, linkname: e.linkname });
  }
  p.finalize();
  return Readable.from(p, { objectMode: false });
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('hashes each regular file by its extracted path; a later entry replaces an earlier one', async () => {
  const sums = await contextSums(tarOf([{ name: 'a', data: 'one' }, { name: './d/', type: 'directory' }, { name: './d/b', data: 'two' }, { name: 'a', data: 'three' }]), '/ctx');
  assert.deepEqual(sums.get('/ctx/a'), { sha256: sha('three'), size: 5 });
  assert.deepEqual(sums.get('/ctx/d/b'), { sha256: sha('two'), size: 3 });
  assert.equal(sums.size, 2);
});

test('names that climb out stay under the root', async () => {
  const sums = await contextSums(tarOf([{ name: '../../x', data: 'x' }]), '/ctx');
  assert.deepEqual([...sums.keys()], ['/ctx/x']);
});

test('a hard link, or a file under a symbolic link of the tar, leaves nothing known (every file is read again)', async () => {
  assert.equal((await contextSums(tarOf([{ name: 'a', data: 'one' }, { name: 'b', type: 'link', linkname: 'a' }]), '/ctx')).size, 0);
  assert.equal((await contextSums(tarOf([{ name: 'a', data: 'one' }, { name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/passwd', data: 'x' }]), '/ctx')).size, 0);
  // A symbolic link with nothing under it is fine.
  assert.equal((await contextSums(tarOf([{ name: 'a', data: 'one' }, { name: 'l', type: 'symlink', linkname: 'a' }]), '/ctx')).size, 1);
});

test('not a tar: nothing known, and the input is drained', async () => {
  const input = Readable.from([Buffer.alloc(1024, 7)], { objectMode: false });
  const sums = await contextSums(input, '/ctx');
  assert.equal(sums.size, 0);
});
