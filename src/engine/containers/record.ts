// A container as the engine keeps it: the spec it was made from, where it
// stands, and, untouched, whatever the front-end that made it wants to
// remember (the Docker API keeps the request it translated, for inspect).
import type { ContainerSpec } from './spec';

export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: Status;
  pid: number;
  exitCode: number;
  error: string;
  // ISO 8601; "" until it happens.
  startedAt: string;
  finishedAt: string;
  oomKilled: boolean;
  // A container with a healthcheck, once started (health.ts).
  health?: HealthState;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  // The last five probes, oldest first.
  log: HealthResult[];
}

export interface HealthResult {
  // ISO 8601.
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

export interface ContainerRecord {
  id: string;
  name: string; // with the leading "/"
  created: string;
  spec: ContainerSpec;
  state: ContainerState;
  // Restarts by its restart policy since it was last started by hand.
  restartCount: number;
  // Stopped or killed through the API (dockerd's HasBeenManuallyStopped):
  // its policy does not restart it (`unless-stopped`: not at daemon start
  // either); a start by hand clears it.
  manuallyStopped?: boolean;
  // While `restarting`: when the policy's pending start is due (ISO 8601),
  // so that a daemon stopped meanwhile keeps it.
  restartAt?: string;
  // The shim's pid, while the container runs.
  conmonPid: number;
  // Its cgroup below each hierarchy's root, set at start (stats read it).
  cgroup?: string;
  // Opaque to the engine: stored with the record and handed back as it was.
  meta?: unknown;
}

export function initialState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, error: '', startedAt: '', finishedAt: '', oomKilled: false };
}

export const isRunning = (s: ContainerState): boolean => s.status === 'running' || s.status === 'paused';

// The argv of a record, for lists.
export { argvOf } from './spec';
