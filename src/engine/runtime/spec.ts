// OCI runtime spec generation with Docker's defaults. Pure: no I/O, so it is
// unit-tested without root.

import type { OciResources, OciRlimit } from './resources';
import type { OciDevice } from './devices';
import type { OciSeccomp } from './seccomp';

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
  noNewPrivileges: boolean;
  rlimits?: OciRlimit[];
  oomScoreAdj?: number;
}

export interface OciSpec {
  ociVersion: string;
  annotations?: Record<string, string>;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: OciResources & { devices: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[] };
    maskedPaths: string[];
    readonlyPaths: string[];
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    devices?: OciDevice[];
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
  };
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  domainname?: string;
  tty?: boolean;
  // The terminal's size when the process starts (runc applies it when both are set).
  consoleSize?: { height: number; width: number };
  // A namespace of its own, the host's, or one to join by path
  // (/proc/<pid>/ns/net of another container).
  network: NsChoice;
  ipc?: NsChoice;
  pid?: NsChoice;
  uts?: NsChoice;
  // Bind-mounted over the container's own copies.
  files: { hosts: string; hostname: string; resolvConf: string };
  cgroupsPath: string;
  readonlyRootfs?: boolean;
  // linux.seccomp; null or absent means no filter (seccomp=unconfined).
  seccomp?: OciSeccomp | null;
  annotations?: Record<string, string>;
  // Replace Docker's defaults when given.
  maskedPaths?: string[];
  readonlyPaths?: string[];
  // More mounts, after the defaults (volumes, binds).
  mounts?: OciMount[];
  // Limits (runtime/resources.ts): cgroup resources, rlimits, the /dev/shm
  // size option ("size=65536k" when unset), the OOM score, and whether the
  // container keeps the host's cgroup namespace.
  resources?: OciResources;
  rlimits?: OciRlimit[];
  shmSize?: string;
  oomScoreAdj?: number;
  cgroupns?: 'private' | 'host';
  // The bounding set (Docker's 14 when absent).
  capabilities?: string[];
  noNewPrivileges?: boolean;
  sysctl?: Record<string, string>;
  // Nodes runc makes in /dev, and device cgroup rules after the defaults.
  devices?: OciDevice[];
  deviceRules?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  // /sys and the cgroup tree writable, every device allowed, nothing masked.
  privileged?: boolean;
  // The host's init binary: bound read-only at /sbin/docker-init, which
  // runs the args (dockerd's `--init`).
  init?: string;
  // A user namespace of its own: container ids 0..size-1 are host ids
  // uid.., gid.. (userns-remap). With path: another container's, joined
  // (its network namespace, joined too, is owned by it).
  userns?: { uid: number; gid: number; size: number; path?: string };
}

export const INIT_PATH = '/sbin/docker-init';

// 'none' is a private network namespace with loopback only.
export type NsChoice = 'private' | 'none' | 'host' | { path: string };

// The linux.namespaces entry for a choice; none for the host's.
function namespace(type: string, c: NsChoice | undefined): { type: string; path?: string }[] {
  if (c === 'host') return [];
  if (c && typeof c === 'object') return [{ type, path: c.path }];
  return [{ type }];
}

// Docker's default device cgroup: deny all, then the usual character devices.
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // pts
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse stays off
];

export function generateSpec(input: SpecInput): OciSpec {
  // runc refuses a hostname (or domain name) without a UTS namespace of the container's own.
  const ownUts = input.uts === undefined || input.uts === 'private' || input.uts === 'none';
  const namespaces = [
    ...(input.userns ? [input.userns.path ? { type: 'user', path: input.userns.path } : { type: 'user' }] : []),
    ...namespace('pid', input.pid), ...namespace('ipc', input.ipc), ...namespace('uts', input.uts),
    { type: 'mount' }, ...(input.cgroupns === 'host' ? [] : [{ type: 'cgroup' }]), ...namespace('network', input.network),
  ];
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    // In a user namespace sysfs can only be mounted in a network namespace
    // that namespace owns: one made for it by the runtime. One made before
    // (bridge networks) or the host's gets the host's /sys bound instead.
    input.userns && input.network !== 'private' && input.network !== 'none' && !input.userns.path
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', input.privileged ? 'rw' : 'ro'] },
    // Not remounted read-only in a user namespace, as dockerd (the kernel
    // refuses it there); its files are the host root's all the same.
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [input.privileged || input.userns ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', input.shmSize ?? 'size=65536k'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: input.files.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.files.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.files.hosts, options: ['rbind', 'rprivate'] },
    // Before the container's own mounts, as dockerd puts it.
    ...(input.init ? [{ destination: INIT_PATH, type: 'bind', source: input.init, options: ['bind', 'ro'] }] : []),
    ...(input.mounts ?? []),
  ];
  return {
    ociVersion: '1.0.2',
    ...(input.annotations && Object.keys(input.annotations).length ? { annotations: { ...input.annotations } } : {}),
    process: Object.assign(processSpec({
      args: input.init ? [INIT_PATH, '--', ...input.args] : input.args,
      env: input.env,
      cwd: input.cwd,
      user: input.user,
      tty: !!input.tty,
      consoleSize: input.consoleSize,
      capabilities: input.capabilities ?? DEFAULT_CAPS,
      noNewPrivileges: input.noNewPrivileges,
    }), processLimits(input)),
    root: { path: input.rootfs, readonly: !!input.readonlyRootfs },
    ...(ownUts ? { hostname: input.hostname } : {}),
    mounts,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: { ...input.resources, devices: input.privileged ? [{ allow: true, access: 'rwm' }] : [...DEVICE_RULES.map((r) => ({ ...r })), ...(input.deviceRules ?? [])] },
      // runc 1.1 has no "domainname"; the UTS sysctl sets it.
      ...(sysctl(ownUts ? input.domainname : undefined, input.sysctl)),
      maskedPaths: input.privileged ? [] : [...(input.maskedPaths ?? MASKED_PATHS)],
      readonlyPaths: input.privileged ? [] : [...(input.readonlyPaths ?? READONLY_PATHS)],
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
      ...(input.devices?.length ? { devices: input.devices.map((d) => ({ ...d })) } : {}),
      ...(input.userns ? {
        uidMappings: [{ containerID: 0, hostID: input.userns.uid, size: input.userns.size }],
        gidMappings: [{ containerID: 0, hostID: input.userns.gid, size: input.userns.size }],
      } : {}),
    },
  };
}

// The container process's rlimits and OOM score, when set.
function processLimits(input: SpecInput): Partial<OciProcess> {
  return {
    ...(input.rlimits?.length ? { rlimits: input.rlimits } : {}),
    ...(input.oomScoreAdj ? { oomScoreAdj: input.oomScoreAdj } : {}),
  };
}

function sysctl(domainname: string | undefined, extra: Record<string, string> | undefined): { sysctl?: Record<string, string> } {
  const out = { ...(domainname ? { 'kernel.domainname': domainname } : {}), ...(extra ?? {}) };
  return Object.keys(out).length ? { sysctl: out } : {};
}

// Container env: the image's, overridden by the container's, plus the
// defaults Docker adds (PATH, HOSTNAME, HOME).
export function buildEnv(imageEnv: string[], containerEnv: string[], hostname: string, home: string, tty = false): string[] {
  const order: string[] = [];
  const vals = new Map<string, string>();
  const set = (kv: string) => {
    const i = kv.indexOf('=');
    const k = i < 0 ? kv : kv.slice(0, i);
    if (!vals.has(k)) order.push(k);
    vals.set(k, kv);
  };
  set(`PATH=${DEFAULT_PATH}`);
  set(`HOSTNAME=${hostname}`);
  // Docker's place for it: after HOSTNAME, before (and overridden by) the env.
  if (tty) set('TERM=xterm');
  for (const e of imageEnv) set(e);
  for (const e of containerEnv) if (e.includes('=')) set(e);
  if (!vals.has('HOME')) set(`HOME=${home}`);
  return order.map((k) => vals.get(k)!);
}

// A process as the runtime runs it: a container's first, or an exec
// session's (`runtime exec --process`, which joins the container's
// namespaces, cgroup and seccomp filter; the user, env, cwd and
// capabilities are the session's). Docker gives a non-root user no
// effective or permitted capabilities.
export function processSpec(input: {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  consoleSize?: { height: number; width: number };
  capabilities: string[];
  noNewPrivileges?: boolean;
}): OciProcess {
  const root = input.user.uid === 0;
  return {
    terminal: input.tty,
    ...(input.tty && input.consoleSize ? { consoleSize: { ...input.consoleSize } } : {}),
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: {
      bounding: [...input.capabilities],
      effective: root ? [...input.capabilities] : [],
      permitted: root ? [...input.capabilities] : [],
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: !!input.noNewPrivileges,
  };
}

// Capability names by bit number, as in linux/capability.h.
export const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

// The capabilities of a mask such as /proc/self/status's CapBnd ("000001fffeffffff").
export function capabilitiesOfMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim() || '0'}`);
  return CAP_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n).map((n) => `CAP_${n}`);
}

// Docker's exec env: the container's, with each of the session's entries
// replacing or adding a variable, and a bare NAME removing it.
export function mergeExecEnv(base: string[], extra: string[]): string[] {
  const key = (kv: string) => (kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv);
  let out = [...base];
  for (const e of extra) {
    const k = key(e);
    const i = out.findIndex((x) => key(x) === k);
    if (!e.includes('=')) {
      out = out.filter((x) => key(x) !== k);
    } else if (i >= 0) {
      out[i] = e;
    } else {
      out.push(e);
    }
  }
  return out;
}
