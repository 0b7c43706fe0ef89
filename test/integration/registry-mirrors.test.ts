// Daemon registry settings against Debian's docker-registry on loopback:
// Docker Hub mirrors tried in order (the first one down, the second serving
// library/busybox) with the Hub (unreachable here) as the last resort;
// insecure-registries by CIDR; `docker info` showing them; daemon.json keys
// nothing reads refused at start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, BERTHD, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { FakeRegistry, buildImage, forwardTcp, tarOf } from './pull-push-helpers';
import { freePort, haveRegistry, startRegistry, tmpDir, type RegistryProcess } from './registry/helpers';

const noRegistry = !haveRegistry && !process.env.CI && 'docker-registry is not installed (apt-get install docker-registry)';

describe('registry mirrors and insecure CIDRs', { skip: noRegistry, timeout: 300_000 }, () => {
  let d: TestDaemon;
  let plain: TestDaemon;
  let reg: RegistryProcess;
  let downPort: number;
  let mirrors: string[];
  // A non-loopback address for the CIDR case, on a veth pair of its own
  // (no dummy module here).
  const link = `btm${process.pid % 100000}`;
  const addr = `10.251.${(process.pid >> 8) & 255}.${(process.pid & 127) + 1}`;
  let fwd: { close(): Promise<void> } | undefined;

  before(async () => {
    [reg, downPort] = await Promise.all([startRegistry(), freePort()]);
    mirrors = [`http://127.0.0.1:${downPort}/`, `http://${reg.host}/`];
    assert.equal(spawnSync('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}p`]).status, 0);
    assert.equal(spawnSync('ip', ['addr', 'add', `${addr}/32`, 'dev', link]).status, 0);
    for (const l of [link, `${link}p`]) assert.equal(spawnSync('ip', ['link', 'set', l, 'up']).status, 0);
    fwd = await forwardTcp(addr, reg.port);
    [d, plain] = await Promise.all([
      startDaemon(['--registry-mirror', mirrors[0], '--registry-mirror', `http://${reg.host}`, '--insecure-registry', '10.251.0.0/16', '--allow-nondistributable-artifacts', reg.host, '--max-concurrent-downloads', '1']),
      startDaemon(),
    ]);
    // The second mirror holds busybox as the Hub names it.
    await importBusybox(d, 'busybox');
    const mirrored = `${reg.host}/library/busybox:latest`;
    assert.equal((await docker(d, 'tag', 'busybox', mirrored)).code, 0);
    const push = await docker(d, 'push', mirrored);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(d, 'rmi', 'busybox', mirrored)).code, 0);
  });
  after(async () => {
    await Promise.all([d?.stop(), plain?.stop(), fwd?.close()]);
    spawnSync('ip', ['link', 'del', link]);
    await reg?.stop();
  });

  it('docker pull busybox comes from the second mirror when the first is down', async () => {
    const pull = await docker(d, 'pull', 'busybox');
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image for busybox:latest/);
    const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'mirrored');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mirrored\n');
    const digests = await docker(d, 'image', 'inspect', '-f', '{{json .RepoDigests}}', 'busybox');
    assert.match(digests.stdout, /"busybox@sha256:[0-9a-f]{64}"/);
  });

  it('an image no mirror has falls back to Docker Hub, and the error says what each said', async () => {
    const pull = await docker(d, 'pull', 'busybox:no-such-tag');
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /registry-1\.docker\.io/, pull.stderr);
    assert.match(pull.stderr, new RegExp(`mirror http://127\\.0\\.0\\.1:${downPort}/: .*(refused|unreachable|connect)`, 'i'), pull.stderr);
    assert.match(pull.stderr, new RegExp(`mirror http://${reg.host.replace(/\./g, '\\.')}/: .*(not found|unknown)`, 'i'), pull.stderr);
    // Without mirrors the Hub's own error stands alone.
    const direct = await docker(plain, 'pull', 'busybox:no-such-tag');
    assert.notEqual(direct.code, 0);
    assert.doesNotMatch(direct.stderr, /mirror/);
  });

  it('docker info lists the mirrors and the insecure CIDRs', async () => {
    const info = await docker(d, 'info');
    assert.equal(info.code, 0, info.stderr);
    assert.ok(info.stdout.includes(` Registry Mirrors:\n  ${mirrors[0]}\n  ${mirrors[1]}\n`), info.stdout);
    assert.ok(info.stdout.includes(' Insecure Registries:\n  127.0.0.0/8\n  10.251.0.0/16\n'), info.stdout);
    const rc = JSON.parse((await docker(d, 'info', '-f', '{{json .RegistryConfig}}')).stdout);
    assert.deepEqual(rc.Mirrors, mirrors);
    assert.deepEqual(rc.IndexConfigs['docker.io'], { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true });
    // berth info prints the same sections.
    const b = await run(BERTH, ['info'], d.env);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(b.stdout.includes(` Insecure Registries:\n  127.0.0.0/8\n  10.251.0.0/16\n Registry Mirrors:\n  ${mirrors[0]}\n  ${mirrors[1]}\n`), b.stdout);
    const plainInfo = await docker(plain, 'info');
    assert.doesNotMatch(plainInfo.stdout, /Registry Mirrors/);
    // The fields clients read, filled.
    const f = JSON.parse((await docker(d, 'info', '-f', '{{json .}}')).stdout);
    assert.equal(f.LoggingDriver, 'json-file');
    assert.match(f.CgroupDriver, /^(cgroupfs|systemd)$/);
    assert.match(f.CgroupVersion, /^[12]$/);
    assert.equal(f.DefaultRuntime, 'runc');
    assert.ok(f.Runtimes.runc?.path);
    assert.ok(Array.isArray(f.SecurityOptions) && f.SecurityOptions.includes('name=seccomp,profile=builtin'));
    assert.ok(Array.isArray(f.Warnings));
  });

  it('an address in an insecure-registries CIDR is reached over plain HTTP; without it, not', async () => {
    const image = `${addr}:${reg.port}/cidr/box:v1`;
    await importBusybox(plain, 'busybox');
    assert.equal((await docker(d, 'tag', 'busybox', image)).code, 0);
    const push = await docker(d, 'push', image);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(plain, 'tag', 'busybox', image)).code, 0);
    const refused = await docker(plain, 'push', image);
    assert.notEqual(refused.code, 0, 'HTTPS only outside the CIDR');
    assert.equal((await docker(d, 'rmi', image)).code, 0);
    const pull = await docker(d, 'pull', image);
    assert.equal(pull.code, 0, pull.stderr);
  });
});

describe('foreign layers and allow-nondistributable-artifacts', { skip: noRegistry, timeout: 300_000 }, () => {
  let allow: TestDaemon;
  let deny: TestDaemon;
  let reg: RegistryProcess;
  let fake: FakeRegistry;
  const urls = ['https://example.invalid/layers/foreign.tar.gz'];
  let layerDigest: string;

  before(async () => {
    // distribution takes foreign layers' URLs only where validation allows them.
    [reg, fake] = await Promise.all([startRegistry({ extra: { validation: { manifests: { urls: { allow: ['^https?://'] } } } } }), new FakeRegistry().start()]);
    [allow, deny] = await Promise.all([startDaemon(['--allow-nondistributable-artifacts', '127.0.0.0/8']), startDaemon()]);
    // A Docker schema 2 image whose only layer is foreign, with its URLs.
    const img = buildImage({ oci: false, layers: [{ tar: await tarOf({ 'etc/foreign': 'x\n' }), compression: 'gzip', mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' }] });
    const m = JSON.parse(img.manifest.toString());
    m.layers[0].urls = urls;
    img.manifest = Buffer.from(JSON.stringify(m));
    layerDigest = img.layers[0].digest;
    fake.addImage('foreign/img', 'v1', img);
  });
  after(async () => {
    await Promise.all([allow?.stop(), deny?.stop(), reg?.stop(), fake?.close()]);
  });

  const manifestIn = async (repo: string) => {
    const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(res.status, 200);
    return (await res.json()) as { layers: { mediaType: string; digest: string; urls?: string[] }[] };
  };
  const blobIn = async (repo: string, digest: string) => (await fetch(`http://${reg.host}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status;

  it('is skipped on push to a registry not allowed (the manifest keeps its URLs), pushed to one that is', async () => {
    for (const [d, repo] of [[deny, 'skipped'], [allow, 'pushed']] as const) {
      const pull = await docker(d, 'pull', `${fake.host}/foreign/img:v1`);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal((await docker(d, 'tag', `${fake.host}/foreign/img:v1`, `${reg.host}/${repo}:v1`)).code, 0);
      const push = await docker(d, 'push', `${reg.host}/${repo}:v1`);
      assert.equal(push.code, 0, push.stderr);
      if (repo === 'skipped') assert.match(push.stdout, /Skipped foreign layer/);
      else assert.doesNotMatch(push.stdout, /Skipped foreign layer/);
    }
    const skipped = await manifestIn('skipped');
    assert.deepEqual(skipped.layers.map((l) => [l.mediaType, l.digest, l.urls]), [['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', layerDigest, urls]]);
    assert.equal(await blobIn('skipped', layerDigest), 404);
    const pushed = await manifestIn('pushed');
    assert.deepEqual(pushed.layers.map((l) => [l.mediaType, l.digest, l.urls]), [['application/vnd.docker.image.rootfs.diff.tar.gzip', layerDigest, undefined]]);
    assert.equal(await blobIn('pushed', layerDigest), 200);
  });
});

describe('daemon.json keys berthd does not know', () => {
  it('are refused by name at start, as dockerd', async () => {
    const dir = tmpDir('cfg');
    try {
      const cfg = path.join(dir, 'daemon.json');
      fs.writeFileSync(cfg, JSON.stringify({ 'registry-mirrors': [], 'no-such-key': 1, 'live-restor': true }));
      const r = await run(BERTHD, ['--data-root', path.join(dir, 'd'), '--exec-root', path.join(dir, 'x'), '-H', `unix://${path.join(dir, 's.sock')}`, '--config-file', cfg], process.env, undefined, 30_000);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /the following directives don't match any configuration option: no-such-key, live-restor/);
      assert.ok(!fs.existsSync(path.join(dir, 's.sock')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
