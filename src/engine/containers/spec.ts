// The engine's own container spec: what to run and how, in the engine's
// words. Every front-end translates into it (the Docker API in src/server
// today, a CRI server later), the way podman's specgen sits between its APIs
// and the OCI spec; only the runtime side turns it into an OCI spec. Fields
// are added here when the engine applies them, never before, so a front-end
// cannot hand over something that is then ignored.

import type { LogSettings } from '../logs/settings';

// A namespace is the container's own, the host's, or another container's
// (pods: several containers in one network, IPC and PID namespace).
export type Namespace = { mode: 'private' } | { mode: 'host' } | { mode: 'container'; container: string };

export interface NetworkSpec {
  // 'none': a namespace with loopback only; 'host': the host's stack;
  // 'container': another container's namespace (and its hosts/resolv.conf).
  mode: 'none' | 'host' | 'container';
  container?: string;
}

export interface ProcessSpec {
  // The image's entrypoint and command after the request's overrides; the
  // process runs entrypoint ++ cmd. Kept apart because commit records them.
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  // "" is the image's default, "/" when it has none.
  cwd: string;
  // "name|uid[:group|gid]", resolved against the container's /etc/passwd at start.
  user: string;
  terminal: boolean;
  // The terminal's size at start (rows, columns); a TTY only.
  consoleSize?: { height: number; width: number };
  // Keep stdin open for attach; close it after the first attach ends.
  stdin: boolean;
  stdinOnce: boolean;
}

// A mount the container asks for; the volumes subsystem resolves it.
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string;
  target: string;
  readonly: boolean;
}

// Docker's default allowlist, or none at all. (Custom profiles: not yet.)
export type SeccompSpec = { mode: 'default' } | { mode: 'unconfined' };

export interface SecuritySpec {
  readonlyRootfs: boolean;
  seccomp: SeccompSpec;
  // Replace the default masked and read-only /proc and /sys paths when set.
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface StopSpec {
  signal?: string; // e.g. "SIGTERM", "15"; the runtime default is SIGTERM
  timeout?: number; // seconds before SIGKILL; the default is 10
}

export interface ContainerSpec {
  image: { id: string; ref: string };
  process: ProcessSpec;
  // "" means the first 12 characters of the container id (the host's name
  // under host networking).
  hostname: string;
  domainname: string;
  labels: Record<string, string>;
  // Handed to the OCI runtime as spec annotations.
  annotations: Record<string, string>;
  network: NetworkSpec;
  ipc: Namespace;
  pid: Namespace;
  uts: Namespace;
  mounts: MountSpec[];
  security: SecuritySpec;
  stop: StopSpec;
  // Remove the container once it has exited.
  autoRemove: boolean;
  // An OCI runtime name the daemon knows (runc, crun, …).
  runtime: string;
  // The log driver and its rotation; a container from before the drivers
  // has none (conmon's k8s-file).
  log?: LogSettings;
}

// Fills what a front-end may leave out.
export function withDefaults(s: Partial<ContainerSpec> & Pick<ContainerSpec, 'image' | 'process' | 'runtime'>): ContainerSpec {
  return {
    hostname: '',
    domainname: '',
    labels: {},
    annotations: {},
    network: { mode: 'none' },
    ipc: { mode: 'private' },
    pid: { mode: 'private' },
    uts: { mode: 'private' },
    mounts: [],
    security: { readonlyRootfs: false, seccomp: { mode: 'default' } },
    stop: {},
    autoRemove: false,
    ...s,
  };
}

// The argv the container runs.
export function argvOf(p: ProcessSpec): string[] {
  return [...(p.entrypoint ?? []), ...(p.cmd ?? [])];
}
