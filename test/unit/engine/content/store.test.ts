import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { ContentStore, digestOf } from '../../../../src/engine/content/store';

const dirs: string[] = [];
let store: ContentStore;

beforeEach(async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-content-'));
  dirs.push(d);
  store = new ContentStore(d);
  await store.init();
});
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const ingestFiles = () => fs.readdirSync(store.ingestDir);
const blobFiles = () => fs.readdirSync(store.blobs);

const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

test('digestOf is sha256 of the bytes', () => {
  assert.equal(digestOf('hello'), 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal(digestOf(Buffer.from('hello')), digestOf('hello'));
});

test('put stores a blob under its digest; read and has find it', async () => {
  const data = Buffer.from('{"a":1}');
  const d = await store.put(data);
  assert.equal(d, sha(data));
  assert.equal(await store.has(d), true);
  assert.deepEqual(await store.read(d), data);
  assert.equal(await store.size(d), data.length);
  assert.equal(fs.readFileSync(path.join(store.blobs, d.slice(7))).toString(), '{"a":1}');
  assert.deepEqual(await store.list(), [d]);
  assert.deepEqual(ingestFiles(), []);
});

test('put of existing content is a no-op', async () => {
  const d1 = await store.put(Buffer.from('same'));
  const before = fs.statSync(store.blobPath(d1)).ino;
  const d2 = await store.put(Buffer.from('same'));
  assert.equal(d2, d1);
  assert.equal(fs.statSync(store.blobPath(d1)).ino, before);
  assert.equal(blobFiles().length, 1);
});

test('read of missing content is NotFound; has is false', async () => {
  const d = sha('missing');
  assert.equal(await store.has(d), false);
  await assert.rejects(store.read(d), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'NotFound');
    assert.match(err.message, /not found/);
    return true;
  });
});

test('invalid digests are InvalidArgument', async () => {
  assert.throws(() => store.blobPath('sha256:abc'), isInvalid(/invalid digest/));
  assert.throws(() => store.blobPath('../../etc/passwd'), isInvalid(/invalid digest/));
  assert.throws(() => store.blobPath(`md5:${'a'.repeat(64)}`), isInvalid(/invalid digest/));
  await assert.rejects(store.read('sha256:../x'), isInvalid(/invalid digest/));
  assert.equal(await store.has('nonsense'), false);
});

test('ingest in chunks, with the expected digest and size', async () => {
  const data = Buffer.from('chunk one, chunk two, chunk three');
  const w = store.ingest({ digest: sha(data), size: data.length });
  assert.equal(path.dirname(w.tmp), store.ingestDir);
  await w.write(data.subarray(0, 5));
  await w.write(data.subarray(5, 20));
  await w.write(data.subarray(20));
  assert.deepEqual(await w.commit(), { digest: sha(data), size: data.length });
  assert.deepEqual(await store.read(sha(data)), data);
  assert.deepEqual(ingestFiles(), []);
});

test('ingest without expectations computes the digest', async () => {
  const w = store.ingest();
  await w.write(Buffer.from('free'));
  assert.deepEqual(await w.commit(), { digest: sha('free'), size: 4 });
  assert.equal(await store.has(sha('free')), true);
});

test('ingest with a wrong digest fails and leaves no blob and no ingest file', async () => {
  const data = Buffer.from('payload');
  const w = store.ingest({ digest: sha('something else') });
  await w.write(data);
  await assert.rejects(w.commit(), isInvalid(/does not match the expected/));
  assert.equal(await store.has(sha(data)), false);
  assert.equal(await store.has(sha('something else')), false);
  assert.deepEqual(blobFiles(), []);
  assert.deepEqual(ingestFiles(), []);
});

test('ingest with a short size fails and leaves nothing behind', async () => {
  const data = Buffer.from('short');
  const w = store.ingest({ size: 10, digest: sha(data) });
  await w.write(data);
  await assert.rejects(w.commit(), isInvalid(/blob size 5 does not match the expected 10/));
  assert.deepEqual(blobFiles(), []);
  assert.deepEqual(ingestFiles(), []);
});

test('a write past the expected size is rejected before anything is written', async () => {
  const w = store.ingest({ size: 4 });
  await w.write(Buffer.from('abc'));
  await assert.rejects(w.write(Buffer.from('defgh')), isInvalid(/larger than the expected 4 bytes/));
  // The oversize chunk never reached the file (writes are queued: wait for them).
  await w.flush();
  assert.equal(fs.statSync(w.tmp).size, 3);
  await w.abort();
  assert.deepEqual(ingestFiles(), []);
  assert.deepEqual(blobFiles(), []);
});

test('abort drops the ingest file and is idempotent', async () => {
  const w = store.ingest();
  await w.write(Buffer.from('x'));
  assert.equal(ingestFiles().length, 1);
  await w.abort();
  await w.abort();
  assert.deepEqual(ingestFiles(), []);
  assert.deepEqual(blobFiles(), []);
});

test('init drops leftover ingest files but keeps blobs', async () => {
  const d = await store.put(Buffer.from('keep me'));
  const w = store.ingest();
  await w.write(Buffer.from('half written'));
  fs.writeFileSync(path.join(store.ingestDir, 'stale'), 'junk');
  fs.mkdirSync(path.join(store.ingestDir, 'staledir'));
  await w.abort(); // close our fd; the files below simulate a crash
  fs.writeFileSync(path.join(store.ingestDir, 'crashed'), 'junk');

  const again = new ContentStore(store.root);
  await again.init();
  assert.deepEqual(fs.readdirSync(again.ingestDir), []);
  assert.equal(await again.has(d), true);
  assert.deepEqual((await again.read(d)).toString(), 'keep me');
});

test('delete and list', async () => {
  const a = await store.put(Buffer.from('a'));
  const b = await store.put(Buffer.from('b'));
  fs.writeFileSync(path.join(store.blobs, 'not-a-digest'), '');
  assert.deepEqual((await store.list()).sort(), [a, b].sort());
  await store.delete(a);
  assert.deepEqual(await store.list(), [b]);
  await store.delete(a); // already gone: fine
});

test('sweep removes what is neither referenced nor leased; a lease holds what was made or looked up while it was open', async () => {
  const a = await store.put(Buffer.from('a'));
  const b = await store.put(Buffer.from('b'));
  const c = await store.put(Buffer.from('c'));
  const lease = store.lease();
  const d = await store.put(Buffer.from('d')); // made under the lease
  assert.equal(await store.has(c), true); // relied on under the lease
  assert.deepEqual(await store.sweep(() => new Set([a])), [b]);
  assert.ok(store.isLeased(c) && store.isLeased(d) && !store.isLeased(a));
  lease.release();
  assert.deepEqual((await store.sweep(() => new Set([a]))).sort(), [c, d].sort());
  assert.deepEqual(await store.list(), [a]);
});

test('an ingest committed under a lease is leased; one committed after its release is not', async () => {
  const lease = store.lease();
  const w = store.ingest();
  await w.write(Buffer.from('kept'));
  const { digest } = await w.commit();
  assert.deepEqual(await store.sweep(() => new Set()), []);
  lease.release();
  assert.deepEqual(await store.sweep(() => new Set()), [digest]);
});

// An operation records its references, then lets go of its lease: a sweep
// running meanwhile must not judge by what was referenced before.
test('a sweep asks again what is referenced once a lease has been released', async () => {
  const lease = store.lease();
  for (const s of ['x', 'y', 'z']) await store.put(Buffer.from(s));
  const [first, ...rest] = await store.list(); // the order the sweep walks
  let asked = 0;
  let refs = new Set<string>();
  const removed = await store.sweep(() => {
    if (asked++ === 0) {
      // While the sweep is under way, the operation records the rest and
      // releases its lease.
      queueMicrotask(() => {
        refs = new Set(rest);
        lease.release();
      });
    }
    return refs;
  });
  assert.deepEqual(removed, []);
  assert.equal(asked, 2);
  assert.deepEqual((await store.list()).sort(), [first, ...rest].sort());
});
