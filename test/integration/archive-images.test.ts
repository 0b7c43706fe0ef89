// docker save / load / export / import / commit / history through the real
// docker CLI against a real berthd, plus hostile and broken archives.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { api, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';

interface TarFile {
  name: string;
  data?: Buffer | string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
}

function makeTar(files: TarFile[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) {
    if (f.type === 'symlink' || f.type === 'link') pack.entry({ name: f.name, type: f.type, linkname: f.linkname! });
    else if (f.type === 'directory') pack.entry({ name: f.name, type: 'directory' });
    else pack.entry({ name: f.name }, typeof f.data === 'string' ? Buffer.from(f.data) : f.data ?? Buffer.alloc(0));
  }
  pack.finalize();
  return streamToBuffer(pack as unknown as Readable);
}

async function streamToBuffer(s: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// name -> content of every regular file in a tar, in order.
async function readTar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header }>) {
    const data = await streamToBuffer(e);
    if (e.header.type === 'file') out.set(e.header.name, data);
  }
  return out;
}

// Every entry name in a tar, in order.
async function tarNames(buf: Buffer): Promise<string[]> {
  const out: string[] = [];
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header }>) {
    await streamToBuffer(e);
    out.push(e.header.name);
  }
  return out;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

// What the daemon has stored: blobs, layers, images, and leftovers in ingest.
function stored(d: TestDaemon): { blobs: string[]; layers: string[]; images: string[]; ingest: string[]; scratch: string[] } {
  const ls = (p: string) => {
    try {
      return fs.readdirSync(path.join(d.dataRoot, p)).sort();
    } catch {
      return [];
    }
  };
  return { blobs: ls('content/blobs/sha256'), layers: ls('overlay/layers'), images: ls('image/images'), ingest: ls('content/ingest'), scratch: ls('overlay/tmp') };
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('image archives and container snapshots', () => {
  let d: TestDaemon;
  let d2: TestDaemon | undefined;
  let busyboxId: string;

  before(async () => {
    d = await startDaemon();
    busyboxId = (await importBusybox(d)).trim();
  });
  after(async () => {
    await d2?.stop();
    await d?.stop();
  });

  const file = (name: string) => path.join(d.base, name);

  it('saves Docker 25+ combined layout with docker save -o', async () => {
    await ok(docker(d, 'save', '-o', file('bb.tar'), 'busybox'));
    const entries = await readTar(fs.readFileSync(file('bb.tar')));
    assert.deepEqual(JSON.parse(entries.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    assert.equal(manifest.length, 1);
    assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
    assert.equal(manifest[0].Config, `blobs/sha256/${busyboxId.slice(7)}`);
    // Every blob is named by its digest; the layer's digest is the config's diffID.
    for (const [name, data] of entries) {
      if (name.startsWith('blobs/sha256/')) assert.equal(sha(data), `sha256:${name.slice(13)}`, name);
    }
    const config = JSON.parse(entries.get(manifest[0].Config)!.toString());
    assert.deepEqual(manifest[0].Layers, config.rootfs.diff_ids.map((x: string) => `blobs/sha256/${x.slice(7)}`));
    const index = JSON.parse(entries.get('index.json')!.toString());
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/busybox:latest');
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest');
    const oci = JSON.parse(entries.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.toString());
    assert.equal(oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(oci.config.digest, busyboxId);
    assert.equal(oci.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(oci.layers[0].digest, config.rootfs.diff_ids[0]);
    const repos = JSON.parse(entries.get('repositories')!.toString());
    assert.equal(repos.busybox.latest, config.rootfs.diff_ids[0].slice(7));
  });

  it('round-trips docker save | docker load into a fresh daemon', async () => {
    d2 = await startDaemon();
    const r = await run('sh', ['-c', `docker -H unix://${d.socket} save busybox | docker -H unix://${d2.socket} load`], { ...d.env, DOCKER_HOST: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Loaded image: busybox:latest');
    assert.equal((await ok(docker(d2, 'inspect', '--format', '{{.Id}}', 'busybox'))).trim(), busyboxId);
    assert.equal(await ok(docker(d2, 'run', '--rm', 'busybox', 'echo', 'loaded')), 'loaded\n');
    assert.deepEqual(stored(d2).ingest, []);
  });

  it('loads into the same daemon again (layers exist) and after the image is gone', async () => {
    assert.equal((await ok(docker(d, 'load', '-i', file('bb.tar')))).trim(), 'Loaded image: busybox:latest');
    await ok(docker(d, 'tag', 'busybox', 'bb-copy:1'));
    await ok(docker(d, 'rmi', 'bb-copy:1'));
  });

  it('commits a container with new files, deleted files and a deleted directory (whiteouts)', async () => {
    await ok(docker(d, 'run', '--name', 'mod', 'busybox', 'sh', '-c', 'echo made > /newfile; mkdir -p /d1/d2; echo deep > /d1/d2/f; rm /bin/ls; rm -rf /usr; rm /etc/passwd'));
    const id = (await ok(docker(d, 'commit', '--change', 'CMD ["echo","x"]', '--change', 'ENV FOO=bar', '-a', 'tester', '-m', 'a message', 'mod', 'snap:1'))).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(await ok(docker(d, 'run', '--rm', 'snap:1')), 'x\n');
    const out = await ok(docker(d, 'run', '--rm', 'snap:1', 'sh', '-c', 'cat /newfile /d1/d2/f; echo FOO=$FOO; for p in /bin/ls /usr /etc/passwd; do [ -e $p ] && echo "$p exists"; done; echo done'));
    assert.equal(out, 'made\ndeep\nFOO=bar\ndone\n');
    const inspect = JSON.parse(await ok(docker(d, 'image', 'inspect', 'snap:1')))[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Author, 'tester');
    assert.equal(inspect.Comment, 'a message');
    assert.deepEqual(inspect.Config.Cmd, ['echo', 'x']);
    assert.ok(inspect.Config.Env.includes('FOO=bar'));
    assert.equal(inspect.RootFS.Layers.length, 2);
    // The new layer holds what the container changed and nothing else: the
    // mount points runc needs (/etc/hosts, …) live in the init layer below.
    await ok(docker(d, 'save', '-o', file('snap.tar'), 'snap:1'));
    const saved = await readTar(fs.readFileSync(file('snap.tar')));
    const top = JSON.parse(saved.get('manifest.json')!.toString())[0].Layers.at(-1);
    assert.deepEqual((await tarNames(saved.get(top)!)).sort(), ['.wh.usr', 'bin/', 'bin/.wh.ls', 'd1/', 'd1/d2/', 'd1/d2/f', 'etc/', 'etc/.wh.passwd', 'newfile']);
    // The parent image is untouched.
    assert.equal(await ok(docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'ls /bin/ls /usr/bin/env >/dev/null && echo present')), 'present\n');
  });

  it('commits without --change keeping the container command, and untagged', async () => {
    await ok(docker(d, 'run', '--name', 'plain', '-e', 'K=v', 'busybox', 'sh', '-c', 'echo two > /two'));
    const id = (await ok(docker(d, 'commit', 'plain'))).trim();
    const cfg = JSON.parse(await ok(docker(d, 'image', 'inspect', '--format', '{{json .Config}}', id)));
    assert.deepEqual(cfg.Cmd, ['sh', '-c', 'echo two > /two']);
    assert.ok(cfg.Env.includes('K=v'));
    const r = await api(d, 'POST', `/commit?container=plain&repo=viaapi&tag=t1&changes=${encodeURIComponent('LABEL a=b')}`, JSON.stringify({ Env: ['Z=1'] }));
    assert.equal(r.status, 201, r.body);
    const cfg2 = JSON.parse(await ok(docker(d, 'image', 'inspect', '--format', '{{json .Config}}', 'viaapi:t1')));
    assert.deepEqual(cfg2.Labels, { a: 'b' });
    assert.deepEqual(cfg2.Env.sort(), ['K=v', 'Z=1']);
    const bad = await api(d, 'POST', '/commit?container=plain&changes=' + encodeURIComponent('BOGUS x'));
    assert.equal(bad.status, 400, bad.body);
    const missing = await api(d, 'POST', '/commit?container=nope');
    assert.equal(missing.status, 404, missing.body);
  });

  it('shows history newest first, the local image it was made from below the top (as dockerd walks its parents)', async () => {
    const out = await ok(docker(d, 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', 'snap:1'));
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2);
    const id = (await ok(docker(d, 'inspect', '--format', '{{.Id}}', 'snap:1'))).trim();
    assert.equal(lines[0], `${id}|sh -c echo made > /newfile; mkdir -p /d1/d2; echo deep > /d1/d2/f; rm /bin/ls; rm -rf /usr; rm /etc/passwd|a message`);
    const base = (await ok(docker(d, 'inspect', '--format', '{{.Id}}', 'busybox'))).trim();
    assert.equal(lines[1], `${base}||Imported from -`);
    const r = await api(d, 'GET', '/images/snap:1/history');
    assert.equal(r.status, 200);
    const h = JSON.parse(r.body);
    assert.equal(h[0].Id, id);
    assert.deepEqual(h[0].Tags, ['snap:1']);
    assert.ok(h[0].Size > 0 && h[1].Size > 0);
    assert.equal(typeof h[0].Created, 'number');
    assert.equal(h[1].Id, base);
    assert.ok(h[1].Tags.includes('busybox:latest'), JSON.stringify(h[1].Tags));
    assert.equal((await api(d, 'GET', '/images/nosuch/history')).status, 404);
  });

  it('saves two images at once, writing the shared layer once, and loads both elsewhere', async () => {
    await ok(docker(d, 'save', '-o', file('two.tar'), 'busybox', 'snap:1'));
    const entries = await readTar(fs.readFileSync(file('two.tar')));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    assert.equal(manifest.length, 2);
    assert.deepEqual(manifest.map((m: any) => m.RepoTags[0]).sort(), ['busybox:latest', 'snap:1']);
    const baseLayer = manifest[0].Layers[0];
    assert.ok(manifest[1].Layers.includes(baseLayer));
    const names = [] as string[];
    const ex = tar.extract();
    Readable.from([fs.readFileSync(file('two.tar'))]).pipe(ex as unknown as NodeJS.WritableStream);
    for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header }>) {
      names.push(e.header.name);
      for await (const _ of e);
    }
    assert.equal(names.filter((n) => n === baseLayer).length, 1);
    assert.equal(JSON.parse(entries.get('index.json')!.toString()).manifests.length, 2);

    const out = await ok(docker(d2!, 'load', '-i', file('two.tar')));
    assert.deepEqual(out.trim().split('\n').sort(), ['Loaded image: busybox:latest', 'Loaded image: snap:1']);
    assert.equal(await ok(docker(d2!, 'run', '--rm', 'snap:1', 'sh', '-c', 'cat /newfile; [ -e /bin/ls ] || echo gone')), 'made\ngone\n');
  });

  it('saves by image id without tags and loads it as an untagged image', async () => {
    const id = (await ok(docker(d, 'inspect', '--format', '{{.Id}}', 'snap:1'))).trim();
    await ok(docker(d, 'save', '-o', file('byid.tar'), id.slice(7, 19)));
    const entries = await readTar(fs.readFileSync(file('byid.tar')));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    assert.equal(manifest[0].RepoTags, null);
    assert.equal(entries.has('repositories'), false);
    const d3 = await startDaemon();
    try {
      assert.equal((await ok(docker(d3, 'load', '-i', file('byid.tar')))).trim(), `Loaded image ID: ${id}`);
    } finally {
      await d3.stop();
    }
  });

  it('answers 404 for an unknown image and streams /images/{name}/get', async () => {
    const r = await docker(d, 'save', '-o', file('none.tar'), 'nosuchimage');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such image: nosuchimage/);
    const g = await api(d, 'GET', '/images/busybox/get');
    assert.equal(g.status, 200);
    assert.equal(g.headers['content-type'], 'application/x-tar');
  });

  it('loads a gzip-compressed archive', async () => {
    fs.writeFileSync(file('bb.tar.gz'), zlib.gzipSync(fs.readFileSync(file('bb.tar'))));
    await ok(docker(d, 'tag', 'busybox', 'keep:1')); // keeps the image while busybox:latest moves
    assert.equal((await ok(docker(d, 'load', '-i', file('bb.tar.gz')))).trim(), 'Loaded image: busybox:latest');
  });

  it('loads an OCI layout without manifest.json (name from the index annotations)', async () => {
    const entries = await readTar(fs.readFileSync(file('bb.tar')));
    entries.delete('manifest.json');
    entries.delete('repositories');
    const index = JSON.parse(entries.get('index.json')!.toString());
    index.manifests[0].annotations['io.containerd.image.name'] = 'docker.io/library/ocionly:v1';
    entries.set('index.json', Buffer.from(JSON.stringify(index)));
    const body = await makeTar([...entries].map(([name, data]) => ({ name, data })));
    const r = await api(d, 'POST', '/images/load', body, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /"stream":"Loaded image: ocionly:v1\\n"/);
    assert.equal((await ok(docker(d, 'inspect', '--format', '{{.Id}}', 'ocionly:v1'))).trim(), busyboxId);
  });

  it("loads Docker's legacy layout (<id>/layer.tar, <id>.json, symlinked layers)", async () => {
    const entries = await readTar(fs.readFileSync(file('two.tar')));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    const files: TarFile[] = [];
    const legacy = manifest.map((m: any, i: number) => {
      const configName = `${m.Config.slice(13)}.json`;
      files.push({ name: configName, data: entries.get(m.Config)! });
      const layers = m.Layers.map((l: string, j: number) => {
        const dir = `img${i}layer${j}`;
        files.push({ name: `${dir}/`, type: 'directory' });
        files.push({ name: `${dir}/VERSION`, data: '1.0' });
        // The second image's copy of the shared layer is a symlink, as old docker save made them.
        const first = manifest[0].Layers.indexOf(l);
        if (i > 0 && first >= 0) files.push({ name: `${dir}/layer.tar`, type: 'symlink', linkname: `../img0layer${first}/layer.tar` });
        else files.push({ name: `${dir}/layer.tar`, data: entries.get(l)! });
        return `${dir}/layer.tar`;
      });
      return { Config: configName, RepoTags: m.RepoTags.map((t: string) => `legacy-${t}`), Layers: layers };
    });
    files.push({ name: 'manifest.json', data: JSON.stringify(legacy) });
    fs.writeFileSync(file('legacy.tar'), await makeTar(files));
    const d3 = await startDaemon();
    try {
      const out = await ok(docker(d3, 'load', '-i', file('legacy.tar')));
      assert.deepEqual(out.trim().split('\n').sort(), ['Loaded image: legacy-busybox:latest', 'Loaded image: legacy-snap:1']);
      assert.equal(await ok(docker(d3, 'run', '--rm', 'legacy-snap:1', 'cat', '/newfile')), 'made\n');
      assert.deepEqual(stored(d3).ingest, []);
    } finally {
      await d3.stop();
    }
  });

  describe('refuses bad archives and stores nothing', () => {
    let canary: string;
    let baseline: ReturnType<typeof stored>;
    let config: Buffer;
    let layer: Buffer;

    // The base of a valid archive: a config and its layer.
    const baseFiles = () => [
      { name: `blobs/sha256/${sha(config).slice(7)}`, data: config },
      { name: `blobs/sha256/${sha(layer).slice(7)}`, data: layer },
    ];
    const manifestFor = (cfg: string, layers: string[], tags = ['evil:1']) => ({ name: 'manifest.json', data: JSON.stringify([{ Config: cfg, RepoTags: tags, Layers: layers }]) });

    async function refused(body: Buffer, re: RegExp): Promise<void> {
      const r = await api(d, 'POST', '/images/load?quiet=1', body, { 'Content-Type': 'application/x-tar' });
      assert.equal(r.status, 400, r.body);
      assert.match(JSON.parse(r.body).message, re);
      assert.deepEqual(stored(d), baseline);
      assert.equal(fs.readFileSync(canary, 'utf8'), 'canary\n');
      assert.equal((await docker(d, 'image', 'inspect', 'evil:1')).code, 1);
    }

    before(async () => {
      canary = path.join(d.base, 'canary');
      fs.writeFileSync(canary, 'canary\n');
      // A small image of its own: none of its layers exists in the daemon, so
      // a load would have to store them.
      layer = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hello', data: 'hello from a test layer\n' }]);
      config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
      baseline = stored(d);
    });

    it('entry names with ../ (through the docker CLI too)', async () => {
      const body = await makeTar([...baseFiles(), { name: '../canary', data: 'owned\n' }, { name: '../../../../../../../tmp/berth-owned', data: 'x' }, manifestFor(`blobs/sha256/${sha(config).slice(7)}`, [`blobs/sha256/${sha(layer).slice(7)}`])]);
      await refused(body, /"\.\." is not allowed/);
      fs.writeFileSync(file('evil.tar'), body);
      const r = await docker(d, 'load', '-i', file('evil.tar'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not allowed/);
      assert.equal(fs.existsSync('/tmp/berth-owned'), false);
      assert.deepEqual(stored(d), baseline);
    });

    it('absolute entry names', async () => {
      await refused(await makeTar([...baseFiles(), { name: canary, data: 'owned\n' }]), /absolute paths are not allowed/);
    });

    it('symlinks that leave the archive', async () => {
      await refused(await makeTar([...baseFiles(), { name: 'x/layer.tar', type: 'symlink', linkname: '../../../canary' }]), /leaves the archive/);
    });

    it('manifest.json paths with ../ or absolute', async () => {
      const layerPath = `blobs/sha256/${sha(layer).slice(7)}`;
      await refused(await makeTar([...baseFiles(), manifestFor('../../etc/passwd', [layerPath])]), /path in manifest\.json.*not allowed/);
      await refused(await makeTar([...baseFiles(), manifestFor('/etc/passwd', [layerPath])]), /absolute paths are not allowed/);
      await refused(await makeTar([...baseFiles(), manifestFor(`blobs/sha256/${sha(config).slice(7)}`, ['blobs/../../../canary'])]), /not allowed/);
    });

    it('a blob whose content does not match its name', async () => {
      await refused(await makeTar([{ name: `blobs/sha256/${'0'.repeat(64)}`, data: 'not that' }]), /does not match its digest/);
    });

    it('a layer that does not match the config', async () => {
      const expected = await makeTar([{ name: 'hello', data: 'expected' }]);
      const other = await makeTar([{ name: 'hello', data: 'not what the config says' }]);
      const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(expected)] } }));
      const cfgPath = `blobs/sha256/${sha(cfg).slice(7)}`;
      await refused(await makeTar([{ name: cfgPath, data: cfg }, { name: 'layer.tar', data: other }, manifestFor(cfgPath, ['layer.tar'])]), /layer\.tar does not match the config/);
      // gzip-compressed: only known once decompressed and applied.
      await refused(await makeTar([{ name: cfgPath, data: cfg }, { name: 'layer.tar.gz', data: zlib.gzipSync(other) }, manifestFor(cfgPath, ['layer.tar.gz'])]), /does not match the config/);
      // A good first layer and a bad second one: the first is not kept either.
      const cfg2 = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(expected), sha(expected)] } }));
      const cfg2Path = `blobs/sha256/${sha(cfg2).slice(7)}`;
      await refused(await makeTar([{ name: cfg2Path, data: cfg2 }, { name: 'good.tar', data: expected }, { name: 'bad.tar', data: other }, manifestFor(cfg2Path, ['good.tar', 'bad.tar'])]), /bad\.tar does not match the config/);
    });

    it('a layers list that does not fit the config, missing files, no manifest', async () => {
      await refused(await makeTar([...baseFiles(), manifestFor(`blobs/sha256/${sha(config).slice(7)}`, [])]), /layers/);
      await refused(await makeTar([...baseFiles(), manifestFor(`blobs/sha256/${sha(config).slice(7)}`, ['missing.tar'])]), /missing\.tar not found/);
      await refused(await makeTar(baseFiles()), /neither manifest\.json nor index\.json/);
      await refused(Buffer.from('this is not a tar archive at all, not even close'.repeat(20)), /invalid archive/);
    });

    it('(control) the same files in a good archive load, and the image can be removed again', async () => {
      const good = await makeTar([...baseFiles(), manifestFor(`blobs/sha256/${sha(config).slice(7)}`, [`blobs/sha256/${sha(layer).slice(7)}`], ['good:1'])]);
      const r = await api(d, 'POST', '/images/load', good);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, '{"stream":"Loaded image: good:1\\n"}\r\n');
      assert.notDeepEqual(stored(d), baseline);
      await ok(docker(d, 'rmi', 'good:1'));
      assert.deepEqual(stored(d), baseline);
    });

    it('big entries applied as they arrive: mismatched, broken and unused ones leave nothing', async () => {
      // >= 1 MiB entries that look like tars or gzip are applied before
      // manifest.json is read (see EarlyLayer in src/engine/images/archive.ts).
      const big = await makeTar([{ name: 'blob', data: randomBytes(1536 << 10) }]);
      const other = await makeTar([{ name: 'blob', data: randomBytes(1536 << 10) }]);
      const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(big)] } }));
      const cfgPath = `blobs/sha256/${sha(cfg).slice(7)}`;
      await refused(await makeTar([{ name: cfgPath, data: cfg }, { name: 'l.tar', data: other }, manifestFor(cfgPath, ['l.tar'])]), /l\.tar does not match the config/);
      await refused(await makeTar([{ name: cfgPath, data: cfg }, { name: 'l.tgz', data: zlib.gzipSync(other) }, manifestFor(cfgPath, ['l.tgz'])]), /l\.tgz does not match the config/);
      // Starts like a tar, then garbage.
      const broken = Buffer.concat([big.subarray(0, 1024), randomBytes(big.length)]);
      await refused(await makeTar([{ name: cfgPath, data: cfg }, { name: 'l.tar', data: broken }, manifestFor(cfgPath, ['l.tar'])]), /invalid|does not match/);
      // The good layer, next to big tar and gzip entries nobody names.
      const good = await makeTar([
        { name: 'unused.tar', data: other },
        { name: 'unused.tgz', data: zlib.gzipSync(other) },
        { name: 'broken.tar', data: broken },
        { name: cfgPath, data: cfg },
        { name: 'l.tgz', data: zlib.gzipSync(big) },
        manifestFor(cfgPath, ['l.tgz'], ['early:1']),
      ]);
      const r = await api(d, 'POST', '/images/load', good);
      assert.equal(r.status, 200, r.body);
      // Not quiet: the big entries report progress as they arrive, by name
      // (no digest in these names), and the result line comes last.
      const lines = r.body.trim().split('\r\n').map((l) => JSON.parse(l));
      const loading = lines.filter((l) => l.status === 'Loading layer');
      assert.ok(loading.some((l) => l.id === 'l.tgz'), r.body);
      const last = loading.filter((l) => l.id === 'l.tgz').at(-1);
      assert.equal(last.progressDetail.current, last.progressDetail.total);
      assert.deepEqual(lines.at(-1), { stream: 'Loaded image: early:1\n' });
      const st = stored(d);
      assert.deepEqual(st.scratch, []);
      assert.deepEqual(st.ingest, []);
      // The kept blob is the uncompressed layer (its diffID).
      assert.ok(st.blobs.includes(sha(big).slice(7)), 'the uncompressed layer is kept');
      assert.equal((await ok(docker(d, 'image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'early:1'))).trim(), JSON.stringify([sha(big)]));
      await ok(docker(d, 'rmi', 'early:1'));
      assert.deepEqual(stored(d), baseline);
    });

    it('a truncated archive (through the docker CLI)', async () => {
      const full = fs.readFileSync(file('two.tar'));
      fs.writeFileSync(file('cut.tar'), full.subarray(0, Math.floor(full.length / 2)));
      const r = await docker(d, 'load', '-i', file('cut.tar'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid archive|unexpected end/i);
      assert.deepEqual(stored(d), baseline);
      // A cut gzip stream as well: quiet, the error is the status; with
      // progress already sent, it ends the stream (as docker's does).
      const gz = zlib.gzipSync(full).subarray(0, Math.floor(zlib.gzipSync(full).length / 2));
      const cut = await api(d, 'POST', '/images/load?quiet=1', gz);
      assert.equal(cut.status, 400, cut.body);
      assert.deepEqual(stored(d), baseline);
      const loud = await api(d, 'POST', '/images/load', gz);
      assert.equal(loud.status, 200, loud.body);
      const lines = loud.body.trim().split('\r\n').map((l) => JSON.parse(l));
      assert.equal(lines[0].status, 'Loading layer');
      assert.match(lines.at(-1).error, /invalid archive|unexpected end/i);
      assert.deepEqual(stored(d), baseline);
    });
  });

  it('exports a stopped container and docker import round-trips it', async () => {
    const mounts = () => fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(d.dataRoot)).length;
    const before = mounts();
    await ok(run('sh', ['-c', `docker export mod > ${file('mod.tar')}`], d.env));
    assert.equal(mounts(), before, 'export leaves no mount behind');
    const names = [] as string[];
    const ex = tar.extract();
    Readable.from([fs.readFileSync(file('mod.tar'))]).pipe(ex as unknown as NodeJS.WritableStream);
    for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header }>) {
      names.push(e.header.name);
      for await (const _ of e);
    }
    assert.ok(names.includes('newfile'));
    assert.ok(names.includes('bin/busybox'));
    assert.ok(!names.includes('bin/ls'));
    assert.ok(!names.some((n) => n.startsWith('usr')));
    assert.ok(!names.some((n) => n.includes('.wh.')), 'a merged view has no whiteouts');
    await ok(docker(d, 'import', file('mod.tar'), 'exported:1'));
    assert.equal(await ok(docker(d, 'run', '--rm', 'exported:1', 'sh', '-c', 'cat /newfile; [ -e /bin/ls ] || echo gone')), 'made\ngone\n');
    // The container still starts after its rootfs was mounted for the export.
    await ok(docker(d, 'start', 'mod'));
    await ok(docker(d, 'wait', 'mod'));
  });

  it('survives clients that go away mid-save, mid-export and mid-load', async () => {
    // Reads a little of the response, then drops the connection.
    const cutShort = (method: string, p: string, body?: Buffer) =>
      new Promise<void>((resolve) => {
        const req = http.request({ socketPath: d.socket, path: p, method }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
          res.on('error', () => resolve());
        });
        req.on('error', () => resolve());
        if (body) {
          req.write(body);
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 200);
        } else req.end();
      });
    for (let i = 0; i < 3; i++) {
      await cutShort('GET', '/images/get?names=busybox&names=snap:1');
      await cutShort('GET', '/containers/mod/export');
    }
    const full = fs.readFileSync(file('two.tar'));
    await cutShort('POST', '/images/load', full.subarray(0, full.length >> 1));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await api(d, 'GET', '/_ping')).status, 200);
    assert.deepEqual(stored(d).ingest, []);
    assert.deepEqual(stored(d).scratch, []);
    assert.equal(fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(`${d.dataRoot}/overlay/containers/`)).length, 0);
  });

  it('exports a running container', async () => {
    await ok(docker(d, 'run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /livefile; sleep 60'));
    try {
      let names: string[] = [];
      for (let i = 0; i < 50; i++) {
        const r = await run('sh', ['-c', 'docker export live | tar t'], d.env);
        assert.equal(r.code, 0, r.stderr);
        names = r.stdout.split('\n');
        if (names.includes('livefile')) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(names.includes('livefile'));
      assert.ok(names.includes('bin/ls'));
    } finally {
      await docker(d, 'rm', '-f', 'live');
    }
    const r = await api(d, 'GET', '/containers/nosuch/export');
    assert.equal(r.status, 404);
  });
});
