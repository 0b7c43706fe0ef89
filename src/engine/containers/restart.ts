// Restart policies: whether a container that exited starts again, and after
// how long, by the rules of dockerd's restart manager (moby's
// restartmanager and daemon/monitor.go). The decision is pure; the timers of
// pending restarts go through an injected Clock, so tests need no real time.
// The lifecycle (service.ts) keeps the state: the policy in the spec, the
// count and the "stopped by hand" flag in the record, the back-off in memory.
import type { Clock } from '../../util/clock';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  name: RestartPolicyName;
  // on-failure only: restarts allowed in a row; 0 (or none) is no limit.
  maxRetries?: number;
}

// dockerd's back-off: 100 ms, doubled at each restart up to a minute, and
// back to 100 ms once the container has run for 10 s.
export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

export const restartsAtAll = (p: RestartPolicy | undefined): boolean => !!p && p.name !== 'no';

export interface ExitFacts {
  exitCode: number;
  // Stopped or killed through the API since its last start (persisted).
  manuallyStopped: boolean;
  // Policy restarts since the last start by hand.
  restartCount: number;
}

// Whether the policy starts the container again after this exit (moby's
// ShouldRestart): `always` whatever happened; `unless-stopped` unless it was
// stopped by hand; `on-failure` after a non-zero exit, within its retries.
export function shouldRestart(policy: RestartPolicy | undefined, f: ExitFacts): boolean {
  switch (policy?.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !f.manuallyStopped;
    case 'on-failure': {
      const max = policy.maxRetries ?? 0;
      return f.exitCode !== 0 && (max === 0 || f.restartCount < max);
    }
    default:
      return false;
  }
}

// The next delay: the first is 100 ms, each next one double the last, at
// most a minute; a run of 10 s or more starts over.
export function nextBackoff(lastMs: number, ranMs: number): number {
  const last = ranMs >= BACKOFF_RESET_AFTER_MS ? 0 : lastMs;
  return last <= 0 ? BACKOFF_FIRST_MS : Math.min(last * 2, BACKOFF_MAX_MS);
}

export interface RestartDecision {
  // Undefined: the container stays exited.
  delayMs?: number;
  // The back-off to remember (moby moves it on at every exit).
  backoffMs: number;
}

// One exit: `canceled` is a restart called off by a signal meant to end the
// container (dockerd's ExitOnNext), or the daemon going away.
export function decide(policy: RestartPolicy | undefined, f: ExitFacts & { ranMs: number; lastBackoffMs: number; canceled: boolean }): RestartDecision {
  if (!restartsAtAll(policy)) return { backoffMs: 0 };
  const backoffMs = nextBackoff(f.lastBackoffMs, f.ranMs);
  if (f.canceled || !shouldRestart(policy, f)) return { backoffMs };
  return { delayMs: backoffMs, backoffMs };
}


// Pending restarts by container id: at most one each.
export class PendingRestarts {
  private timers = new Map<string, () => void>();

  constructor(readonly clock: Clock) {}

  schedule(id: string, ms: number, fn: () => void): void {
    this.cancel(id);
    const cancel = this.clock.after(Math.max(0, ms), () => {
      this.timers.delete(id);
      fn();
    });
    this.timers.set(id, cancel);
  }

  // True when one was pending.
  cancel(id: string): boolean {
    const cancel = this.timers.get(id);
    if (!cancel) return false;
    this.timers.delete(id);
    cancel();
    return true;
  }

  cancelAll(): void {
    for (const id of [...this.timers.keys()]) this.cancel(id);
  }

  has(id: string): boolean {
    return this.timers.has(id);
  }
}
