// docker stats' numbers and table: one entry per container, computed from
// the daemon's stats JSON as docker's collect() does (Linux daemons).
import { formatG, humanSize, truncateId } from './format';
import { formatWrite, headerContext, TABLE_FORMAT } from './formatter';
import { GoStruct } from './template';

export const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

// The parts of GET /containers/{id}/stats berth reads.
export interface StatsJSON {
  name?: string;
  id?: string;
  cpu_stats?: CPUStats;
  precpu_stats?: CPUStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

interface CPUStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface StatsEntry {
  // What the user named (or the short id, for `stats` without names).
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  invalid: boolean;
}

export function emptyEntry(container: string): StatsEntry {
  return {
    container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0,
    networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, invalid: false,
  };
}

// docker's calculateCPUPercentUnix.
function cpuPercent(v: StatsJSON): number {
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0);
  let online = v.cpu_stats?.online_cpus ?? 0;
  if (!online) online = v.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

// docker's calculateMemUsageUnixNoCache: the page cache does not count.
function memUsage(m: StatsJSON['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const stats = m?.stats ?? {};
  if ('total_inactive_file' in stats && stats.total_inactive_file < usage) return usage - stats.total_inactive_file;
  const inactive = stats.inactive_file ?? 0;
  if (inactive < usage) return usage - inactive;
  return usage;
}

export function statsEntry(container: string, v: StatsJSON): StatsEntry {
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '')[0];
    if (op === 'r' || op === 'R') blockRead += e.value ?? 0;
    else if (op === 'w' || op === 'W') blockWrite += e.value ?? 0;
  }
  let networkRx = 0;
  let networkTx = 0;
  for (const n of Object.values(v.networks ?? {})) {
    networkRx += n.rx_bytes ?? 0;
    networkTx += n.tx_bytes ?? 0;
  }
  const memory = memUsage(v.memory_stats);
  const memoryLimit = v.memory_stats?.limit ?? 0;
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage: cpuPercent(v),
    memory,
    memoryLimit,
    memoryPercentage: memoryLimit ? (memory / memoryLimit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: v.pids_stats?.current ?? 0,
    invalid: false,
  };
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

// go-units BytesSize: "%.4g" in binary units.
export function bytesSize(size: number): string {
  let i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) {
    size /= 1024;
    i++;
  }
  return formatG(size, 4) + BINARY_UNITS[i];
}

const percent = (v: number) => `${v.toFixed(2)}%`;

export function statsContext(s: StatsEntry, trunc: boolean): GoStruct {
  return new GoStruct('*container.statsContext', {
    Container: () => s.container,
    Name: () => (s.name.length > 1 ? s.name.slice(1) : '--'),
    ID: () => (trunc ? truncateId(s.id) : s.id),
    CPUPerc: () => (s.invalid ? '--' : percent(s.cpuPercentage)),
    MemUsage: () => (s.invalid ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`),
    MemPerc: () => (s.invalid ? '--' : percent(s.memoryPercentage)),
    NetIO: () => (s.invalid ? '--' : `${humanSize(s.networkRx, 3)} / ${humanSize(s.networkTx, 3)}`),
    BlockIO: () => (s.invalid ? '--' : `${humanSize(s.blockRead, 3)} / ${humanSize(s.blockWrite, 3)}`),
    PIDs: () => (s.invalid ? '--' : String(s.pidsCurrent)),
  });
}

const STATS_HEADER = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export function statsFormat(source: string): string {
  return source === TABLE_FORMAT ? DEFAULT_STATS_TABLE : source;
}

export function formatStats(format: string, entries: StatsEntry[], trunc: boolean): string {
  return formatWrite(statsFormat(format), headerContext(STATS_HEADER), entries.map((e) => statsContext(e, trunc)));
}

// One redraw of the live table as docker 28 writes it: the cursor homed
// and the table; then, appended to that same buffer, each of its lines again
// with an erase-to-end-of-line (so the table goes out twice, the second copy
// drawn over the first from the home position); then erase below.
export function redrawFrame(text: string): string {
  const first = `\x1b[H${text}`;
  return `${first}${first.split('\n').map((line) => `${line} \x1b[K\n`).join('')}\x1b[J`;
}
