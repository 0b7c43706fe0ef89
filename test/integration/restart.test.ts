// Restart policies with the real docker CLI and berth: on-failure's count,
// always's growing back-off (ps shows Restarting), stops by hand, update,
// and what a daemon killed -9 finds when it starts again.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, berth, docker, importBusybox, sleep, startDaemon, type RunResult, type TestDaemon } from './harness';

describe('restart policies', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const ok = (r: RunResult, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };
  const inspect = async (ref: string) => JSON.parse(ok(await docker(d, 'inspect', ref), `inspect ${ref}`))[0];

  // Polls (with a deadline) until the container's inspect satisfies cond.
  async function until(ref: string, cond: (c: any) => boolean, what: string, timeoutMs = 90_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    for (;;) {
      last = await inspect(ref);
      if (cond(last)) return last;
      if (Date.now() > deadline) assert.fail(`${ref}: never ${what}; last state ${JSON.stringify(last.State)}, RestartCount ${last.RestartCount}`);
      await sleep(100);
    }
  }

  it('on-failure:2 restarts a failing container twice, then leaves it exited; die then start each time', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = ok(await docker(d, 'run', '-d', '--name', 'fails', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3'), 'run');
    const c = await until('fails', (x) => x.State.Status === 'exited' && x.RestartCount === 2, 'exited after two restarts');
    assert.equal(c.State.ExitCode, 3);
    assert.equal(c.State.Restarting, false);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    // Each run's output stays in the log.
    assert.equal((await docker(d, 'logs', 'fails')).stdout, 'run\nrun\nrun\n');
    const ev = ok(await docker(d, 'events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}'), 'events');
    assert.deepEqual(ev.split('\n').filter((a) => ['start', 'die', 'restart'].includes(a)), ['start', 'die', 'start', 'die', 'start', 'die']);
    // A start by hand counts from 0 again (and the exit's restarts follow).
    ok(await docker(d, 'update', '--restart', 'no', 'fails'), 'update');
    ok(await docker(d, 'start', 'fails'), 'start');
    await until('fails', (x) => x.State.Status === 'exited', 'exited');
    assert.equal((await inspect('fails')).RestartCount, 0);
    ok(await docker(d, 'rm', 'fails'), 'rm');
  });

  it('always restarts a quick exit with a growing back-off (ps: Restarting), and docker stop keeps it stopped', async () => {
    ok(await berth(d, 'run', '-d', '--name', 'quick', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2'), 'berth run');
    const pids = new Set<number>();
    // The back-off reaches seconds after a few restarts: the state and ps
    // show it between two runs.
    const c = await until('quick', (x) => {
      if (x.State.Pid) pids.add(x.State.Pid);
      return x.State.Restarting && x.RestartCount >= 4;
    }, 'restarting after 4 restarts');
    assert.equal(c.State.Status, 'restarting');
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Pid, 0);
    assert.ok(pids.size >= 2, `pids seen: ${[...pids]}`);
    let ps = '';
    const deadline = Date.now() + 90_000;
    while (!/^Restarting \(0\) .+ ago$/.test(ps) && Date.now() < deadline) {
      ps = ok(await docker(d, 'ps', '--filter', 'name=quick', '--format', '{{.Status}}'), 'ps');
      if (!/^Restarting/.test(ps)) await sleep(100);
    }
    assert.match(ps, /^Restarting \(0\) .+ ago$/);
    const before = (await inspect('quick')).RestartCount;

    ok(await docker(d, 'stop', 'quick'), 'stop');
    // The policy decides at the exit: exited (not restarting) means no restart is pending.
    const stopped = await inspect('quick');
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.State.Restarting, false);
    assert.ok(stopped.RestartCount >= before);
    assert.equal(ok(await docker(d, 'ps', '-q', '--filter', 'name=quick'), 'ps'), '');
    ok(await docker(d, 'rm', 'quick'), 'rm');
  });

  it('kill of a running always container, and of a restarting one (its waiter told), leave nothing to restart', async () => {
    ok(await docker(d, 'run', '-d', '--name', 'long', '--restart', 'always', 'busybox', 'sleep', '1000'), 'run');
    ok(await docker(d, 'kill', 'long'), 'kill');
    const c = await inspect('long');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 137);
    ok(await docker(d, 'run', '-d', '--name', 'again', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'sleep 0.2'), 'run');
    await until('again', (x) => x.State.Restarting && x.RestartCount >= 6, 'restarting with a long back-off');
    const wait = docker(d, 'wait', 'again');
    ok(await docker(d, 'kill', 'again'), 'kill of a restarting container');
    assert.equal(ok(await wait, 'wait'), '0');
    assert.equal((await inspect('again')).State.Status, 'exited');
    ok(await docker(d, 'rm', '-f', 'long', 'again'), 'rm');
  });

  it('update --restart sets the policy for the next exit; --rm and a policy do not go together', async () => {
    ok(await docker(d, 'run', '-d', '--name', 'upd', 'busybox', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 2'), 'run');
    assert.equal(ok(await berth(d, 'update', '--restart', 'on-failure:1', 'upd'), 'berth update'), 'upd');
    assert.deepEqual((await inspect('upd')).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 1 });
    // The file stays in its writable layer: the restarted process exits at once.
    ok(await docker(d, 'exec', 'upd', 'touch', '/tmp/go'), 'exec');
    const c = await until('upd', (x) => x.State.Status === 'exited' && x.RestartCount === 1, 'exited after one restart');
    assert.equal(c.State.ExitCode, 2);

    // Over the raw API: a name replaces the policy, a bad one is a 400 in dockerd's words.
    const bad = await api(d, 'POST', '/v1.51/containers/upd/update', JSON.stringify({ RestartPolicy: { Name: 'sometimes' } }));
    assert.equal(bad.status, 400, bad.body);
    assert.equal(JSON.parse(bad.body).message, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    const good = await api(d, 'POST', '/v1.51/containers/upd/update', JSON.stringify({ RestartPolicy: { Name: 'unless-stopped' } }));
    assert.equal(good.status, 200, good.body);
    assert.deepEqual((await inspect('upd')).HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    ok(await docker(d, 'rm', 'upd'), 'rm');

    // An attached run ends at the first exit, with its code; the policy goes on.
    const att = await docker(d, 'run', '--name', 'att', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'echo x; exit 2');
    assert.deepEqual([att.code, att.stdout], [2, 'x\n']);
    await until('att', (x) => x.State.Status === 'exited' && x.RestartCount === 1, 'exited after one restart');
    ok(await docker(d, 'rm', 'att'), 'rm');

    const refused = await docker(d, 'run', '--rm', '--restart', 'always', 'busybox', 'true');
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /conflicting options: cannot specify both --restart and --rm/);
    const ours = await berth(d, 'run', '--rm', '--restart', 'always', 'busybox', 'true');
    assert.equal(ours.code, 125);
    assert.match(ours.stderr, /conflicting options: cannot specify both --restart and --rm/);
    ok(await docker(d, 'run', '-d', '--rm', '--name', 'auto', 'busybox', 'sleep', '1000'), 'run --rm');
    const upd = await docker(d, 'update', '--restart', 'always', 'auto');
    assert.notEqual(upd.code, 0);
    assert.match(upd.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    ok(await docker(d, 'rm', '-f', 'auto'), 'rm');
  });

  it('after berthd is killed -9: exits while it was down are restarted by policy, stops by hand are kept, a pending restart is made', async () => {
    const dir = fs.mkdtempSync(path.join(d.base, 'w-'));
    const script = 'while [ ! -e /w/go ]; do sleep 0.1; done; exit 5';
    const ids: Record<string, string> = {};
    for (const [name, policy] of [['al', 'always'], ['of', 'on-failure:3'], ['no', 'no']]) {
      ids[name] = ok(await docker(d, 'run', '-d', '--name', name, '--restart', policy, '-v', `${dir}:/w`, 'busybox', 'sh', '-c', script), `run ${name}`);
    }
    ok(await docker(d, 'run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000'), 'run us');
    ok(await docker(d, 'run', '-d', '--name', 'as', '--restart', 'always', 'busybox', 'sleep', '1000'), 'run as');
    ok(await docker(d, 'stop', '-t', '0', 'us', 'as'), 'stop');
    // One between two restarts, its back-off long by now.
    ok(await docker(d, 'run', '-d', '--name', 'pend', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2'), 'run pend');
    const pendBefore = (await until('pend', (x) => x.State.Restarting && x.RestartCount >= 6, 'restarting with a long back-off')).RestartCount;
    const pids = Object.fromEntries(await Promise.all(Object.keys(ids).map(async (n) => [n, (await inspect(n)).State.Pid])));

    await d.kill9();
    fs.writeFileSync(path.join(dir, 'go'), '');
    // conmon records each exit while berthd is away.
    const deadline = Date.now() + 60_000;
    while (!Object.values(ids).every((id) => fs.existsSync(path.join(d.execRoot, 'exits', id)))) {
      if (Date.now() > deadline) assert.fail('the containers did not exit');
      await sleep(100);
    }
    fs.rmSync(path.join(dir, 'go'));
    await d.restart();

    for (const n of ['al', 'of']) {
      const c = await until(n, (x) => x.State.Status === 'running' && x.RestartCount === 1, 'running again, restarted once');
      assert.notEqual(c.State.Pid, pids[n]);
    }
    const no = await inspect('no');
    assert.equal(no.State.Status, 'exited');
    assert.equal(no.State.ExitCode, 5);
    assert.equal(no.RestartCount, 0);
    // unless-stopped stays stopped; always comes back (as dockerd), counted from 0.
    assert.equal((await inspect('us')).State.Status, 'exited');
    const as = await until('as', (x) => x.State.Status === 'running', 'started at daemon start');
    assert.equal(as.RestartCount, 0);
    await until('pend', (x) => x.RestartCount > pendBefore, 'restarted after the daemon start');
    ok(await docker(d, 'rm', '-f', 'al', 'of', 'no', 'us', 'as', 'pend'), 'rm');
  });
});
