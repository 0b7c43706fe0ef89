// The engine's limits as the OCI runtime takes them: linux.resources
// (memory, cpu, pids, blockIO), process.rlimits, and the size of the
// /dev/shm tmpfs. Pure: block devices' numbers come from the caller.
import { RLIMITS, type DeviceNumber, type LimitsSpec } from '../containers/limits';

export interface OciThrottle {
  major: number;
  minor: number;
  rate: number;
}

export interface OciResources {
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    weightDevice?: { major: number; minor: number; weight: number }[];
    throttleReadBpsDevice?: OciThrottle[];
    throttleWriteBpsDevice?: OciThrottle[];
    throttleReadIOPSDevice?: OciThrottle[];
    throttleWriteIOPSDevice?: OciThrottle[];
  };
}

export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

// Docker's default /dev/shm: 64 MiB.
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

const defined = <T extends object>(o: T): T | undefined => {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
};

export function ociResources(l: LimitsSpec, device: (path: string) => DeviceNumber): OciResources {
  const throttle = (list: { path: string; rate: number }[] | undefined) => (list?.length ? list.map((d) => ({ ...device(d.path), rate: d.rate })) : undefined);
  const memory = defined({
    limit: l.memory,
    reservation: l.memoryReservation,
    swap: l.memorySwap,
    swappiness: l.memorySwappiness,
    disableOOMKiller: l.oomKillDisable || undefined,
  });
  const cpu = defined({ shares: l.cpuShares, quota: l.cpuQuota, period: l.cpuPeriod, cpus: l.cpusetCpus || undefined, mems: l.cpusetMems || undefined });
  const blockIO = defined({
    weight: l.blkioWeight,
    weightDevice: l.blkioWeightDevices?.length ? l.blkioWeightDevices.map((d) => ({ ...device(d.path), weight: d.weight })) : undefined,
    throttleReadBpsDevice: throttle(l.readBps),
    throttleWriteBpsDevice: throttle(l.writeBps),
    throttleReadIOPSDevice: throttle(l.readIops),
    throttleWriteIOPSDevice: throttle(l.writeIops),
  });
  return defined({ memory, cpu, pids: l.pids !== undefined ? { limit: l.pids } : undefined, blockIO }) ?? {};
}

// What `runtime update` takes to change a running container's limits: every
// cgroup setting it has, with "unset" spelled so the runtime clears it
// (runc leaves a 0 untouched; -1 is "max" for memory, swap, quota and pids).
export function ociUpdate(l: LimitsSpec, device: (path: string) => DeviceNumber): OciResources {
  const r = ociResources(l, device);
  return {
    ...r,
    memory: { limit: -1, swap: -1, reservation: -1, ...r.memory },
    cpu: { quota: -1, ...r.cpu },
    pids: r.pids ?? { limit: -1 },
  };
}

export function ociRlimits(l: LimitsSpec): OciRlimit[] | undefined {
  if (!l.ulimits?.length) return undefined;
  return l.ulimits.map((u) => ({ type: RLIMITS[u.name] ?? `RLIMIT_${u.name.toUpperCase()}`, hard: u.hard, soft: u.soft }));
}

// A spec as JSON; an rlimit of -1 (unlimited) is RLIM_INFINITY, the uint64
// the runtime reads, which a JS number cannot spell.
export function ociJSON(spec: object): string {
  return JSON.stringify(spec, (k, v) => (k === 'rlimits' && Array.isArray(v) ? v.map((r: OciRlimit) => ({ ...r, hard: big(r.hard), soft: big(r.soft) })) : v))
    .replace(/"\\u0000(\d+)"/g, '$1');
}

const big = (n: number): number | string => (n < 0 ? '\u000018446744073709551615' : n);

// The /dev/shm mount's size option, in KiB as Docker writes it.
export function shmSizeOption(l: LimitsSpec): string {
  return `size=${Math.floor((l.shmSize || DEFAULT_SHM_SIZE) / 1024)}k`;
}
