// Healthchecks end to end, with the docker CLI and berth: probes run in the
// container, the health goes starting → unhealthy → healthy as the probe's
// file comes and goes, inspect, ps and events show it as dockerd does, an
// image's HEALTHCHECK (made by commit --change) is used or turned off, bad
// durations are refused with dockerd's words, and the health survives a
// berthd restart, its probing resumed. Waits poll with deadlines; no sleep
// is a proof.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, berth, docker, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

describe('healthchecks', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const inspect = async (name: string) => {
    const r = await docker(d, 'inspect', name);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)[0];
  };
  const health = async (name: string): Promise<Health | undefined> => (await inspect(name)).State.Health;
  // Polls until the container's health satisfies ok, or fails with the last one seen.
  const until = async (name: string, ok: (h: Health | undefined) => boolean, what: string, ms = 60_000): Promise<Health> => {
    const deadline = Date.now() + ms;
    let h: Health | undefined;
    for (;;) {
      h = await health(name);
      if (ok(h)) return h!;
      if (Date.now() > deadline) assert.fail(`${name}: ${what} not reached; health: ${JSON.stringify(h)}\n${d.log().slice(-3000)}`);
      await sleep(200);
    }
  };
  const status = async (name: string) => (await docker(d, 'ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}')).stdout.trim();
  const names = async (filter: string) => (await docker(d, 'ps', '-a', '--filter', filter, '--format', '{{.Names}}')).stdout.trim().split('\n').filter(Boolean).sort();

  it('goes starting → unhealthy → healthy as the probe\'s file comes, in inspect, ps, its filter and events', async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const r = await docker(d, 'run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '1d');
    assert.equal(r.code, 0, r.stderr);
    // One whose first probe is ten minutes away: starting for as long as this test looks.
    const slow = await berth(d, 'run', '-d', '--name', 'slow', '--health-cmd', 'true', '--health-interval', '10m', 'busybox', 'sleep', '1d');
    assert.equal(slow.code, 0, slow.stderr);
    const none = await docker(d, 'run', '-d', '--name', 'plain', 'busybox', 'sleep', '1d');
    assert.equal(none.code, 0, none.stderr);

    const c = await inspect('hc');
    assert.deepEqual(c.Config.Healthcheck, { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 1e9, Retries: 2 });
    assert.deepEqual(await health('slow'), { Status: 'starting', FailingStreak: 0, Log: [] });
    assert.match(await status('slow'), /^Up .* \(health: starting\)$/);
    assert.match((await berth(d, 'ps', '--filter', 'name=slow', '--format', '{{.Status}}')).stdout, /^Up .* \(health: starting\)\n$/);
    assert.equal(await health('plain'), undefined);
    assert.match(await status('plain'), /^Up [^(]*$/);

    const bad = await until('hc', (h) => h?.Status === 'unhealthy', 'unhealthy');
    assert.ok(bad.FailingStreak >= 2, JSON.stringify(bad));
    assert.ok(bad.Log.length >= 2 && bad.Log.length <= 5, JSON.stringify(bad));
    for (const e of bad.Log) {
      assert.deepEqual(Object.keys(e).sort(), ['End', 'ExitCode', 'Output', 'Start']);
      assert.equal(e.ExitCode, 1);
      assert.equal(e.Output, '');
      assert.ok(Date.parse(e.End) >= Date.parse(e.Start));
    }
    assert.match(await status('hc'), /^Up .* \(unhealthy\)$/);
    assert.deepEqual(await names('health=unhealthy'), ['hc']);
    assert.deepEqual(await names('health=starting'), ['slow']);
    assert.deepEqual(await names('health=none'), ['plain']);

    assert.equal((await docker(d, 'exec', 'hc', 'touch', '/tmp/ok')).code, 0);
    const good = await until('hc', (h) => h?.Status === 'healthy', 'healthy');
    assert.equal(good.FailingStreak, 0);
    assert.equal(good.Log.at(-1)!.ExitCode, 0);
    assert.ok(good.Log.length <= 5);
    assert.match(await status('hc'), /^Up .* \(healthy\)$/);
    assert.deepEqual(await names('health=healthy'), ['hc']);

    const until_ = (Date.now() / 1000).toFixed(3);
    const ev = await docker(d, 'events', '--since', since, '--until', until_, '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.equal(ev.code, 0, ev.stderr);
    assert.deepEqual(ev.stdout.trim().split('\n'), ['health_status: unhealthy hc', 'health_status: healthy hc']);
    // Probes are exec sessions, with their events, as dockerd's are.
    const execs = await docker(d, 'events', '--since', since, '--until', until_, '--filter', 'container=hc', '--filter', 'event=exec_create', '--format', '{{.Action}}');
    assert.match(execs.stdout, /^exec_create: \/bin\/sh -c test -f \/tmp\/ok$/m);
  });

  it('keeps the output (up to 4096 bytes), and kills a probe past its timeout', async () => {
    // The monitor waits for a killed probe's end, so a result at all means
    // `sleep 1000` was killed.
    const r = await docker(d, 'run', '-d', '--name', 'slowprobe', '--health-cmd', 'echo out; sleep 1000', '--health-timeout', '200ms', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '1d');
    assert.equal(r.code, 0, r.stderr);
    const h = await until('slowprobe', (x) => !!x?.Log.length, 'a result');
    assert.deepEqual([h.Log[0].ExitCode, h.Log[0].Output], [-1, 'Health check exceeded timeout (200ms): out\n']);
    assert.equal(h.Status, 'unhealthy');

    const big = await docker(d, 'run', '-d', '--name', 'chatty', '--health-cmd', 'yes x | head -c 5000', '--health-interval', '1s', 'busybox', 'sleep', '1d');
    assert.equal(big.code, 0, big.stderr);
    const b = await until('chatty', (x) => x?.Status === 'healthy', 'healthy');
    assert.equal(b.Log[0].Output, 'x\n'.repeat(2048) + '...');
  });

  it('uses an image\'s HEALTHCHECK (from commit --change) and --no-healthcheck turns it off', async () => {
    const base = await docker(d, 'create', '--name', 'base', 'busybox', 'true');
    assert.equal(base.code, 0, base.stderr);
    const commit = await docker(d, 'commit', '--change', 'HEALTHCHECK --interval=1s --retries=2 CMD ["test", "-d", "/"]', 'base', 'hcimg');
    assert.equal(commit.code, 0, commit.stderr);
    const img = JSON.parse((await docker(d, 'image', 'inspect', 'hcimg')).stdout)[0];
    assert.deepEqual(img.Config.Healthcheck, { Test: ['CMD', 'test', '-d', '/'], Interval: 1e9, Retries: 2 });

    assert.equal((await docker(d, 'run', '-d', '--name', 'fromimg', 'hcimg', 'sleep', '1d')).code, 0);
    assert.deepEqual((await inspect('fromimg')).Config.Healthcheck, img.Config.Healthcheck);
    await until('fromimg', (h) => h?.Status === 'healthy', 'healthy');

    // A request's fields over the image's: its own test, the image's interval.
    assert.equal((await docker(d, 'run', '-d', '--name', 'merged', '--health-cmd', 'exit 1', 'hcimg', 'sleep', '1d')).code, 0);
    assert.deepEqual((await inspect('merged')).Config.Healthcheck, { Test: ['CMD-SHELL', 'exit 1'], Interval: 1e9, Retries: 2 });
    await until('merged', (h) => h?.Status === 'unhealthy', 'unhealthy');

    assert.equal((await docker(d, 'run', '-d', '--name', 'nohc', '--no-healthcheck', 'hcimg', 'sleep', '1d')).code, 0);
    const c = await inspect('nohc');
    // dockerd's merge: NONE is the test; the image's other fields stay.
    assert.deepEqual(c.Config.Healthcheck, { Test: ['NONE'], Interval: 1e9, Retries: 2 });
    assert.equal(c.State.Health, undefined);
    assert.ok((await names('health=none')).includes('nohc'));
    assert.match(await status('nohc'), /^Up [^(]*$/);
    // Still none a while later: it has no monitor at all (fromimg's got a
    // result within a second or so).
    await until('fromimg', (h) => (h?.Log.length ?? 0) >= 3, 'more results');
    assert.equal(await health('nohc'), undefined);
  });

  it('refuses bad durations and filters with dockerd\'s words', async () => {
    const r = await docker(d, 'run', '--health-cmd', 'true', '--health-interval', '500us', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Interval in Healthcheck cannot be less than 1ms/);
    const neg = await docker(d, 'run', '--health-interval', '-1s', 'busybox', 'true');
    assert.match(neg.stderr, /--health-interval cannot be negative/);
    for (const [hc, msg] of [
      [{ Test: ['CMD', 'true'], Timeout: -1 }, 'Timeout in Healthcheck cannot be less than 1ms'],
      [{ Test: ['CMD', 'true'], Retries: -1 }, 'Retries in Healthcheck cannot be negative'],
      [{ Test: ['CMD', 'true'], StartPeriod: 10 }, 'StartPeriod in Healthcheck cannot be less than 1ms'],
      [{ Test: ['CMD', 'true'], StartInterval: 999_999 }, 'StartInterval in Healthcheck cannot be less than 1ms'],
    ] as const) {
      const res = await api(d, 'POST', '/v1.51/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], Healthcheck: hc }), { 'Content-Type': 'application/json' });
      assert.equal(res.status, 400, res.body);
      assert.equal(JSON.parse(res.body).message, msg);
    }
    const f = await docker(d, 'ps', '--filter', 'health=bogus');
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /Unrecognised filter value for health: bogus/);
  });

  it('survives a berthd restart and probes on; a stopped container is unhealthy', async () => {
    const before = await until('hc', (h) => h?.Status === 'healthy', 'healthy');
    await d.restart();
    const after = await health('hc');
    assert.equal(after?.Status, 'healthy');
    assert.ok(after!.Log.length >= Math.min(before.Log.length, 5));
    // The log as last saved: what was seen before, or newer.
    assert.ok(after!.Log.at(-1)!.Start >= before.Log.at(-1)!.Start);
    // Still starting: the restart did not start it over.
    assert.equal((await health('slow'))?.Status, 'starting');

    // Probing resumed: taking the file away makes it unhealthy.
    assert.equal((await docker(d, 'exec', 'hc', 'rm', '/tmp/ok')).code, 0);
    await until('hc', (h) => h?.Status === 'unhealthy', 'unhealthy after the restart');
    assert.equal((await docker(d, 'exec', 'hc', 'touch', '/tmp/ok')).code, 0);
    await until('hc', (h) => h?.Status === 'healthy', 'healthy after the restart');

    // Paused, it is not probed, and unhealthy (dockerd's word for a stopped
    // monitor); unpaused, probing resumes.
    assert.equal((await docker(d, 'pause', 'hc')).code, 0);
    assert.equal((await health('hc'))?.Status, 'unhealthy');
    assert.match(await status('hc'), /^Up .* \(Paused\)$/);
    assert.equal((await docker(d, 'unpause', 'hc')).code, 0);
    await until('hc', (h) => h?.Status === 'healthy', 'healthy after unpause');

    assert.equal((await docker(d, 'stop', '-t', '1', 'hc')).code, 0);
    const stopped = await health('hc');
    assert.equal(stopped?.Status, 'unhealthy');
    assert.match(await status('hc'), /^Exited /);
    // And started again: starting over.
    assert.equal((await docker(d, 'start', 'hc')).code, 0);
    assert.ok(['starting', 'healthy'].includes((await health('hc'))!.Status));
    await until('hc', (h) => h?.Status === 'healthy', 'healthy after start');
  });
});
