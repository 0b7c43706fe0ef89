// The engine's stats sample as Docker's StatsJSON (GET /containers/{id}/stats),
// with the zero values Go's encoder writes: the docker CLI computes CPU %,
// memory use (usage minus inactive file pages) and block I/O from it.
import type { ContainerBlkioStats, ContainerCPUStats, ContainerMemoryStats, ContainerStatsResponse } from '../../api/types';
import type { ContainerRecord } from '../../engine/containers/record';
import type { NetIfStats } from '../../engine/stats/netdev';
import type { StatsSample } from '../../engine/stats/service';

const ZERO_TIME = '0001-01-01T00:00:00Z';

// The CPU stats and read time of the sample before, for precpu_stats.
export interface PrevStats {
  cpu: ContainerCPUStats;
  read: string;
}

export const zeroCpu = (): ContainerCPUStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const zeroBlkio = (): ContainerBlkioStats => ({
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
});

// What dockerd sends for a container that is not running: name, id and
// zeros.
export function zeroStats(c: ContainerRecord): ContainerStatsResponse {
  return {
    name: c.name,
    id: c.id,
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: zeroBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
  };
}

export function statsJSON(c: ContainerRecord, s: StatsSample, prev?: PrevStats): ContainerStatsResponse {
  const g = s.cgroup;
  if (!g) return zeroStats(c);
  const cpu: ContainerCPUStats = {
    cpu_usage: {
      total_usage: g.cpu.totalNs,
      ...(g.cpu.perCpuNs?.length ? { percpu_usage: g.cpu.perCpuNs } : {}),
      usage_in_kernelmode: g.cpu.kernelNs,
      usage_in_usermode: g.cpu.userNs,
    },
    ...(s.machine.systemCpuNs ? { system_cpu_usage: s.machine.systemCpuNs } : {}),
    ...(s.machine.onlineCpus ? { online_cpus: s.machine.onlineCpus } : {}),
    throttling_data: { periods: g.cpu.periods, throttled_periods: g.cpu.throttledPeriods, throttled_time: g.cpu.throttledNs },
  };
  // No limit, or one above the machine's memory: the machine's (as dockerd).
  const machine = s.machine.memoryBytes;
  const limit = g.memory.limit === undefined || (machine > 0 && g.memory.limit > machine) ? machine : g.memory.limit;
  const memory: ContainerMemoryStats = omitZero({
    usage: g.memory.usage,
    max_usage: g.memory.maxUsage,
    stats: Object.keys(g.memory.stats).length ? (g.memory.stats as unknown as Record<string, number>) : undefined,
    failcnt: g.memory.failcnt,
    limit,
  });
  return {
    name: c.name,
    id: c.id,
    read: s.read.toISOString(),
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: omitZero({ current: g.pids.current, limit: g.pids.limit }),
    blkio_stats: { ...zeroBlkio(), io_service_bytes_recursive: g.io.serviceBytes, io_serviced_recursive: g.io.serviced },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: prev?.cpu ?? zeroCpu(),
    memory_stats: memory,
    ...(s.networks ? { networks: networksJSON(s.networks) } : {}),
  };
}

function networksJSON(n: Record<string, NetIfStats>): ContainerStatsResponse['networks'] {
  return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, {
    rx_bytes: v.rxBytes, rx_packets: v.rxPackets, rx_errors: v.rxErrors, rx_dropped: v.rxDropped,
    tx_bytes: v.txBytes, tx_packets: v.txPackets, tx_errors: v.txErrors, tx_dropped: v.txDropped,
  }]));
}

// Go's omitempty: zero and missing fields are left out.
function omitZero<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== 0)) as T;
}

// The JSON text of a stats object: memory.stat's values are bigints, written
// as the plain numbers Go writes for a uint64.
export function statsText(o: ContainerStatsResponse): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}
