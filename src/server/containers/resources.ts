// Docker's resource fields (HostConfig's Resources, and an update's
// UpdateConfig) ⇄ the engine's LimitsSpec, with dockerd's checks and
// messages (daemon_unix.go's verifyPlatformContainerResources, the update's
// merge rules in container_unix.go). What depends on the host's cgroups is
// checked by the engine, which drops it with dockerd's warnings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { invalidArgument } from '../../errors';
import { RLIMITS, type DeviceRate, type LimitsSpec } from '../../engine/containers/limits';
import { DEFAULT_SHM_SIZE } from '../../engine/runtime/resources';
import { checkUpdateBody } from '../compat/update-fields';

// Not a kernel limit: dockerd's floor, so a container can start at all.
const MIN_MEMORY = 6 * 1024 * 1024;
// parseUintList's cap (CVE-2018-20699: a huge range must not be expanded).
const MAX_CPUS = 8192;

type Resources = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

// Online CPUs and memory nodes, as cpuset lists ("0-1").
export function onlineCpus(): string {
  const n = os.cpus().length;
  return n <= 1 ? '0' : `0-${n - 1}`;
}

export function onlineMems(): string {
  try {
    return fs.readFileSync('/sys/devices/system/node/online', 'utf8').trim() || '0';
  } catch {
    return '0';
  }
}

// A cpuset list ("0-2,4") as the set it names; null when malformed.
export function parseCpuList(v: string, max = MAX_CPUS): Set<number> | 'too-big' | null {
  const out = new Set<number>();
  if (v === '') return out;
  for (const r of v.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    if (hi > max) return 'too-big';
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function checkCpuset(v: string, what: 'cpus' | 'mems', available: string): void {
  if (!v) return;
  const want = parseCpuList(v);
  if (want === null) throw invalidArgument(`Invalid value ${v} for cpuset ${what}: invalid format: ${v}`);
  if (want === 'too-big') throw invalidArgument(`Invalid value ${v} for cpuset ${what}: value of out range, maximum is ${MAX_CPUS}`);
  const have = parseCpuList(available) as Set<number>;
  for (const c of want) {
    if (!have.has(c)) {
      throw invalidArgument(what === 'cpus'
        ? `Requested CPUs are not available - requested ${v}, available: ${available}`
        : `Requested memory nodes are not available - requested ${v}, available: ${available}`);
    }
  }
}

// dockerd's value checks of a create's or an update's resources.
export function checkResources(r: Resources, update: boolean): void {
  const memory = num(r.Memory);
  const swap = num(r.MemorySwap);
  const reservation = num(r.MemoryReservation);
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !update) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = r.MemorySwappiness;
  if (typeof swappiness === 'number' && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw invalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  const nano = num(r.NanoCpus);
  const period = num(r.CpuPeriod);
  const quota = num(r.CpuQuota);
  if (nano > 0 && period > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const ncpu = os.cpus().length;
  if (nano !== 0 && (nano < 0 || nano > ncpu * 1e9)) throw invalidArgument(`range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  if (num(r.CpuShares) < 0) throw invalidArgument(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  checkCpuset(typeof r.CpusetCpus === 'string' ? r.CpusetCpus : '', 'cpus', onlineCpus());
  checkCpuset(typeof r.CpusetMems === 'string' ? r.CpusetMems : '', 'mems', onlineMems());
  const weight = num(r.BlkioWeight);
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000');
  if (num(r.IOMaximumBandwidth) !== 0 || num(r.IOMaximumIOps) !== 0) {
    throw invalidArgument('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  for (const d of list(r.BlkioWeightDevice)) {
    devicePath('BlkioWeightDevice', d.Path);
    if (typeof d.Weight !== 'number' || !Number.isInteger(d.Weight) || d.Weight < 10 || d.Weight > 1000) {
      throw invalidArgument(`invalid weight for device: ${d.Path}: the range is 10-1000`);
    }
  }
  for (const k of THROTTLES) {
    for (const d of list(r[k])) {
      devicePath(k, d.Path);
      if (typeof d.Rate !== 'number' || !Number.isInteger(d.Rate) || d.Rate < 0) throw invalidArgument(`invalid rate for device: ${d.Path} in HostConfig.${k}`);
    }
  }
  for (const u of list(r.Ulimits)) {
    if (typeof u.Name !== 'string' || !(u.Name in RLIMITS)) throw invalidArgument(`invalid ulimit type: ${u.Name}`);
    const soft = num(u.Soft);
    const hard = num(u.Hard);
    if (soft > hard) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
}

const THROTTLES = ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const;

function list(v: unknown): Record<string, any>[] {
  return Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : [];
}

function devicePath(field: string, p: unknown): void {
  if (typeof p !== 'string' || !p.startsWith('/')) throw invalidArgument(`invalid device path ${JSON.stringify(p)} in HostConfig.${field}: it must be an absolute path`);
}

// The checks of the fields besides Resources that limits bring.
export function checkHostLimits(hc: Resources): void {
  if (num(hc.ShmSize) < 0) throw invalidArgument('SHM size can not be less than 0');
  const adj = num(hc.OomScoreAdj);
  if (adj < -1000 || adj > 1000) throw invalidArgument(`Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
  const ns = hc.CgroupnsMode;
  if (ns !== undefined && ns !== null && ns !== '' && ns !== 'private' && ns !== 'host') throw invalidArgument(`invalid cgroup namespace mode: ${ns}`);
}

// dockerd's adaptContainerSettings: with a memory limit and no swap given,
// swap is as much again (MemorySwap twice Memory); inspect shows it.
export function adaptHostConfig(hc: Resources): Resources {
  const out = { ...hc };
  if (num(out.Memory) > 0 && num(out.MemorySwap) === 0) out.MemorySwap = num(out.Memory) * 2;
  if (!num(out.ShmSize)) out.ShmSize = DEFAULT_SHM_SIZE;
  return out;
}

const rates = (v: unknown): DeviceRate[] | undefined => {
  const l = list(v);
  return l.length ? l.map((d) => ({ path: d.Path, rate: num(d.Rate) })) : undefined;
};

// A HostConfig (after adaptHostConfig) as the engine's limits. NanoCpus is
// a CFS quota over dockerd's 100 ms period.
export function limitsOf(hc: Resources): LimitsSpec | undefined {
  const nano = num(hc.NanoCpus);
  const swappiness = typeof hc.MemorySwappiness === 'number' && hc.MemorySwappiness >= 0 ? hc.MemorySwappiness : undefined;
  const pids = typeof hc.PidsLimit === 'number' && hc.PidsLimit !== 0 ? (hc.PidsLimit < 0 ? -1 : hc.PidsLimit) : undefined;
  const l: LimitsSpec = {
    memory: num(hc.Memory) || undefined,
    memorySwap: num(hc.MemorySwap) || undefined,
    memoryReservation: num(hc.MemoryReservation) || undefined,
    memorySwappiness: swappiness,
    oomKillDisable: hc.OomKillDisable === true || undefined,
    cpuShares: num(hc.CpuShares) || undefined,
    cpuPeriod: nano ? 100000 : num(hc.CpuPeriod) || undefined,
    cpuQuota: nano ? Math.floor((nano * 100000) / 1e9) : num(hc.CpuQuota) || undefined,
    cpusetCpus: (hc.CpusetCpus as string) || undefined,
    cpusetMems: (hc.CpusetMems as string) || undefined,
    pids,
    blkioWeight: num(hc.BlkioWeight) || undefined,
    blkioWeightDevices: list(hc.BlkioWeightDevice).length ? list(hc.BlkioWeightDevice).map((d) => ({ path: d.Path, weight: num(d.Weight) })) : undefined,
    readBps: rates(hc.BlkioDeviceReadBps),
    writeBps: rates(hc.BlkioDeviceWriteBps),
    readIops: rates(hc.BlkioDeviceReadIOps),
    writeIops: rates(hc.BlkioDeviceWriteIOps),
    ulimits: list(hc.Ulimits).length ? list(hc.Ulimits).map((u) => ({ name: u.Name, soft: num(u.Soft), hard: num(u.Hard) })) : undefined,
    shmSize: num(hc.ShmSize) && num(hc.ShmSize) !== DEFAULT_SHM_SIZE ? num(hc.ShmSize) : undefined,
    cgroupParent: (hc.CgroupParent as string) || undefined,
    cgroupns: hc.CgroupnsMode === 'host' ? 'host' : undefined,
    oomScoreAdj: num(hc.OomScoreAdj) || undefined,
  };
  const set = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as LimitsSpec;
  return Object.keys(set).length ? set : undefined;
}

// `POST /containers/{id}/update`: the body checked, and merged into the
// container's HostConfig as dockerd merges it (a zero leaves a value as it
// was; NanoCpus and CpuPeriod/CpuQuota exclude each other across updates).
export function mergeUpdate(body: Record<string, unknown> | undefined, old: Resources, version: string): Resources {
  const b = { ...(body ?? {}) };
  checkUpdateBody(b);
  // API < 1.40 had no PidsLimit in an update; 0 and below mean unlimited.
  const pids = versionBelow(version, '1.40') ? undefined : b.PidsLimit;
  checkResources(b, true);

  const out = { ...old };
  const was = (k: string) => num(old[k]);
  const nano = num(b.NanoCpus);
  if (nano > 0 && was('CpuPeriod') > 0) throw invalidArgument('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (nano > 0 && was('CpuQuota') > 0) throw invalidArgument('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (num(b.CpuPeriod) > 0 && was('NanoCpus') > 0) throw invalidArgument('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (num(b.CpuQuota) > 0 && was('NanoCpus') > 0) throw invalidArgument('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  for (const k of ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'MemoryReservation']) if (num(b[k]) !== 0) out[k] = b[k];
  for (const k of ['CpusetCpus', 'CpusetMems']) if (typeof b[k] === 'string' && b[k] !== '') out[k] = b[k];
  const memory = num(b.Memory);
  if (memory !== 0) {
    if (memory > was('MemorySwap') && num(b.MemorySwap) === 0) {
      throw invalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    out.Memory = memory;
  }
  if (num(b.MemorySwap) !== 0) out.MemorySwap = b.MemorySwap;
  if (typeof pids === 'number') out.PidsLimit = pids <= 0 ? 0 : pids;
  // A policy's name replaces the policy, its count with it (dockerd's UpdateContainer).
  const rp = b.RestartPolicy as { Name?: string | null; MaximumRetryCount?: number | null } | null | undefined;
  if (rp?.Name) out.RestartPolicy = { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  // The merged whole must hold together too (a new swap below the old memory).
  checkResources(out, true);
  return out;
}

function versionBelow(v: string, than: string): boolean {
  const [a, b] = [v.split('.').map(Number), than.split('.').map(Number)];
  return a[0] < b[0] || (a[0] === b[0] && (a[1] ?? 0) < (b[1] ?? 0));
}
