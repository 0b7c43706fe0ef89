// --init against a real berthd: tini bound at /sbin/docker-init is pid 1,
// reaps orphans, forwards docker stop's SIGTERM; docker info names it; and
// daemon.json's `init` makes it every container's default. With the docker
// CLI, berth and the raw API.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, berth, docker, dockerOk, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

describe('--init', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const ok = (...args: string[]) => dockerOk(d, ...args);

  // Each process of the container: its state letter and its command line
  // (a zombie's is empty).
  const procs = async (id: string): Promise<{ state: string; cmd: string }[]> => {
    const out = await ok('exec', id, 'sh', '-c', 'for p in /proc/[0-9]*; do echo "$(cut -d" " -f3 $p/stat 2>/dev/null) $(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done');
    return out.split('\n').map((l) => ({ state: l.slice(0, 1), cmd: l.slice(2).trim() })).filter((p) => p.state.trim());
  };
  const poll = async <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(250);
    }
  };
  // The zombies once the main process runs `sleep 60` and the orphaned
  // `sleep 1` no longer runs.
  const afterOrphan = (id: string) => poll('the orphan to end', async () => {
    const ps = await procs(id);
    if (!ps.some((p) => p.cmd === 'sleep 60') || ps.some((p) => p.cmd === 'sleep 1' && p.state !== 'Z')) return undefined;
    return ps.filter((p) => p.state === 'Z');
  });

  it('pid 1 is docker-init running the command (docker CLI and berth), and inspect shows Init', async () => {
    assert.equal(await ok('run', '--rm', '--init', 'busybox', 'cat', '/proc/1/comm'), 'docker-init');
    const cmdline = await ok('run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline');
    assert.equal(cmdline, '/sbin/docker-init -- sh -c tr "\\0" " " < /proc/1/cmdline');
    const b = await berth(d, 'run', '--rm', '--init', 'busybox', 'cat', '/proc/1/comm');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.trim(), 'docker-init');
    // Without it, the command is pid 1.
    assert.equal(await ok('run', '--rm', 'busybox', 'cat', '/proc/1/comm'), 'cat');
    const id = await ok('create', '--init', 'busybox', 'true');
    assert.equal(JSON.parse(await ok('inspect', id))[0].HostConfig.Init, true);
    const plain = await ok('create', 'busybox', 'true');
    // Unset, it is left out (Go's *bool with omitempty).
    assert.equal('Init' in JSON.parse(await ok('inspect', plain))[0].HostConfig, false);
    await ok('rm', id, plain);
  });

  it('an orphan that exits is reaped with --init and left a zombie without', async () => {
    const script = '(sleep 1 &) ; exec sleep 60';
    const bare = await ok('run', '-d', 'busybox', 'sh', '-c', script);
    const init = await ok('run', '-d', '--init', 'busybox', 'sh', '-c', script);
    try {
      // Without an init, pid 1 (sleep 60) never waits for it.
      assert.equal((await afterOrphan(bare)).length, 1, 'without --init, one zombie');
      await afterOrphan(init);
      await poll('docker-init to reap the orphan', async () => ((await procs(init)).some((p) => p.state === 'Z') ? undefined : true));
      // And the zombie without one stays.
      assert.equal((await procs(bare)).filter((p) => p.state === 'Z').length, 1);
    } finally {
      await docker(d, 'rm', '-f', bare, init);
    }
  });

  it('docker stop of --init sleep ends it with the forwarded SIGTERM (143), not SIGKILL', async () => {
    const id = await ok('run', '-d', '--init', 'busybox', 'sleep', '100');
    await ok('stop', id);
    const st = JSON.parse(await ok('inspect', id))[0].State;
    assert.equal(st.ExitCode, 143);
    assert.equal(st.OOMKilled, false);
    await ok('rm', id);
  });

  it('docker info names the init binary and its commit, as dockerd', async () => {
    const info = JSON.parse(await ok('info', '--format', '{{json .}}'));
    assert.ok(['docker-init', 'tini-static'].includes(info.InitBinary), info.InitBinary);
    // Debian's tini prints "tini version 0.19.0", with no git commit.
    const bin = fs.existsSync('/usr/bin/docker-init') ? '/usr/bin/docker-init' : '/usr/bin/tini-static';
    const commit = fs.readFileSync(bin).includes(Buffer.from(' - git.')) ? /^[0-9a-f]+$/ : /^$/;
    assert.match(info.InitCommit.ID, commit);
    assert.equal(info.InitCommit.Expected, undefined);
    // Expected is there for older clients (API < 1.49).
    const old = JSON.parse((await api(d, 'GET', '/v1.41/info')).body);
    assert.equal(old.InitCommit.Expected, old.InitCommit.ID);
  });

  it('daemon.json init: true gives every container an init unless it opts out, or shares a pid namespace', async () => {
    fs.writeFileSync(path.join(d.base, 'daemon.json'), JSON.stringify({ init: true }));
    await d.restart();
    assert.equal(await ok('run', '--rm', 'busybox', 'cat', '/proc/1/comm'), 'docker-init');
    assert.equal(await ok('run', '--rm', '--init=false', 'busybox', 'cat', '/proc/1/comm'), 'cat');
    // The host's pid 1 is not ours to replace.
    assert.notEqual(await ok('run', '--rm', '--pid', 'host', 'busybox', 'cat', '/proc/1/comm'), 'docker-init');
  });
});
