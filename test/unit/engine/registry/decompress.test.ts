import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BerthError } from '../../../../src/errors';
import { MEDIA_TYPES } from '../../../../src/oci/mediatypes';
import { decompressStream, detectCompression } from '../../../../src/engine/registry';

const haveZstd = spawnSync('zstd', ['--version']).status === 0;

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

// Yields `data` in small pieces, so decoders see chunk boundaries.
function pieces(data: Buffer, size = 7): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

function zstd(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-c', '-q', '-3'], { input: data });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout;
}

const payload = Buffer.from('hello tar '.repeat(5000));

test('gzip', async () => {
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.ociLayerGzip, pieces(gzipSync(payload)))), payload);
});

test('concatenated gzip members decode to the concatenation', async () => {
  const a = Buffer.from('first member;');
  const b = Buffer.from('second member');
  const data = Buffer.concat([gzipSync(a), gzipSync(b)]);
  assert.equal((await collect(decompressStream(MEDIA_TYPES.ociLayerGzip, pieces(data, 3)))).toString(), 'first member;second member');
});

test('uncompressed tar passes through', async () => {
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.ociLayerTar, pieces(payload))), payload);
});

test('zstd', { skip: !haveZstd && 'zstd not installed' }, async () => {
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.ociLayerZstd, pieces(zstd(payload), 1000))), payload);
  // Concatenated frames too.
  const two = Buffer.concat([zstd(Buffer.from('one;')), zstd(Buffer.from('two'))]);
  assert.equal((await collect(decompressStream(MEDIA_TYPES.ociLayerZstd, Readable.from([two])))).toString(), 'one;two');
});

test('a large zstd stream keeps its backpressure', { skip: !haveZstd && 'zstd not installed' }, async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 'x');
  const out = await collect(decompressStream(MEDIA_TYPES.ociLayerZstd, pieces(zstd(big), 65536)));
  assert.equal(out.length, big.length);
});

test('corrupt input is a clear error', { skip: !haveZstd && 'zstd not installed' }, async () => {
  await assert.rejects(collect(decompressStream(MEDIA_TYPES.ociLayerGzip, Readable.from([Buffer.from('not gzip at all')]))), /gzip decompression failed/);
  await assert.rejects(collect(decompressStream(MEDIA_TYPES.ociLayerZstd, Readable.from([Buffer.from('not zstd at all')]))), /zstd decompression failed/);
  const truncated = gzipSync(payload).subarray(0, 100);
  await assert.rejects(collect(decompressStream(MEDIA_TYPES.ociLayerGzip, Readable.from([truncated]))), /gzip decompression failed/);
});

test('errors of the source reach the reader', { skip: !haveZstd && 'zstd not installed' }, async () => {
  for (const mt of [MEDIA_TYPES.ociLayerGzip, MEDIA_TYPES.ociLayerZstd, MEDIA_TYPES.dockerLayerGzip]) {
    const src = new Readable({ read() {} });
    const out = decompressStream(mt, src);
    src.push(mt === MEDIA_TYPES.ociLayerZstd ? zstd(payload).subarray(0, 50) : gzipSync(payload).subarray(0, 50));
    setTimeout(() => src.destroy(new Error('digest mismatch upstream')), 20);
    await assert.rejects(collect(out), /digest mismatch upstream/, mt);
  }
});

test('Docker layer type: compression is sniffed from the bytes', { skip: !haveZstd && 'zstd not installed' }, async () => {
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.dockerLayerGzip, pieces(gzipSync(payload), 1))), payload);
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.dockerLayerGzip, pieces(payload))), payload);
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.dockerLayerGzip, pieces(zstd(payload)))), payload);
  assert.deepEqual(await collect(decompressStream(MEDIA_TYPES.dockerLayerGzip, Readable.from([]))), Buffer.alloc(0));
  assert.equal(detectCompression(Buffer.from([0x1f])), undefined);
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
});

test('unknown media type is InvalidArgument', () => {
  assert.throws(
    () => decompressStream('application/vnd.example.layer+lz4', Readable.from([])),
    (err: unknown) => err instanceof BerthError && err.kind === 'InvalidArgument' && /unsupported layer media type/.test(err.message),
  );
});

test('missing zstd binary is a clear error', async () => {
  const prev = process.env.BERTH_ZSTD;
  process.env.BERTH_ZSTD = '/nonexistent/zstd';
  try {
    await assert.rejects(collect(decompressStream(MEDIA_TYPES.ociLayerZstd, Readable.from([Buffer.from('x')]))), /install the zstd package/);
  } finally {
    if (prev === undefined) delete process.env.BERTH_ZSTD;
    else process.env.BERTH_ZSTD = prev;
  }
});

test('a consumer that stops early stops the zstd process', { skip: !haveZstd && 'zstd not installed' }, async () => {
  const big = zstd(Buffer.alloc(32 * 1024 * 1024, 'y'));
  const out = decompressStream(MEDIA_TYPES.ociLayerZstd, pieces(big, 65536));
  for await (const _ of out) break; // destroys `out`
  assert.ok(out.destroyed);
});
