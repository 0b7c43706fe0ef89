// The health monitor on a fake clock and a fake prober: no real timers or
// processes, so every step is decided by the test (advance the clock, let
// a probe end).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyResult, HealthMonitor, LimitedBuffer, nextDelay, resolveHealthcheck, MAX_OUTPUT,
  type ProbeRun, type Prober,
} from '../../../../src/engine/containers/health';
import type { ContainerRecord, HealthState } from '../../../../src/engine/containers/record';
import { withDefaults, type HealthcheckSpec } from '../../../../src/engine/containers/spec';
import type { Clock } from '../../../../src/util/clock';
import { goDuration, parseGoDuration } from '../../../../src/util/duration';

const T0 = Date.parse('2026-01-01T00:00:00Z');

class FakeClock implements Clock {
  t = T0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  pending(): number[] {
    return this.timers.map((x) => x.at - this.t).sort((a, b) => a - b);
  }
  // Runs every timer due within ms, in order, letting promises settle
  // after each (microtasks only: no real time passes).
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

// What one probe does: exit with a code after writing output, hang until
// killed, or fail to start.
type Script = { code: number; out?: string | Buffer } | { hang: true; out?: string } | { startError: string };

class FakeProber implements Prober {
  script: Script[] = [];
  // What each run was asked to run, and whether it was killed.
  runs: { cmd: string[]; killed: boolean }[] = [];
  fallback: Script = { code: 0 };
  start(_c: ContainerRecord, cmd: string[], output: (d: Buffer) => void): ProbeRun {
    const s = this.script.shift() ?? this.fallback;
    const rec = { cmd, killed: false };
    this.runs.push(rec);
    if ('startError' in s) {
      const err = Promise.reject(new Error(s.startError));
      err.catch(() => {});
      return { started: err, exit: err, kill() {} };
    }
    if ('hang' in s) {
      let die!: (code: number) => void;
      const exit = new Promise<number>((r) => (die = r));
      if (s.out) output(Buffer.from(s.out));
      return { started: Promise.resolve(), exit, kill: () => { rec.killed = true; die(137); } };
    }
    if (s.out !== undefined) output(Buffer.isBuffer(s.out) ? s.out : Buffer.from(s.out));
    return { started: Promise.resolve(), exit: Promise.resolve(s.code), kill: () => { rec.killed = true; } };
  }
}

function container(hc: Partial<HealthcheckSpec> | undefined, startedAt = T0): ContainerRecord {
  const spec = withDefaults({ image: { id: 'sha256:i', ref: 'busybox' }, process: { entrypoint: null, cmd: ['sleep', '1d'], env: [], cwd: '', user: '', terminal: false, stdin: false, stdinOnce: false }, runtime: 'runc' });
  if (hc) spec.healthcheck = { cmd: ['/bin/sh', '-c', 'check'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0, ...hc };
  return {
    id: 'c'.repeat(64), name: '/web', created: new Date(T0).toISOString(), spec, restartCount: 0, conmonPid: 0,
    state: { status: 'running', pid: 42, exitCode: 0, error: '', startedAt: new Date(startedAt).toISOString(), finishedAt: '', oomKilled: false },
  };
}

function setup(hc: Partial<HealthcheckSpec> | null) {
  const clock = new FakeClock();
  const prober = new FakeProber();
  const events: string[] = [];
  let saves = 0;
  const monitor = new HealthMonitor({
    clock, prober,
    events: { publish: (_t, action, _id, attrs) => events.push(`${action} ${attrs?.name}`) },
    save: () => { saves++; },
  });
  const c = container(hc ?? undefined);
  return { clock, prober, events, monitor, c, saves: () => saves };
}

describe('health monitor', () => {
  test('a container without a healthcheck gets no health and no probes', async () => {
    const { clock, prober, monitor, c } = setup(null);
    monitor.started(c);
    await clock.advance(120_000);
    assert.equal(c.state.health, undefined);
    assert.equal(prober.runs.length, 0);
  });

  test('starting, then healthy after the first success; probes every interval (default 30s)', async () => {
    const { clock, prober, monitor, c, events, saves } = setup({});
    monitor.started(c);
    assert.deepEqual(c.state.health as unknown, { status: 'starting', failingStreak: 0, log: [] });
    assert.equal(saves(), 1);
    assert.deepEqual(clock.pending(), [30_000]);
    await clock.advance(29_999);
    assert.equal(prober.runs.length, 0);
    await clock.advance(1);
    assert.equal(prober.runs.length, 1);
    assert.deepEqual(prober.runs[0].cmd, ['/bin/sh', '-c', 'check']);
    assert.equal(c.state.health!.status, 'healthy');
    assert.deepEqual(events, ['health_status: healthy web']);
    assert.equal(c.state.health!.log.length, 1);
    assert.equal(c.state.health!.log[0].start, new Date(T0 + 30_000).toISOString());
    assert.equal(saves(), 2);
    // The next one an interval after the end of this one.
    assert.deepEqual(clock.pending(), [30_000]);
    await clock.advance(30_000);
    assert.equal(prober.runs.length, 2);
    // No event when the status stays.
    assert.deepEqual(events, ['health_status: healthy web']);
  });

  test('failures count to the retries, then unhealthy; a success resets the streak', async () => {
    const { clock, prober, monitor, c, events } = setup({ interval: 1000, retries: 3 });
    prober.script = [{ code: 1, out: 'no' }, { code: 1 }, { code: 2 }, { code: 1 }, { code: 0, out: 'ok' }];
    monitor.started(c);
    await clock.advance(1000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['starting', 1]);
    await clock.advance(1000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['starting', 2]);
    await clock.advance(1000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['unhealthy', 3]);
    await clock.advance(1000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['unhealthy', 4]);
    await clock.advance(1000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['healthy', 0]);
    assert.deepEqual(events, ['health_status: unhealthy web', 'health_status: healthy web']);
    assert.deepEqual(c.state.health!.log.map((r) => [r.exitCode, r.output]), [[1, 'no'], [1, ''], [2, ''], [1, ''], [0, 'ok']]);
  });

  test('the log keeps the last five results', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000 });
    prober.script = [1, 2, 3, 4, 5, 6, 7].map((n) => ({ code: 0, out: `run ${n}` }));
    monitor.started(c);
    await clock.advance(7000);
    assert.equal(prober.runs.length, 7);
    assert.deepEqual(c.state.health!.log.map((r) => r.output), ['run 3', 'run 4', 'run 5', 'run 6', 'run 7']);
  });

  test('within the start period: probes every start interval, failures do not count; after it they do', async () => {
    const { clock, prober, monitor, c, events } = setup({ interval: 10_000, startPeriod: 3000, startInterval: 1000, retries: 1 });
    prober.fallback = { code: 1 };
    monitor.started(c);
    assert.deepEqual(clock.pending(), [1000]);
    await clock.advance(2000);
    assert.equal(prober.runs.length, 2);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['starting', 0]);
    // The third at 3s is past the period: it counts, and one retry is enough.
    await clock.advance(1000);
    assert.equal(prober.runs.length, 3);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['unhealthy', 1]);
    assert.deepEqual(events, ['health_status: unhealthy web']);
    // Then the normal interval.
    assert.deepEqual(clock.pending(), [10_000]);
  });

  test('a success within the start period ends starting; failures after it count even within the period', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 10_000, startPeriod: 60_000, startInterval: 1000, retries: 2 });
    prober.script = [{ code: 0 }, { code: 1 }, { code: 1 }];
    monitor.started(c);
    await clock.advance(1000);
    assert.equal(c.state.health!.status, 'healthy');
    // Healthy within the period: the interval, cut at the period's end.
    assert.deepEqual(clock.pending(), [10_000]);
    await clock.advance(20_000);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak], ['unhealthy', 2]);
  });

  test('the first probe after the start period comes when it ends', () => {
    const h = resolveHealthcheck({ cmd: ['x'], interval: 30_000, timeout: 0, startPeriod: 5000, startInterval: 0, retries: 0 });
    // Starting: the start interval (5s default), but never past the period's end.
    assert.equal(nextDelay(h, T0, T0, 'starting'), 5000);
    assert.equal(nextDelay(h, T0, T0 + 3000, 'starting'), 2000);
    assert.equal(nextDelay(h, T0, T0 + 3000, 'healthy'), 2000);
    assert.equal(nextDelay(h, T0, T0 + 5000, 'starting'), 30_000);
    assert.deepEqual(resolveHealthcheck({ cmd: ['x'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 }),
      { cmd: ['x'], interval: 30_000, timeout: 30_000, startPeriod: 0, startInterval: 5000, retries: 3 });
  });

  test('a probe past its timeout is killed and fails with dockerd\'s message', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000, timeout: 1500, retries: 1 });
    prober.script = [{ hang: true, out: 'partial' }, { hang: true }];
    monitor.started(c);
    await clock.advance(1000);
    assert.equal(prober.runs.length, 1);
    await clock.advance(1499);
    assert.equal(prober.runs[0].killed, false);
    assert.equal(c.state.health!.log.length, 0);
    await clock.advance(1);
    assert.equal(prober.runs[0].killed, true);
    assert.deepEqual(c.state.health!.log.map((r) => [r.exitCode, r.output]), [[-1, 'Health check exceeded timeout (1.5s): partial']]);
    assert.equal(c.state.health!.status, 'unhealthy');
    await clock.advance(2500);
    assert.equal(c.state.health!.log[1].output, 'Health check exceeded timeout (1.5s)');
  });

  test('a probe that cannot start fails with the runtime\'s message', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000, retries: 1 });
    prober.script = [{ startError: 'OCI runtime exec failed: exec: "nope": executable file not found in $PATH' }];
    monitor.started(c);
    await clock.advance(1000);
    assert.deepEqual(c.state.health!.log.map((r) => [r.exitCode, r.output]), [[-1, 'OCI runtime exec failed: exec: "nope": executable file not found in $PATH']]);
    assert.equal(c.state.health!.status, 'unhealthy');
  });

  test('output is cut at 4096 bytes, with "..." after it', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000 });
    prober.script = [{ code: 0, out: 'x'.repeat(5000) }, { code: 0, out: 'y'.repeat(MAX_OUTPUT) }];
    monitor.started(c);
    await clock.advance(2000);
    assert.equal(c.state.health!.log[0].output, 'x'.repeat(4096) + '...');
    assert.equal(c.state.health!.log[1].output, 'y'.repeat(4096));
    const b = new LimitedBuffer();
    b.write(Buffer.from('a'.repeat(4000)));
    b.write(Buffer.from('b'.repeat(200)));
    assert.equal(b.toString(), 'a'.repeat(4000) + 'b'.repeat(96) + '...');
  });

  test('stopping kills a probe in flight, drops its result and says unhealthy; a restart starts over, keeping the log', async () => {
    const { clock, prober, monitor, c, events } = setup({ interval: 1000, timeout: 10_000 });
    prober.script = [{ code: 0 }, { hang: true }];
    monitor.started(c);
    await clock.advance(1000);
    assert.equal(c.state.health!.status, 'healthy');
    await clock.advance(1000);
    assert.equal(prober.runs.length, 2);
    c.state.status = 'exited';
    monitor.stopped(c);
    assert.equal(prober.runs[1].killed, true);
    assert.equal(monitor.watching(c.id), false);
    await clock.advance(60_000);
    assert.equal(prober.runs.length, 2);
    assert.equal(c.state.health!.status, 'unhealthy');
    assert.equal(c.state.health!.log.length, 1);
    // No event for the monitor's own stop (dockerd sends none either).
    assert.deepEqual(events, ['health_status: healthy web']);
    c.state.status = 'running';
    c.state.startedAt = new Date(clock.now()).toISOString();
    monitor.started(c);
    assert.deepEqual([c.state.health!.status, c.state.health!.failingStreak, c.state.health!.log.length], ['starting', 0, 1]);
    await clock.advance(1000);
    assert.equal(c.state.health!.status, 'healthy');
  });

  test('pause stops probing; unpause resumes it without starting over', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000 });
    monitor.started(c);
    await clock.advance(1000);
    c.state.status = 'paused';
    monitor.stopped(c);
    await clock.advance(5000);
    assert.equal(prober.runs.length, 1);
    assert.equal(c.state.health!.status, 'unhealthy');
    c.state.status = 'running';
    monitor.unpaused(c);
    assert.equal(c.state.health!.status, 'unhealthy');
    await clock.advance(1000);
    assert.equal(prober.runs.length, 2);
    assert.equal(c.state.health!.status, 'healthy');
  });

  test('restore: a running container resumes where its record left it; a stopped one is unhealthy', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000, retries: 1 });
    c.state.health = { status: 'healthy', failingStreak: 0, log: [{ start: 'a', end: 'b', exitCode: 0, output: '' }] };
    monitor.restored(c);
    assert.equal(c.state.health.status, 'healthy');
    prober.fallback = { code: 1 };
    await clock.advance(1000);
    assert.equal(prober.runs.length, 1);
    assert.equal(c.state.health.status, 'unhealthy');
    assert.equal(c.state.health.log.length, 2);

    const other = setup({ interval: 1000 });
    other.c.state.status = 'exited';
    other.c.state.health = { status: 'healthy', failingStreak: 0, log: [] };
    other.monitor.restored(other.c);
    assert.equal(other.c.state.health.status, 'unhealthy');
    await other.clock.advance(5000);
    assert.equal(other.prober.runs.length, 0);
  });

  test('shutdown stops every monitor and leaves the health as it is', async () => {
    const { clock, prober, monitor, c } = setup({ interval: 1000 });
    monitor.started(c);
    await clock.advance(1000);
    monitor.shutdown();
    await clock.advance(5000);
    assert.equal(prober.runs.length, 1);
    assert.equal(c.state.health!.status, 'healthy');
  });

  test('applyResult: moby\'s rules on one state', () => {
    const hc = resolveHealthcheck({ cmd: ['x'], interval: 0, timeout: 0, startPeriod: 10_000, startInterval: 0, retries: 2 });
    const h: HealthState = { status: 'starting', failingStreak: 0, log: [] };
    const r = (at: number, exitCode: number) => ({ start: new Date(at).toISOString(), end: new Date(at).toISOString(), exitCode, output: '' });
    assert.equal(applyResult(h, r(T0 + 9999, 1), hc, T0), undefined);
    assert.equal(h.failingStreak, 0);
    assert.equal(applyResult(h, r(T0 + 10_000, 1), hc, T0), undefined);
    assert.equal(h.failingStreak, 1);
    assert.equal(applyResult(h, r(T0 + 11_000, 1), hc, T0), 'unhealthy');
    assert.equal(applyResult(h, r(T0 + 12_000, 0), hc, T0), 'healthy');
  });
});

describe('Go durations', () => {
  test('formats as time.Duration.String()', () => {
    const cases: [number, string][] = [[0, '0s'], [1, '1ns'], [1500, '1.5µs'], [1_000_000, '1ms'], [1_500_000, '1.5ms'], [1e9, '1s'], [1.5e9, '1.5s'],
      [60e9, '1m0s'], [90e9, '1m30s'], [3600e9, '1h0m0s'], [3723.5e9, '1h2m3.5s'], [-2e9, '-2s']];
    for (const [ns, s] of cases) assert.equal(goDuration(ns), s, String(ns));
  });
  test('parses as time.ParseDuration', () => {
    assert.equal(parseGoDuration('1m30s'), 90e9);
    assert.equal(parseGoDuration('1.5h'), 5400e9);
    assert.equal(parseGoDuration('-2ms'), -2e6);
    assert.throws(() => parseGoDuration('5'), { message: 'time: missing unit in duration "5"' });
  });
});
