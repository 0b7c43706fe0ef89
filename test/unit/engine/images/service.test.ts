// ImageService without root: a real content store and image store on a temp
// dir, a fake snapshotter and layer applier (no helper process, no
// overlay), an in-process registry for pull and push, and an event bus to
// hear what it publishes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { ContentStore } from '../../../../src/engine/content/store';
import { EventBus, type EngineEvent } from '../../../../src/engine/events/bus';
import { noProgress } from '../../../../src/engine/events/progress';
import { ImageService } from '../../../../src/engine/images/service';
import { ImageStore } from '../../../../src/engine/images/store';
import { BerthError } from '../../../../src/errors';
import { chainIDOf } from '../../../../src/oci/layers';
import { FakeLayerTars } from '../layers/fake-layer-tars';
import { FakeSnapshotter } from '../snapshots/fake-snapshotter';
import { FakeRegistry } from './fake-registry';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// The bytes of a finished tar-stream pack.
function packed(pack: tarStream.Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

// A tar of these files.
async function tar(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  const done = packed(pack);
  for (const [name, data] of Object.entries(files)) pack.entry({ name, size: Buffer.byteLength(data), mode: 0o644, mtime: new Date(0) }, data);
  pack.finalize();
  return done;
}

// The entries of a tar stream, by name.
async function untar(s: Readable): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tarStream.extract();
  s.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tarStream.Header }>) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c);
    if (entry.header.type === 'file') out.set(entry.header.name, Buffer.concat(chunks));
  }
  return out;
}

// A docker save archive of one image with these layers.
async function archive(tag: string, labels: Record<string, string>, ...layerFiles: Record<string, string>[]) {
  const layers = await Promise.all(layerFiles.map((f) => tar(f)));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l)) } }));
  const manifest = JSON.stringify([{ Config: `blobs/sha256/${sha(config).slice(7)}`, RepoTags: [tag], Layers: layers.map((l) => `blobs/sha256/${sha(l).slice(7)}`) }]);
  const pack = tarStream.pack();
  const done = packed(pack);
  for (const l of layers) pack.entry({ name: `blobs/sha256/${sha(l).slice(7)}` }, l);
  pack.entry({ name: `blobs/sha256/${sha(config).slice(7)}` }, config);
  pack.entry({ name: 'manifest.json' }, manifest);
  pack.finalize();
  return { body: await done, id: sha(config), layer: layers[0], layers };
}

interface World {
  root: string;
  content: ContentStore;
  tars: FakeLayerTars;
  layers: FakeSnapshotter;
  store: ImageStore;
  images: ImageService;
  events: EngineEvent[];
  users: Map<string, { id: string; running: boolean }[]>;
}

// A daemon's image side on a fresh temp dir; `from` reuses another's disk
// and layers (a restart).
async function world(from?: World): Promise<World> {
  const root = from?.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
  if (!from) dirs.push(root);
  const content = new ContentStore(path.join(root, 'content'));
  await content.init();
  const tars = from?.tars ?? new FakeLayerTars();
  const layers = from?.layers ?? new FakeSnapshotter(tars);
  const store = new ImageStore(path.join(root, 'image'), content, layers);
  await store.init();
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const users = new Map<string, { id: string; running: boolean }[]>();
  const images = new ImageService({
    store,
    content,
    layers,
    tars,
    inUse: (id) => users.get(id) ?? [],
    root: path.join(root, 'image'),
    registries: { insecure: [], certsDir: path.join(root, 'certs.d'), userAgent: 'berth-test' },
    events: bus,
  });
  await images.init();
  return { root, content, tars, layers, store, images, events, users };
}

const seen = (w: World) => w.events.map((e) => `${e.type} ${e.action} ${e.id} ${JSON.stringify(e.attributes)}`);
const blobs = (w: World) => fs.readdirSync(w.content.blobs).sort();
const ingest = (w: World) => fs.readdirSync(w.content.ingestDir);

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind);
  if (re) assert.match(err.message, re);
  return true;
};

describe('import', () => {
  test('stores one layer, its tar as the diffID blob, a config, and the tag; publishes tag then import', async () => {
    const w = await world();
    const layer = await tar({ 'etc/hostname': 'x\n' });
    const rec = await w.images.import(Readable.from([layer]), { repo: 'app', tag: 'v1', message: 'hi', changes: ['LABEL team=core', 'CMD ["sh"]'] });
    assert.deepEqual(rec.config.rootfs.diff_ids, [sha(layer)]);
    assert.deepEqual(rec.config.config, { Labels: { team: 'core' }, Cmd: ['sh'] });
    assert.equal(rec.config.comment, 'hi');
    assert.equal(w.layers.get(sha(layer))?.size, layer.length);
    assert.deepEqual(await w.content.read(sha(layer)), layer);
    assert.equal(w.images.resolve('app:v1').id, rec.id);
    assert.deepEqual(seen(w), [
      `image tag ${rec.id} {"team":"core","name":"app:v1"}`,
      `image import ${rec.id} {"team":"core","name":"${rec.id}"}`,
    ]);
    assert.deepEqual([w.layers.scratches.size, ingest(w).length], [0, 0]);
  });

  test('undoes gzip: the diffID is the uncompressed tar', async () => {
    const w = await world();
    const layer = await tar({ a: '1' });
    const rec = await w.images.import(Readable.from([gzipSync(layer)]), {});
    assert.deepEqual(rec.config.rootfs.diff_ids, [sha(layer)]);
    assert.deepEqual(await w.content.read(sha(layer)), layer);
  });

  test('a body that is not a tar is a 400 and stores nothing', async () => {
    const w = await world();
    await assert.rejects(w.images.import(Readable.from([Buffer.from('not a tar at all')]), { repo: 'junk' }), isKind('InvalidArgument'));
    assert.deepEqual([w.store.list().length, w.layers.list().length, w.layers.scratches.size, blobs(w).length, ingest(w).length, w.events.length], [0, 0, 0, 0, 0, 0]);
  });

  test('a bad change is refused before the body is read', async () => {
    const w = await world();
    let read = false;
    const body = new Readable({ read() { read = true; this.push(null); } });
    await assert.rejects(w.images.import(body, { changes: ['BOGUS x'] }), isKind('InvalidArgument', /BOGUS is not a valid change command/));
    assert.equal(read, false);
    assert.equal(w.tars.calls.length, 0);
  });
});

describe('tag, untag, delete', () => {
  test('rmi by name untags, and deletes with the last tag; the layer and its blob go with the image', async () => {
    const w = await world();
    const layer = await tar({ f: 'data' });
    const rec = await w.images.import(Readable.from([layer]), { repo: 'a', tag: '1', changes: ['LABEL k=v'] });
    await w.images.tag('a:1', 'b', '2');
    w.events.length = 0;

    assert.deepEqual(await w.images.remove('a:1', false), [{ Untagged: 'a:1' }]);
    assert.deepEqual(seen(w), [`image untag ${rec.id} {"k":"v","name":"${rec.id}"}`]);
    assert.ok(w.layers.get(sha(layer)));

    w.events.length = 0;
    assert.deepEqual(await w.images.remove('b:2', false), [{ Untagged: 'b:2' }, { Deleted: rec.id }]);
    // A deleted image has no labels left to report.
    assert.deepEqual(seen(w), [`image untag ${rec.id} {"k":"v","name":"${rec.id}"}`, `image delete ${rec.id} {"name":"${rec.id}"}`]);
    assert.deepEqual([w.store.list().length, w.layers.list().length, blobs(w)], [0, 0, []]);
  });

  test('tag publishes the new name with the default tag', async () => {
    const w = await world();
    const rec = await w.images.import(Readable.from([await tar({ f: '1' })]), {});
    await w.images.tag(rec.id, 'localhost:5000/x');
    assert.deepEqual(seen(w).slice(-1), [`image tag ${rec.id} {"name":"localhost:5000/x:latest"}`]);
    await assert.rejects(w.images.tag(rec.id, 'UPPER'), isKind('InvalidArgument', /invalid reference format/));
  });

  test('rmi by id needs force for several tags, and cannot delete what a running container uses', async () => {
    const w = await world();
    const rec = await w.images.import(Readable.from([await tar({ f: '1' })]), { repo: 'a' });
    await w.images.tag(rec.id, 'b');
    await assert.rejects(w.images.remove(rec.id, false), isKind('Conflict', /referenced in multiple repositories/));
    w.users.set(rec.id, [{ id: 'c'.repeat(64), running: true }]);
    await assert.rejects(w.images.remove(rec.id, true), isKind('Conflict', /being used by running container cccccccccccc/));
    w.users.set(rec.id, []);
    w.events.length = 0;
    assert.deepEqual(await w.images.remove(rec.id, true), [{ Untagged: 'a:latest' }, { Untagged: 'b:latest' }, { Deleted: rec.id }]);
    assert.deepEqual(w.events.map((e) => e.action), ['untag', 'untag', 'delete']);
  });

  test('prune removes unused dangling images (all unused ones with all), by label', async () => {
    const w = await world();
    const dangling = await w.images.import(Readable.from([await tar({ d: '1' })]), { changes: ['LABEL keep=no'] });
    const tagged = await w.images.import(Readable.from([await tar({ t: '1' })]), { repo: 'kept' });
    const used = await w.images.import(Readable.from([await tar({ u: '1' })]), {});
    w.users.set(used.id, [{ id: 'd'.repeat(64), running: false }]);
    w.events.length = 0;
    const danglingSize = w.layers.get(dangling.config.rootfs.diff_ids[0])!.size;

    let r = await w.images.prune({ all: false, labels: ['keep=yes'] });
    assert.deepEqual(r.deleted, []);
    r = await w.images.prune({ all: false });
    assert.deepEqual(r.deleted, [{ Deleted: dangling.id }]);
    assert.equal(r.reclaimed, danglingSize);
    assert.deepEqual(seen(w), [`image delete ${dangling.id} {"name":"${dangling.id}"}`]);
    r = await w.images.prune({ all: true });
    assert.deepEqual(r.deleted, [{ Untagged: 'kept:latest' }, { Deleted: tagged.id }]);
    assert.deepEqual(w.store.list().map((i) => i.id), [used.id]);
  });
});

describe('layers nothing uses', () => {
  test('a layer left by a pull cut short (no image names it) is collected at start, with its blobs', async () => {
    const w = await world();
    const keep = await w.images.import(Readable.from([await tar({ k: '1' })]), { repo: 'keep' });
    // What a crash leaves: a committed layer and its tar, no image.
    const orphan = await tar({ o: '1' });
    const s = await w.layers.scratch();
    await w.layers.commit(s, undefined, sha(orphan), orphan.length);
    await w.content.put(orphan);

    const again = await world(w);
    assert.deepEqual(again.layers.list().map((l) => l.chainID), keep.config.rootfs.diff_ids);
    assert.equal(await again.content.has(sha(orphan)), false);
    assert.equal(again.images.resolve('keep').id, keep.id);
  });
});

describe('garbage collection', () => {
  test('at start, every blob nothing references goes: configs, manifests, layer tars, compressed blobs and their distribution.json entries', async () => {
    const w = await world();
    const keep = await w.images.import(Readable.from([await tar({ k: '1' })]), { repo: 'keep' });
    const kept = blobs(w);
    // What kills at the wrong moment leave behind.
    const config = await w.content.put(Buffer.from('{"rootfs":{"type":"layers","diff_ids":[]}}'));
    const manifest = await w.content.put(Buffer.from('{"schemaVersion":2}'));
    const layerTar = await w.content.put(await tar({ lost: '1' }));
    const compressed = await w.content.put(gzipSync(await tar({ pulled: '1' })));
    await w.images.metadata.add(sha('pulled layer'), { digest: compressed, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1 }, 'docker.io/library/x');

    const again = await world(w);
    assert.deepEqual(blobs(again), kept);
    for (const d of [config, manifest, layerTar, compressed]) assert.equal(await again.content.has(d), false, d);
    assert.deepEqual(again.images.metadata.diffIDs(), []);
    assert.equal(again.images.resolve('keep').id, keep.id);
  });

  test('rmi takes the manifests its digest references named', async () => {
    const registry = await new FakeRegistry().start();
    try {
      const w = await world();
      const rec = await w.images.import(Readable.from([await tar({ m: '1' })]), {});
      await w.images.tag(rec.id, `${registry.host}/m/app`, 'v1');
      await w.images.push(`${registry.host}/m/app:v1`, { progress: noProgress });
      assert.equal(w.images.repoDigests(rec).length, 1);
      assert.equal(blobs(w).length, 4); // config, layer tar, its gzip, manifest
      await w.images.remove(`${registry.host}/m/app:v1`, false);
      assert.deepEqual(blobs(w), []);
    } finally {
      await registry.stop();
    }
  });

  test('an rmi during a push does not take what the push still reads', async () => {
    const registry = await new FakeRegistry().start();
    try {
      const w = await world();
      const layer = await tar({ p: 'pushed' });
      const rec = await w.images.import(Readable.from([layer]), { repo: `${registry.host}/p/app`, tag: 'v1' });
      // The push stops when it starts its first upload.
      const gate = registry.gate('POST /v2/p/app/blobs/uploads/');
      const push = w.images.push(`${registry.host}/p/app:v1`, { progress: noProgress });
      await gate.reached;
      assert.deepEqual(await w.images.remove(rec.id, true), [{ Untagged: `${registry.host}/p/app:v1` }, { Deleted: rec.id }]);
      gate.open();
      await push;
      const manifest = JSON.parse(registry.manifests.get('p/app')!.get('v1')!.body.toString());
      assert.equal(manifest.config.digest, rec.id);
      assert.ok(registry.blobs.has(rec.id));
      // Once the push is done, what it kept belongs to nothing.
      await w.images.collectGarbage();
      assert.deepEqual([blobs(w), w.layers.list().length, w.images.metadata.diffIDs()], [[], 0, []]);
    } finally {
      await registry.stop();
    }
  });

  test('an rmi during a pull does not take the layers the pull has made so far', async () => {
    const registry = await new FakeRegistry().start();
    try {
      const source = await world();
      const a = await archive(`${registry.host}/two/app:v1`, {}, { one: '1' }, { two: '2' });
      await source.images.load(Readable.from([a.body]), noProgress);
      await source.images.push(`${registry.host}/two/app:v1`, { progress: noProgress });

      const w = await world();
      const other = await w.images.import(Readable.from([await tar({ other: '1' })]), { repo: 'other' });
      // The pull stops at its second layer, once the first is committed.
      const manifest = JSON.parse(registry.manifests.get('two/app')!.get('v1')!.body.toString());
      const gate = registry.gate(`GET /v2/two/app/blobs/${manifest.layers[1].digest}`);
      let firstDone!: () => void;
      const first = new Promise<void>((resolve) => (firstDone = resolve));
      const pull = w.images.pull(`${registry.host}/two/app:v1`, {
        progress: (e) => e.type === 'progress' && e.status === 'Pull complete' && e.id === manifest.layers[0].digest.slice(7, 19) && firstDone(),
      });
      await Promise.all([gate.reached, first]);
      assert.equal(w.layers.get(sha(a.layers[0]))?.diffID, sha(a.layers[0]));
      await w.images.remove(other.id, true);
      assert.ok(w.layers.get(sha(a.layers[0])), 'the layer the pull made is still there');
      gate.open();
      const [pulled] = await pull;
      assert.equal(pulled.id, a.id);
      await w.images.collectGarbage();
      // What the image needs is all there: config, manifest, compressed layers.
      const want = [a.id, ...manifest.layers.map((l: { digest: string }) => l.digest), sha(registry.manifests.get('two/app')!.get('v1')!.body)];
      assert.deepEqual(blobs(w), want.map((d) => d.slice(7)).sort());
    } finally {
      await registry.stop();
    }
  });
});

describe('history and layer tars', () => {
  test('history gives each layer its size, newest first', async () => {
    const w = await world();
    const layer = await tar({ f: 'x'.repeat(3000) });
    const rec = await w.images.import(Readable.from([layer]), { repo: 'h', message: 'made' });
    const h = w.images.history('h');
    assert.equal(h.length, 1);
    assert.deepEqual([h[0].Id, h[0].Size, h[0].Comment, h[0].Tags], [rec.id, layer.length, 'made', ['h:latest']]);
  });

  test('layerTar is the stored tar; without it, the layer packed again and checked against its diffID', async () => {
    const w = await world();
    const layer = await tar({ f: 'y' });
    await w.images.import(Readable.from([layer]), {});
    const read = async (s: Readable) => Buffer.concat(await s.toArray());
    assert.deepEqual(await read(await w.images.layerTar(sha(layer), sha(layer))), layer);
    await w.content.delete(sha(layer));
    assert.deepEqual(await read(await w.images.layerTar(sha(layer), sha(layer))), layer);
    assert.deepEqual(w.tars.calls.at(-1), { op: 'packLayer', dir: w.layers.diffDir(sha(layer)) });
    // A tree that packs differently is refused, not sent under the wrong digest.
    w.tars.trees.set(w.layers.diffDir(sha(layer)), await tar({ f: 'changed' }));
    await assert.rejects(read(await w.images.layerTar(sha(layer), sha(layer))), isKind('FailedPrecondition', /packing it again gives/));
  });
});

describe('save and load', () => {
  test('load stores the image, publishes load; save gives it back and publishes save', async () => {
    const w = await world();
    const a = await archive('loaded:1', { origin: 'archive' }, { f: 'loaded' });
    const result = await w.images.load(Readable.from([a.body]), noProgress);
    assert.deepEqual(result, { messages: ['Loaded image: loaded:1'], images: [a.id] });
    assert.deepEqual(seen(w), [`image load ${a.id} {"origin":"archive","name":"${a.id}"}`]);
    assert.deepEqual(await w.content.read(sha(a.layer)), a.layer);
    assert.deepEqual([w.layers.scratches.size, ingest(w).length], [0, 0]);

    w.events.length = 0;
    const entries = await untar(await w.images.save(['loaded:1']));
    assert.deepEqual(seen(w), [`image save ${a.id} {"origin":"archive","name":"${a.id}"}`]);
    assert.deepEqual(entries.get(`blobs/sha256/${sha(a.layer).slice(7)}`), a.layer);
    assert.deepEqual(JSON.parse(entries.get('manifest.json')!.toString()), [{ Config: `blobs/sha256/${a.id.slice(7)}`, RepoTags: ['loaded:1'], Layers: [`blobs/sha256/${sha(a.layer).slice(7)}`] }]);
    assert.ok(entries.has('index.json') && entries.has('oci-layout'));

    // And another daemon loads what this one saved.
    const other = await world();
    const again = await other.images.load(Readable.from([await repack(entries)]), noProgress);
    assert.deepEqual(again.images, [a.id]);
  });

  test('a big layer is applied while it arrives and committed once the manifest names it', async () => {
    const w = await world();
    const a = await archive('big:1', {}, { big: 'z'.repeat(3 << 19) });
    assert.ok(a.layer.length >= 1 << 20);
    const progress: number[] = [];
    const result = await w.images.load(Readable.from([a.body]), (e) => e.type === 'progress' && progress.push(e.current ?? 0));
    assert.deepEqual(result.images, [a.id]);
    // Applied once, to the scratch dir that became the layer.
    assert.equal(w.tars.calls.filter((c) => c.op === 'apply').length, 1);
    assert.deepEqual(w.tars.trees.get(w.layers.diffDir(sha(a.layer))), a.layer);
    assert.deepEqual(await w.content.read(sha(a.layer)), a.layer);
    assert.equal(progress[progress.length - 1], a.layer.length);
    assert.deepEqual([w.layers.scratches.size, ingest(w).length], [0, 0]);
  });

  test('a layer that does not match its config is refused and nothing is kept', async () => {
    const w = await world();
    const a = await archive('bad:1', {}, { f: 'one' });
    const other = await tar({ f: 'two' });
    // Same names, other layer bytes: the blob name no longer matches either.
    const body = Buffer.from(a.body);
    const at = body.indexOf(a.layer);
    other.copy(body, at);
    await assert.rejects(w.images.load(Readable.from([body]), noProgress), isKind('InvalidArgument', /does not match its digest/));
    assert.deepEqual([w.store.list().length, w.layers.list().length, w.layers.scratches.size, blobs(w).length, ingest(w).length, w.events.length], [0, 0, 0, 0, 0, 0]);
  });

  async function repack(entries: Map<string, Buffer>): Promise<Buffer> {
    const pack = tarStream.pack();
    const done = packed(pack);
    for (const [name, data] of entries) pack.entry({ name }, data);
    pack.finalize();
    return done;
  }
});

describe('pull and push', () => {
  let registry: FakeRegistry;
  before(async () => {
    registry = await new FakeRegistry().start();
  });
  after(async () => {
    await registry?.stop();
  });

  test('push sends layers, config and manifest and publishes push; another daemon pulls the same image and publishes pull', async () => {
    const w = await world();
    const layer = await tar({ 'bin/app': 'binary' });
    const rec = await w.images.import(Readable.from([layer]), { changes: ['LABEL v=1'] });
    const name = `${registry.host}/team/app`;
    await w.images.tag(rec.id, name, 'v1');
    w.events.length = 0;

    const progress: string[] = [];
    await w.images.push(`${name}:v1`, { progress: (e) => e.type === 'aux' && progress.push(String(e.aux.Digest)) });
    assert.deepEqual(seen(w), [`image push ${name}:v1 {"v":"1","name":"${name}"}`]);
    assert.equal(progress.length, 1);
    assert.ok(registry.manifests.get('team/app')?.has('v1'));

    const other = await world();
    const [pulled] = await other.images.pull(`${name}:v1`, { progress: noProgress });
    assert.equal(pulled.id, rec.id);
    assert.deepEqual(pulled.config.rootfs.diff_ids, [sha(layer)]);
    assert.deepEqual(seen(other), [`image pull ${name}:v1 {"v":"1","name":"${name}"}`]);
    assert.equal(other.images.resolve(`${name}:v1`).id, rec.id);
    assert.deepEqual(other.images.repoDigests(pulled), [`${name}@${progress[0]}`]);
    assert.deepEqual([other.layers.scratches.size, ingest(other).length], [0, 0]);
    // The layer chain is complete.
    assert.equal(other.layers.chain(chainIDOf(undefined, sha(layer))).length, 1);
  });

  test('a pull of an unknown tag is NotFound and publishes nothing', async () => {
    const w = await world();
    await assert.rejects(w.images.pull(`${registry.host}/team/app:nosuch`, { progress: noProgress }), isKind('NotFound'));
    assert.deepEqual([w.events.length, w.store.list().length, w.layers.list().length], [0, 0, 0]);
  });
});
