// Healthchecks, as dockerd runs them (moby's daemon/health.go): while a
// container with a healthcheck runs, a probe command is run in it as an
// exec process now and then; its exit code (0 healthy, anything else a
// failure) moves the container's health between starting, healthy and
// unhealthy, and the last five results are kept in its state. The clock and
// the probe runner are handed in, so the rules are tested without real
// timers or processes; the daemon gives the wall clock and a prober over
// the exec service (exec sessions, exec events and all).
import { goDuration } from '../../util/duration';
import type { EventPublisher } from '../events/bus';
import type { ExecService } from './exec';
import type { ContainerRecord, HealthResult, HealthState, HealthStatus } from './record';
import type { HealthcheckSpec } from './spec';
import type { Clock } from '../../util/clock';

// dockerd's defaults (a zero in the config takes them) and limits.
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_PERIOD_MS = 0;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
// The longest output kept of one probe; more is cut, with "..." after it.
export const MAX_OUTPUT = 4096;
// Results kept.
export const MAX_LOG = 5;
// How long a probe may take to start before it counts as failed; its own
// timeout counts from when it runs.
export const START_TIMEOUT_MS = 30_000;

// One probe process.
export interface ProbeRun {
  // Settles once it runs; rejects when it could not be started (the
  // runtime's message is the result's output).
  started: Promise<void>;
  // Its exit code; rejects when none could be had.
  exit: Promise<number>;
  // SIGKILL; exit settles after.
  kill(): void;
}

export interface Prober {
  // Runs cmd in the running container c, as its user, with its env and
  // working directory; its stdout and stderr go to output.
  start(c: ContainerRecord, cmd: string[], output: (data: Buffer) => void): ProbeRun;
}

export interface HealthDeps {
  clock: Clock;
  prober: Prober;
  events: EventPublisher;
  // Keeps the record (its state's health) on disk; quietly.
  save(c: ContainerRecord): void;
}

// A healthcheck with dockerd's defaults in place of zeros.
export type ResolvedHealthcheck = HealthcheckSpec;

export function resolveHealthcheck(h: HealthcheckSpec): ResolvedHealthcheck {
  const or = (v: number, d: number) => (v > 0 ? v : d);
  return {
    cmd: h.cmd,
    interval: or(h.interval, DEFAULT_INTERVAL_MS),
    timeout: or(h.timeout, DEFAULT_TIMEOUT_MS),
    startPeriod: or(h.startPeriod, DEFAULT_START_PERIOD_MS),
    startInterval: or(h.startInterval, DEFAULT_START_INTERVAL_MS),
    retries: or(h.retries, DEFAULT_RETRIES),
  };
}

// The wait before the next probe (from the end of the last). Within the
// start period a container still starting is probed every start interval,
// and the first probe after the period comes when it ends rather than a
// whole interval later (moby's getInterval; where moby's waits out the
// rest of the period when that is shorter than the interval, skipping the
// start interval, this keeps the start interval, as the docs describe).
export function nextDelay(h: ResolvedHealthcheck, startedAt: number, now: number, status: HealthStatus): number {
  const elapsed = now - startedAt;
  if (elapsed >= h.startPeriod) return h.interval;
  const remaining = h.startPeriod - elapsed;
  return Math.min(status === 'starting' ? h.startInterval : h.interval, remaining);
}

// Folds a probe's result into the health state (moby's handleProbeResult):
// a success makes it healthy and ends the failing streak; a failure adds to
// the streak, except while starting within the start period, and the
// streak reaching the retries makes it unhealthy. Returns the new status
// when it changed.
export function applyResult(h: HealthState, r: HealthResult, hc: ResolvedHealthcheck, startedAt: number): HealthStatus | undefined {
  const before = h.status;
  h.log = [...h.log, r].slice(-MAX_LOG);
  if (r.exitCode === 0) {
    h.failingStreak = 0;
    h.status = 'healthy';
  } else {
    const inStartPeriod = h.status === 'starting' && Date.parse(r.start) - startedAt < hc.startPeriod;
    if (!inStartPeriod) {
      h.failingStreak++;
      if (h.failingStreak >= hc.retries) h.status = 'unhealthy';
    }
  }
  return h.status !== before ? h.status : undefined;
}

// Keeps the first MAX_OUTPUT bytes written; "..." marks that more came.
export class LimitedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '...' : '');
  }
}

interface Monitor {
  c: ContainerRecord;
  closed: boolean;
  // The timer of the next probe.
  cancel?: () => void;
  // The probe in flight.
  run?: ProbeRun;
}

export class HealthMonitor {
  private monitors = new Map<string, Monitor>();

  constructor(private d: HealthDeps) {}

  // The container has started (or restarted): its health starts over from
  // starting, keeping the log, and probing begins (moby's initHealthMonitor).
  started(c: ContainerRecord): void {
    if (!c.spec.healthcheck) return;
    this.close(c.id);
    const h = c.state.health;
    if (h) {
      h.status = 'starting';
      h.failingStreak = 0;
    } else {
      c.state.health = { status: 'starting', failingStreak: 0, log: [] };
    }
    this.open(c);
    this.d.save(c);
  }

  // The daemon has come back: a running container's probing resumes where
  // its record left it (the container did not restart); one not probed
  // (paused, stopped) is unhealthy, as dockerd shows a stopped monitor's.
  restored(c: ContainerRecord): void {
    if (!c.spec.healthcheck) return;
    if (c.state.status === 'running') {
      if (!c.state.health) this.started(c);
      else this.open(c);
      return;
    }
    if (c.state.health) c.state.health.status = 'unhealthy';
  }

  // Paused or exited: probing stops (a probe in flight is killed and its
  // result dropped), and the health says unhealthy, as dockerd's does.
  stopped(c: ContainerRecord): void {
    if (this.close(c.id) && c.state.health) c.state.health.status = 'unhealthy';
  }

  // Unpaused: probing resumes; the health stays as it is until a result.
  unpaused(c: ContainerRecord): void {
    if (c.spec.healthcheck && c.state.health && c.state.status === 'running') this.open(c);
  }

  removed(id: string): void {
    this.close(id);
  }

  // The daemon stops: no more probes; the containers' health stays as it
  // is (their probing resumes at the next start of the daemon).
  shutdown(): void {
    for (const m of this.monitors.values()) {
      m.closed = true;
      m.cancel?.();
    }
    this.monitors.clear();
  }

  // Whether the container is being probed.
  watching(id: string): boolean {
    return this.monitors.has(id);
  }

  private open(c: ContainerRecord): void {
    if (this.monitors.has(c.id)) return;
    const m: Monitor = { c, closed: false };
    this.monitors.set(c.id, m);
    this.schedule(m);
  }

  // True when a monitor was running.
  private close(id: string): boolean {
    const m = this.monitors.get(id);
    if (!m) return false;
    this.monitors.delete(id);
    m.closed = true;
    m.cancel?.();
    m.run?.kill();
    return true;
  }

  private schedule(m: Monitor): void {
    const hc = resolveHealthcheck(m.c.spec.healthcheck!);
    const startedAt = Date.parse(m.c.state.startedAt) || this.d.clock.now();
    const delay = nextDelay(hc, startedAt, this.d.clock.now(), m.c.state.health?.status ?? 'starting');
    m.cancel = this.d.clock.after(delay, () => {
      m.cancel = undefined;
      void this.probe(m, hc, startedAt);
    });
  }

  private async probe(m: Monitor, hc: ResolvedHealthcheck, startedAt: number): Promise<void> {
    if (m.closed) return;
    const start = this.d.clock.now();
    const { exitCode, output } = await this.runProbe(m, hc);
    const end = this.d.clock.now();
    const h = m.c.state.health;
    if (m.closed || !h) return;
    const changed = applyResult(h, { start: new Date(start).toISOString(), end: new Date(end).toISOString(), exitCode, output }, hc, startedAt);
    this.d.save(m.c);
    if (changed) {
      const c = m.c;
      this.d.events.publish('container', `health_status: ${changed}`, c.id, { ...c.spec.labels, image: c.spec.image.ref, name: c.name.slice(1) });
    }
    if (!m.closed) this.schedule(m);
  }

  // One run of the probe: its exit code and output, or -1 and why it
  // failed (not started, or killed at its timeout).
  private runProbe(m: Monitor, hc: ResolvedHealthcheck): Promise<{ exitCode: number; output: string }> {
    const out = new LimitedBuffer();
    return new Promise((resolve) => {
      let run: ProbeRun;
      try {
        run = this.d.prober.start(m.c, hc.cmd, (data) => out.write(data));
      } catch (err) {
        resolve({ exitCode: -1, output: (err as Error).message });
        return;
      }
      m.run = run;
      let settled = false;
      let timedOut = false;
      const finish = (r: { exitCode: number; output: string }) => {
        if (settled) return;
        settled = true;
        cancel();
        if (m.run === run) m.run = undefined;
        resolve(r);
      };
      let cancel = this.d.clock.after(START_TIMEOUT_MS, () => {
        run.kill();
        finish({ exitCode: -1, output: `timed out starting health check for container ${m.c.id}` });
      });
      run.started.then(
        () => {
          if (settled) return;
          cancel();
          cancel = this.d.clock.after(hc.timeout, () => {
            timedOut = true;
            run.kill();
            // Its end is waited for, so that dying probes do not pile up.
            void run.exit.catch(() => {}).then(() => {
              const said = out.toString();
              finish({ exitCode: -1, output: `Health check exceeded timeout (${goDuration(hc.timeout * 1e6)})${said ? `: ${said}` : ''}` });
            });
          });
        },
        (err) => finish({ exitCode: -1, output: (err as Error).message }),
      );
      run.exit.then(
        (code) => { if (!timedOut) finish({ exitCode: code, output: out.toString() }); },
        (err) => { if (!timedOut) finish({ exitCode: -1, output: (err as Error).message }); },
      );
    });
  }
}

// What the prober needs of the exec service.
export type ProbeExecs = Pick<ExecService, 'create' | 'start' | 'inspect' | 'kill' | 'remove'>;

// Probes as exec sessions (moby's cmdProbe): the container's user, env and
// working directory, no TTY, no stdin; stdout and stderr both kept; the
// exec_create, exec_start and exec_die events as for any exec. A finished
// probe's session is dropped once its code is read.
export class ExecProber implements Prober {
  constructor(private exec: ProbeExecs) {}

  start(c: ContainerRecord, cmd: string[], output: (data: Buffer) => void): ProbeRun {
    let id: string | undefined;
    let killed = false;
    let streamEnded!: () => void;
    const ended = new Promise<void>((r) => (streamEnded = r));
    const started = (async () => {
      id = await this.exec.create(c.id, { cmd, env: [], user: '', cwd: '', tty: false, privileged: false, stdin: false, stdout: true, stderr: true });
      await this.exec.start(id, { detach: false }, { out: (_stream, data) => void output(data), end: () => streamEnded() });
      if (killed) this.exec.kill(id);
    })();
    const exit = started.then(async () => {
      // The stream ends once the exit code is recorded (or the container has gone).
      await ended;
      let code: number | undefined;
      try {
        code = this.exec.inspect(id!).exitCode;
      } finally {
        this.exec.remove(id!);
      }
      if (code === undefined) throw new Error(`healthcheck for container ${c.id} has no exit code`);
      return code;
    });
    exit.catch(() => {});
    return {
      started,
      exit,
      kill: () => {
        killed = true;
        if (id) this.exec.kill(id);
      },
    };
  }
}
