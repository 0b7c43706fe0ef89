// Push's parallel gzip: whatever the input and however it is chunked, the
// output is one valid gzip stream (members in order) of exactly the input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { BLOCK_SIZE, ParallelGzip } from '../../../../src/engine/images/pgzip';

async function compress(chunks: Buffer[], level?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new ParallelGzip(level))) out.push(c as Buffer);
  return Buffer.concat(out);
}

// Gzip members in a stream: each starts with the magic and is followed by
// another only once the previous one is complete.
function members(gz: Buffer): number {
  let n = 0;
  let rest = gz;
  while (rest.length > 0) {
    assert.deepEqual([...rest.subarray(0, 2)], [0x1f, 0x8b], `member ${n + 1} starts with the gzip magic`);
    const inflater = zlib.inflateRawSync(rest.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    rest = rest.subarray(10 + inflater.engine.bytesWritten + 8);
    n++;
  }
  return n;
}

test('an empty input is one empty gzip member', async () => {
  const gz = await compress([]);
  assert.equal(zlib.gunzipSync(gz).length, 0);
  assert.equal(members(gz), 1);
});

test('several blocks, fed in odd-sized chunks, come out whole and in order', async () => {
  // Half random (incompressible), half text: both kinds of block.
  const input = Buffer.concat([randomBytes(BLOCK_SIZE + 12345), Buffer.from('berth '.repeat(300_000))]);
  const chunks: Buffer[] = [];
  for (let off = 0, i = 0; off < input.length; i++) {
    const n = [1, 4096, 65537, 999_999][i % 4];
    chunks.push(input.subarray(off, off + n));
    off += n;
  }
  const gz = await compress(chunks);
  assert.ok(zlib.gunzipSync(gz).equals(input));
  assert.equal(members(gz), Math.ceil(input.length / BLOCK_SIZE));
  assert.ok(gz.length < input.length * 0.6, `compressed ${gz.length} of ${input.length}`);
});

test('every level gives valid gzip; level 0 stores', async () => {
  const input = Buffer.from('layer '.repeat(50_000));
  for (const level of [0, 1, 6, 9, 12]) assert.ok(zlib.gunzipSync(await compress([input], level)).equals(input), `level ${level}`);
  assert.ok((await compress([input], 0)).length > input.length);
});

test('a level out of range is refused', async () => {
  await assert.rejects(compress([Buffer.from('x')], 13), /level 0\.\.12/);
});
