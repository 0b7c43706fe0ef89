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
import { BERTHD, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { forwardTcp } from './pull-push-helpers';
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
      startDaemon(['--registry-mirror', mirrors[0], '--registry-mirror', `http://${reg.host}`, '--insecure-registry', '10.251.0.0/16']),
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
