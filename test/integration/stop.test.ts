// How `docker stop` ends a container, proved from inside: the stop signal
// (--stop-signal, the image's STOPSIGNAL, `docker stop -s`) reaches a shell
// that traps it and says so in its log; the stop timeout (--stop-timeout,
// overridden by `docker stop -t`) is how long it waits before SIGKILL,
// seen in the kill events and in the time taken (generous margins: the
// default is 10 s). docker CLI and berth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { berth, docker, dockerOk, inspectOf, importBusybox, run, sleep, startDaemon, type TestDaemon } from './harness';

// pid 1 ignores a signal it has no handler for: only the trap ends it.
const TRAP = 'trap "echo got-usr1; exit 3" USR1; echo ready; while :; do sleep 1 & wait $!; done';

describe('stop signals and timeouts', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const ok = (...args: string[]) => dockerOk(d, ...args);
  const inspect = (id: string) => inspectOf(d, id);
  // The trap is set once the shell has said so.
  const ready = async (id: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await ok('logs', id)).includes('ready')) {
      if (Date.now() > deadline) assert.fail(`${id} never got ready`);
      await sleep(100);
    }
  };
  // The signals of the container's kill events since a moment.
  const killSignals = async (id: string, since: string) => {
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const out = await ok('events', '--since', since, '--until', until, '--filter', `container=${id}`, '--filter', 'event=kill', '--format', '{{.Actor.Attributes.signal}}');
    return out.split('\n').filter(Boolean);
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = Date.now();
    await fn();
    return (Date.now() - t0) / 1000;
  };

  it('--stop-signal SIGUSR1 reaches the trapping shell', async () => {
    const id = await ok('run', '-d', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', TRAP);
    await ready(id);
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await ok('stop', id);
    assert.match(await ok('logs', id), /got-usr1/);
    const c = await inspect(id);
    assert.equal(c.State.ExitCode, 3);
    assert.equal(c.Config.StopSignal, 'SIGUSR1');
    assert.deepEqual(await killSignals(id, since), ['10']);
    await ok('rm', id);
  });

  it('the image\'s STOPSIGNAL (commit --change) is the container\'s, and --stop-signal overrides it', async () => {
    const base = await ok('create', 'busybox', 'true');
    await ok('commit', '--change', 'STOPSIGNAL SIGUSR1', base, 'usr1-stop');
    await ok('rm', base);
    assert.equal(JSON.parse(await ok('image', 'inspect', 'usr1-stop'))[0].Config.StopSignal, 'SIGUSR1');
    const id = await ok('run', '-d', 'usr1-stop', 'sh', '-c', TRAP);
    await ready(id);
    assert.equal((await inspect(id)).Config.StopSignal, 'SIGUSR1');
    await ok('stop', id);
    assert.match(await ok('logs', id), /got-usr1/);
    assert.equal((await inspect(id)).State.ExitCode, 3);
    // A container's own signal wins: SIGTERM, which the shell ignores, so
    // it takes the SIGKILL after a short timeout.
    const other = await ok('run', '-d', '--stop-signal', 'SIGTERM', '--stop-timeout', '1', 'usr1-stop', 'sh', '-c', TRAP);
    await ready(other);
    await ok('stop', other);
    assert.doesNotMatch(await ok('logs', other), /got-usr1/);
    assert.equal((await inspect(other)).State.ExitCode, 137);
    await ok('rm', id, other);
    await ok('rmi', 'usr1-stop');
  });

  it('docker stop -s and berth stop -s send the signal asked for', async () => {
    for (const cli of [docker, berth]) {
      const id = await ok('run', '-d', 'busybox', 'sh', '-c', TRAP);
      await ready(id);
      const r = await cli(d, 'stop', '-s', 'USR1', id);
      assert.equal(r.code, 0, r.stderr);
      assert.match(await ok('logs', id), /got-usr1/);
      assert.equal((await inspect(id)).State.ExitCode, 3);
      await ok('rm', id);
    }
  });

  it('--stop-timeout 1 kills after about a second, not the default 10 s', async () => {
    const id = await ok('run', '-d', '--stop-timeout', '1', 'busybox', 'sleep', '100');
    assert.equal((await inspect(id)).Config.StopTimeout, 1);
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const took = await timed(() => ok('stop', id));
    assert.ok(took < 8, `stop took ${took}s`);
    assert.equal((await inspect(id)).State.ExitCode, 137);
    // SIGTERM (ignored by pid 1), then SIGKILL once the timeout ran out.
    assert.deepEqual(await killSignals(id, since), ['15', '9']);
    await ok('rm', id);
  });

  it('docker stop -t (and berth stop -t) overrides the container\'s stop timeout', async () => {
    for (const cli of [docker, berth]) {
      const id = await ok('run', '-d', '--stop-timeout', '100', 'busybox', 'sleep', '100');
      const took = await timed(async () => {
        const r = await cli(d, 'stop', '-t', '1', id);
        assert.equal(r.code, 0, r.stderr);
      });
      assert.ok(took < 8, `stop -t 1 took ${took}s`);
      assert.equal((await inspect(id)).State.ExitCode, 137);
      await ok('rm', id);
    }
    // And docker restart's too.
    const id = await ok('run', '-d', '--stop-timeout', '100', 'busybox', 'sleep', '100');
    const took = await timed(() => ok('restart', '-t', '0', id));
    assert.ok(took < 8, `restart -t 0 took ${took}s`);
    assert.equal((await inspect(id)).State.Running, true);
    await ok('rm', '-f', id);
  });

  it('docker kill sends the signal to the process (not the stop signal)', async () => {
    const id = await ok('run', '-d', '--stop-signal', 'SIGTERM', 'busybox', 'sh', '-c', TRAP);
    await ready(id);
    const r = await run('docker', ['kill', '-s', 'USR1', id], d.env);
    assert.equal(r.code, 0, r.stderr);
    await ok('wait', id);
    assert.match(await ok('logs', id), /got-usr1/);
    await ok('rm', id);
  });
});
