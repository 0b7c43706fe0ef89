// The engine's own container spec: what to run and how, in the engine's
// words. Every front-end translates into it (the Docker API in src/server
// today, a CRI server later), the way podman's specgen sits between its APIs
// and the OCI spec; only the runtime side turns it into an OCI spec. Fields
// are added here when the engine applies them, never before, so a front-end
// cannot hand over something that is then ignored.

import type { LimitsSpec } from './limits';
import type { LogSettings } from '../logs/settings';
import type { RestartPolicy } from './restart';

// A namespace is the container's own, the host's, or another container's
// (pods: several containers in one network, IPC and PID namespace).
export type Namespace = { mode: 'private' } | { mode: 'host' } | { mode: 'container'; container: string };

export interface NetworkSpec {
  // 'none': a namespace with loopback only; 'host': the host's stack;
  // 'container': another container's namespace (and its hosts/resolv.conf);
  // 'bridge': bridge networks (`endpoints`, the first one the primary).
  mode: 'none' | 'host' | 'container' | 'bridge';
  container?: string;
  endpoints?: NetworkEndpointSpec[];
  // Published on the primary network; hostPort 0 is an ephemeral port.
  ports?: PortSpec[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  // "name" → an address, or "host-gateway".
  extraHosts?: { name: string; ip: string }[];
  // Another container's address under an alias in /etc/hosts.
  links?: { container: string; alias: string }[];
}

export interface NetworkEndpointSpec {
  network: string; // a network's name or id
  ip?: string;
  mac?: string;
  aliases: string[];
}

export interface PortSpec {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP: string; // "" = every address
  hostPort: number;
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
  // bind: an absolute host path; volume: the volume's name ("" for a new
  // anonymous one: create names it and keeps the name here); tmpfs: "".
  source: string;
  target: string;
  readonly: boolean;
  // An anonymous volume: removed with the container when asked (rm -v, --rm).
  anonymous?: boolean;
  // How the client spelled the mode (`-v a:/b:ro,z`), shown by inspect.
  mode?: string;
  // bind: a missing host path is made as a directory (`-v`), or is an error (`--mount`).
  createHostPath?: boolean;
  propagation?: 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';
  nonRecursive?: boolean;
  // volume: no copy-up of the image's content; the driver, its options
  // and labels for a volume made by this mount.
  noCopy?: boolean;
  driver?: string;
  driverOptions?: Record<string, string>;
  labels?: Record<string, string>;
  // tmpfs: mount options after Docker's defaults (size=, mode=, exec, …).
  tmpfsOptions?: string[];
}

// `--volumes-from c[:ro|:rw]`: the mounts of another container; without a
// mode each keeps its own.
export interface VolumesFromSpec {
  container: string;
  readonly?: boolean;
}

// Docker's default allowlist, none at all, or a profile in Docker's JSON
// format (names, actions, args, includes/excludes by caps, arch, kernel).
export type SeccompSpec = { mode: 'default' } | { mode: 'unconfined' } | { mode: 'custom'; profile: string };

// A host device made in the container (--device host[:container[:rwm]]).
export interface DeviceSpec {
  hostPath: string;
  containerPath: string;
  // Cgroup access: some of "rwm".
  permissions: string;
}

export interface SecuritySpec {
  readonlyRootfs: boolean;
  seccomp: SeccompSpec;
  // Replace the default masked and read-only /proc and /sys paths when set.
  maskedPaths?: string[];
  readonlyPaths?: string[];
  // Capabilities added to and dropped from Docker's default 14, as
  // "CAP_X" or "ALL" (applied drop first, then add, as Docker does).
  capAdd?: string[];
  capDrop?: string[];
  // Every capability the daemon holds, every host device, no seccomp, no
  // masked or read-only paths, /sys writable, all devices allowed.
  privileged?: boolean;
  noNewPrivileges?: boolean;
  // Supplementary groups: names resolved in the container's /etc/group, or gids.
  groupAdd?: string[];
  // Namespaced sysctls only (net.*, kernel.shm*/msg*/sem, fs.mqueue.*).
  sysctls?: Record<string, string>;
  devices?: DeviceSpec[];
  // Device cgroup rules, "c 1:3 rwm", "b *:* m".
  deviceCgroupRules?: string[];
}

export interface StopSpec {
  signal?: string; // e.g. "SIGTERM", "15"; the runtime default is SIGTERM
  timeout?: number; // seconds before SIGKILL; the default is 10
}

// A healthcheck (health.ts runs it): a command run in the container now
// and then, its exit code saying whether the container is healthy.
export interface HealthcheckSpec {
  // The probe's argv: CMD's arguments, or the shell and CMD-SHELL's command.
  cmd: string[];
  // Milliseconds (0: health.ts's default): between probes, one probe's
  // longest run, the start period and the interval within it.
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  // Failures in a row that make it unhealthy (0: the default, 3).
  retries: number;
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
  // Resolved into mounts at create (optional: records made before volumes).
  volumesFrom?: VolumesFromSpec[];
  security: SecuritySpec;
  stop: StopSpec;
  // An init as pid 1 (tini, bind-mounted at /sbin/docker-init) that runs
  // the process, forwards signals to it and reaps orphans; unset is the
  // daemon's default. Only with a pid namespace of the container's own.
  init?: boolean;
  // 'host': no user namespace even when the daemon remaps (--userns=host).
  userns?: 'host';
  // Remove the container once it has exited.
  autoRemove: boolean;
  // What happens when it exits (restart.ts); none is `no`.
  restart?: RestartPolicy;
  // An OCI runtime name the daemon knows (runc, crun, …).
  runtime: string;
  // Resource limits (limits.ts); none when absent.
  limits?: LimitsSpec;
  // The log driver and its rotation; a container from before the drivers
  // has none (conmon's k8s-file).
  log?: LogSettings;
  // None: no healthcheck (or NONE).
  healthcheck?: HealthcheckSpec;
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
