// A container's resource limits in the engine's words: what its cgroup,
// its rlimits and its /dev/shm get. Front-ends translate their own shapes
// into it (the Docker API's HostConfig in server/containers/resources.ts);
// runtime/resources.ts turns it into the OCI spec's linux.resources. Here:
// the checks that depend on the host (what its cgroups offer, its hard
// rlimits, the daemon's capabilities), made at create and update.
import * as fs from 'node:fs';
import { invalidArgument } from '../../errors';
import type { CgroupFeatures } from '../runtime/cgroups';

export interface DeviceRate {
  // A block device on the host, e.g. /dev/vda; its major:minor is read at start.
  path: string;
  rate: number;
}

export interface Ulimit {
  // The rlimit's short name, as ulimit and Docker spell it: nofile, nproc, …
  name: string;
  soft: number;
  hard: number;
}

export interface LimitsSpec {
  // Bytes. memorySwap is memory plus swap; -1 is unlimited swap.
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  // Relative weight (cpu.shares, cpu.weight on v2).
  cpuShares?: number;
  // CFS bandwidth in microseconds; a quota of -1 is none.
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  // The most tasks; -1 is unlimited.
  pids?: number;
  blkioWeight?: number;
  blkioWeightDevices?: { path: string; weight: number }[];
  readBps?: DeviceRate[];
  writeBps?: DeviceRate[];
  readIops?: DeviceRate[];
  writeIops?: DeviceRate[];
  ulimits?: Ulimit[];
  // Bytes of the /dev/shm tmpfs (64 MiB when unset).
  shmSize?: number;
  // The cgroup the container's goes under (the daemon's default when unset).
  cgroupParent?: string;
  // The container's own cgroup namespace (the default) or the host's.
  cgroupns?: 'private' | 'host';
  oomScoreAdj?: number;
}

// What the host offers, probed once by the daemon.
export interface HostLimits {
  cgroups: CgroupFeatures;
  // The daemon's hard limit of each rlimit ("nofile" → 20000); a container
  // cannot go above it without CAP_SYS_RESOURCE.
  hardLimits: Record<string, number>;
  // Whether the daemon holds CAP_SYS_RESOURCE (raising rlimits, lowering oom_score_adj).
  sysResource: boolean;
}

// Docker's --ulimit names and the kernel's RLIMIT_ names.
export const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
  as: 'RLIMIT_AS',
};

// /proc/self/limits' row names, by Docker's names.
const PROC_LIMIT_ROWS: Record<string, string> = {
  cpu: 'Max cpu time', fsize: 'Max file size', data: 'Max data size', stack: 'Max stack size', core: 'Max core file size',
  rss: 'Max resident set', nproc: 'Max processes', nofile: 'Max open files', memlock: 'Max locked memory', as: 'Max address space',
  locks: 'Max file locks', sigpending: 'Max pending signals', msgqueue: 'Max msgqueue size', nice: 'Max nice priority',
  rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
};

// /proc/self/limits → hard limits by Docker's names ("unlimited" left out).
export function parseProcLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, row] of Object.entries(PROC_LIMIT_ROWS)) {
    const line = text.split('\n').find((l) => l.startsWith(row));
    const f = line?.slice(row.length).trim().split(/\s+/);
    if (f && /^\d+$/.test(f[1] ?? '')) out[name] = Number(f[1]);
  }
  return out;
}

// Bit 24 of CapEff in /proc/self/status.
export function hasSysResource(status: string): boolean {
  const m = status.match(/^CapEff:\s*([0-9a-f]+)/m);
  return !!m && ((BigInt(`0x${m[1]}`) >> 24n) & 1n) === 1n;
}

export function readHostLimits(cgroups: CgroupFeatures, proc = '/proc'): HostLimits {
  const read = (f: string) => {
    try {
      return fs.readFileSync(`${proc}/self/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  return { cgroups, hardLimits: parseProcLimits(read('limits')), sysResource: hasSysResource(read('status')) };
}

// Checks the limits against the host and drops those its cgroups cannot
// apply, with dockerd's warnings (it discards them the same way); throws
// InvalidArgument for what cannot be done here at all.
export function fitLimits(l: LimitsSpec, host: HostLimits): { limits: LimitsSpec; warnings: string[] } {
  const out: LimitsSpec = { ...l };
  const warnings: string[] = [];
  const f = host.cgroups;
  const drop = (keys: (keyof LimitsSpec)[], warning: string | undefined) => {
    if (keys.every((k) => out[k] === undefined)) return;
    for (const k of keys) delete out[k];
    if (warning) warnings.push(warning);
  };
  if (!f.memory) drop(['memory', 'memorySwap'], 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (out.memory !== undefined && out.memorySwap !== undefined && out.memorySwap !== -1 && !f.swap) {
    drop(['memorySwap'], 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  }
  if (!f.swappiness) drop(['memorySwappiness'], 'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
  if (!f.memoryReservation) drop(['memoryReservation'], 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (!f.oomKillDisable) drop(['oomKillDisable'], out.oomKillDisable ? 'Your kernel does not support OomKillDisable. OomKillDisable discarded.' : undefined);
  if (out.oomKillDisable && !out.memory) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  if (!f.pids) drop(['pids'], out.pids !== undefined && out.pids > 0 ? 'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.' : undefined);
  if (!f.cpuShares) drop(['cpuShares'], 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (!f.cpuCfs) drop(['cpuPeriod', 'cpuQuota'], 'Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
  if (!f.cpuset) drop(['cpusetCpus', 'cpusetMems'], 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (!f.blkioWeight) drop(['blkioWeight'], 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  if (!f.blkioWeightDevice && out.blkioWeightDevices?.length) drop(['blkioWeightDevices'], 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
  const throttles: [keyof LimitsSpec, string][] = [
    ['readBps', 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['writeBps', 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['readIops', 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['writeIops', 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ];
  for (const [k, warning] of throttles) {
    if (!f.blkioThrottle && (out[k] as DeviceRate[] | undefined)?.length) drop([k], warning);
  }

  // Without CAP_SYS_RESOURCE a hard limit cannot be raised; runc would fail
  // the start with "operation not permitted", long after create said yes.
  for (const u of out.ulimits ?? []) {
    const max = host.hardLimits[u.name];
    if (!host.sysResource && max !== undefined && (u.hard < 0 || u.hard > max)) {
      throw invalidArgument(`ulimit ${u.name}=${u.soft}:${u.hard}: the hard limit ${u.hard < 0 ? 'unlimited' : u.hard} is above this host's ${max}, and berthd lacks CAP_SYS_RESOURCE to raise it`);
    }
  }
  // Lowering oom_score_adj below the daemon's (0) needs CAP_SYS_RESOURCE too.
  if (!host.sysResource && out.oomScoreAdj !== undefined && out.oomScoreAdj < 0) {
    throw invalidArgument(`oom score adj ${out.oomScoreAdj}: a negative value needs CAP_SYS_RESOURCE, which berthd lacks on this host`);
  }
  for (const k of ['blkioWeightDevices', 'readBps', 'writeBps', 'readIops', 'writeIops'] as const) {
    for (const d of (out[k] ?? []) as { path: string }[]) blockDevice(d.path);
  }
  return { limits: out, warnings };
}

export interface DeviceNumber {
  major: number;
  minor: number;
}

// The major:minor of a block device on the host (dockerd stats the path
// too); 400 for a path that is missing or no block device.
export function blockDevice(p: string, stat: (p: string) => fs.Stats = fs.statSync): DeviceNumber {
  let st: fs.Stats;
  try {
    st = stat(p);
  } catch (err) {
    throw invalidArgument(`stat ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!st.isBlockDevice()) throw invalidArgument(`${p} is not a block device`);
  return deviceNumber(st.rdev);
}

// glibc's gnu_dev_major/minor.
export function deviceNumber(rdev: number): DeviceNumber {
  const dev = BigInt(rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}
