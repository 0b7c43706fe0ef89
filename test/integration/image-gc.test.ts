// Blobs that nothing references do not survive a crash: berthd is killed
// with SIGKILL in the middle of an import, a load and a pull, at the moments
// that leave a blob with no image (strace delivers the SIGKILL at a chosen
// syscall, so the kill lands there every time), started again, and after
// `docker image prune -a` every blob left is one an image references.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tarStream from 'tar-stream';
import { api, docker, importBusybox, ping, startDaemon, type TestDaemon } from './harness';
import { buildImage, FakeRegistry, tarOf } from './pull-push-helpers';

const haveStrace = spawnSync('strace', ['-V']).status === 0;
const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const hex = (d: string) => d.slice(7);

function ls(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (err: any) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}

const blobsDir = (d: TestDaemon) => path.join(d.dataRoot, 'content', 'blobs', 'sha256');
const blobs = (d: TestDaemon) => ls(blobsDir(d));

// Attaches strace to berthd (all its threads and children): the first
// openat of `file` gets a SIGKILL instead of running. Resolves once strace
// is attached; `killed` resolves when berthd is gone.
async function killAtOpen(d: TestDaemon, file: string): Promise<{ killed: Promise<void>; strace: ChildProcess }> {
  const pid = fs.readFileSync(path.join(d.base, 'berthd.pid'), 'utf8').trim();
  const strace = spawn('strace', ['-f', '-p', pid, '-e', 'trace=openat', '-e', 'inject=openat:signal=SIGKILL', '-P', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const killed = new Promise<void>((resolve) => strace.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    strace.stderr!.on('data', (c) => {
      err += c;
      if (err.includes(`Process ${pid} attached`)) resolve();
    });
    strace.on('exit', (code) => reject(new Error(`strace exited with ${code} before it attached: ${err}`)));
  });
  return { killed, strace };
}

// Sends a request whose answer will never come (berthd dies under it).
function send(d: TestDaemon, method: string, p: string, body?: Buffer): void {
  const req = http.request({ socketPath: d.socket, method, path: p, headers: { 'Content-Type': 'application/x-tar' } });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  req.end(body);
}

// Every blob an image references: configs, the manifests of RepoDigests,
// layer tars (diffIDs) and the compressed blobs distribution.json names for
// a layer that is stored.
async function referenced(d: TestDaemon): Promise<Set<string>> {
  const out = new Set<string>();
  const list = JSON.parse((await api(d, 'GET', '/images/json?all=1')).body) as any[];
  const diffIDs = new Set<string>();
  for (const i of list) {
    out.add(hex(i.Id));
    for (const r of i.RepoDigests as string[]) out.add(hex(r.slice(r.indexOf('@') + 1)));
    const inspect = JSON.parse((await api(d, 'GET', `/images/${i.Id}/json`)).body);
    for (const l of inspect.RootFS.Layers as string[]) diffIDs.add(l);
  }
  for (const l of diffIDs) out.add(hex(l));
  const distFile = path.join(d.dataRoot, 'image', 'distribution.json');
  const dist = (fs.existsSync(distFile) ? JSON.parse(fs.readFileSync(distFile, 'utf8')) : {}) as Record<string, { digest: string }[]>;
  for (const [diffID, sources] of Object.entries(dist)) {
    assert.ok(diffIDs.has(diffID), `distribution.json keeps ${diffID}, a layer no image has`);
    for (const s of sources) out.add(hex(s.digest));
  }
  return out;
}

// Restarts berthd, prunes every unused image, and checks that each blob
// left is referenced and that the image `keep` still runs.
async function restartAndPrune(d: TestDaemon): Promise<void> {
  await d.restart();
  const r = await docker(d, 'image', 'prune', '-a', '-f');
  assert.equal(r.code, 0, r.stderr);
  const want = await referenced(d);
  const stray = blobs(d).filter((b) => !want.has(b));
  assert.deepEqual(stray, [], `blobs no image references survived a restart and prune -a: ${stray.map((b) => `${b} (${fs.statSync(path.join(blobsDir(d), b)).size} bytes)`).join(', ')}`);
  assert.deepEqual(ls(path.join(d.dataRoot, 'content', 'ingest')), []);
  const run = await docker(d, 'run', '--rm', 'keep', 'echo', 'kept');
  assert.equal(run.stdout, 'kept\n', run.stderr);
}

// A docker save archive of one image with one layer.
async function imageArchive(tag: string, files: Record<string, string>): Promise<{ body: Buffer; config: string; layer: string }> {
  const layer = await tarOf(files);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const manifest = JSON.stringify([{ Config: `blobs/sha256/${hex(sha(config))}`, RepoTags: [tag], Layers: [`blobs/sha256/${hex(sha(layer))}`] }]);
  const p = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', resolve);
    p.on('error', reject);
  });
  p.entry({ name: `blobs/sha256/${hex(sha(layer))}` }, layer);
  p.entry({ name: `blobs/sha256/${hex(sha(config))}` }, config);
  p.entry({ name: 'manifest.json' }, manifest);
  p.finalize();
  await done;
  return { body: Buffer.concat(chunks), config: sha(config), layer: sha(layer) };
}

// scripts/setup.sh installs strace; a CI run without it fails rather than skipping silently.
describe('blobs nothing references after berthd is killed', { skip: !haveStrace && !process.env.CI && 'strace is not installed', timeout: 180_000 }, () => {
  let d: TestDaemon;
  let registry: FakeRegistry;
  before(async () => {
    [d, registry] = await Promise.all([startDaemon(), new FakeRegistry().start()]);
    // An image a container uses: prune -a keeps it, and its blobs must stay.
    await importBusybox(d, 'keep');
    const r = await docker(d, 'create', '--name', 'user', 'keep', 'true');
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.stop();
    await registry?.close();
  });

  it('killed mid-import, right after the layer tar became a blob', async () => {
    const layer = await tarOf({ 'import/file': 'imported\n' });
    // The first open of the blob dir is the fsync after the blob's rename.
    const { killed } = await killAtOpen(d, blobsDir(d));
    send(d, 'POST', '/images/create?fromSrc=-&repo=imported', layer);
    await killed;
    assert.ok(!(await ping(d.socket)), 'berthd is gone');
    assert.ok(blobs(d).includes(hex(sha(layer))), 'the kill came after the blob landed');
    await restartAndPrune(d);

    const again = await docker(d, 'image', 'ls', '-q', 'imported');
    assert.equal(again.stdout, '');
  });

  it('killed mid-load, after the config became a blob and before the image was recorded', async () => {
    const a = await imageArchive('loaded:1', { 'load/file': 'loaded\n' });
    // store.add reads the config blob back: the first open of it.
    const { killed } = await killAtOpen(d, path.join(blobsDir(d), hex(a.config)));
    send(d, 'POST', '/images/load?quiet=1', a.body);
    await killed;
    assert.ok(blobs(d).includes(hex(a.config)), 'the kill came after the config landed');
    assert.ok(!fs.existsSync(path.join(d.dataRoot, 'image', 'images', `${hex(a.config)}.json`)), 'and before the image was recorded');
    await restartAndPrune(d);

    // And it loads again.
    const r = await api(d, 'POST', '/images/load?quiet=1', a.body, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /Loaded image: loaded:1/);
    assert.equal((await api(d, 'DELETE', '/images/loaded:1')).status, 200);
  });

  it('killed mid-pull, after a layer blob landed and before it was recorded anywhere', async () => {
    const img = registry.addImage('gc/a', 'v1', buildImage({ layers: [{ tar: await tarOf({ 'a/file': 'a\n' }), compression: 'gzip' }] }));
    const { killed } = await killAtOpen(d, blobsDir(d));
    send(d, 'POST', `/images/create?fromImage=${registry.host}/gc/a&tag=v1`);
    await killed;
    assert.ok(blobs(d).includes(hex(img.layers[0].digest)), 'the kill came after the layer blob landed');
    await restartAndPrune(d);
  });

  it('killed mid-pull, after distribution.json named the layer blob and before the layer was committed', async () => {
    const img = registry.addImage('gc/b', 'v1', buildImage({ layers: [{ tar: await tarOf({ 'b/file': 'b\n' }), compression: 'gzip' }] }));
    // The first open of image/ is the fsync after distribution.json's rename.
    const { killed } = await killAtOpen(d, path.join(d.dataRoot, 'image'));
    send(d, 'POST', `/images/create?fromImage=${registry.host}/gc/b&tag=v1`);
    await killed;
    const dist = JSON.parse(fs.readFileSync(path.join(d.dataRoot, 'image', 'distribution.json'), 'utf8'));
    assert.ok(dist[img.layers[0].diffID], 'the kill came after distribution.json named the layer');
    assert.ok(!ls(path.join(d.dataRoot, 'overlay', 'layers')).includes(hex(img.layers[0].diffID)), 'and before the layer was committed');
    await restartAndPrune(d);
  });

  it('killed mid-pull, after the config and manifest became blobs and before the image was recorded', async () => {
    const img = registry.addImage('gc/c', 'v1', buildImage({ layers: [{ tar: await tarOf({ 'c/file': 'c\n' }), compression: 'gzip' }] }));
    const { killed } = await killAtOpen(d, path.join(blobsDir(d), hex(img.config.digest)));
    send(d, 'POST', `/images/create?fromImage=${registry.host}/gc/c&tag=v1`);
    await killed;
    assert.ok(blobs(d).includes(hex(img.config.digest)) && blobs(d).includes(hex(img.digest)), 'the kill came after the config and manifest landed');
    await restartAndPrune(d);

    // And it pulls again.
    const r = await docker(d, 'pull', `${registry.host}/gc/c:v1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Downloaded newer image/);
  });
});
