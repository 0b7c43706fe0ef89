// The resource flags of run, create and update, checked and sent as the
// docker CLI 28 checks and sends them (its opts.ValidateWeightDevice,
// ValidateThrottleBpsDevice, ValidateThrottleIOpsDevice, units.ParseUlimit).
import type { Parsed } from '../../args';
import { parseBytes } from '../../args';
import { parseRestartPolicy } from '../../opts/restart';

// ulimit names go-units knows.
const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

// --ulimit name=soft[:hard]; checked as it is parsed, kept as given.
export function validateUlimit(v: string): string {
  const [name, limits, extra] = v.split('=');
  if (limits === undefined || extra !== undefined) throw new Error(`invalid ulimit argument: ${v}`);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const parts = limits.split(':');
  if (parts.length > 2) throw new Error(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  const [soft, hard] = parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new Error(`strconv.ParseInt: parsing "${p}": invalid syntax`);
    return Number(p);
  });
  if (hard !== undefined && soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return v;
}

export function ulimitOf(v: string): { Name: string; Hard: number; Soft: number } {
  const [name, limits] = v.split('=');
  const [soft, hard] = limits.split(':').map(Number);
  return { Name: name, Hard: hard ?? soft, Soft: soft };
}

// docker's strings.SplitN(v, ":", 2).
function splitDevice(v: string): [string, string] {
  const i = v.indexOf(':');
  return i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
}

// --blkio-weight-device /dev/sda:300
export function validateWeightDevice(v: string): string {
  if (!v.includes(':')) throw new Error(`bad format: ${v}`);
  const [path, w] = splitDevice(v);
  if (!path.startsWith('/dev/')) throw new Error(`bad format for device path: ${v}`);
  if (!/^\d+$/.test(w) || Number(w) > 65535 || (Number(w) > 0 && (Number(w) < 10 || Number(w) > 1000))) throw new Error(`invalid weight for device: ${v}`);
  return v;
}

// --device-read-bps /dev/sda:1mb
export function validateBps(v: string): string {
  const [path, rate] = splitDevice(v);
  if (!v.includes(':') || !path.startsWith('/dev/')) throw new Error(`bad format for device path: ${v}`);
  let n: number;
  try {
    n = parseBytes(rate);
  } catch {
    n = -1;
  }
  if (n < 0) throw new Error(`invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  return v;
}

// --device-read-iops /dev/sda:100
export function validateIops(v: string): string {
  const [path, rate] = splitDevice(v);
  if (!v.includes(':') || !path.startsWith('/dev/')) throw new Error(`bad format for device path: ${v}`);
  if (!/^\d+$/.test(rate)) throw new Error(`invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  return v;
}

const devices = (values: string[], rate: (r: string) => number) =>
  values.map((v) => {
    const [path, r] = splitDevice(v);
    return { Path: path, Rate: rate(r) };
  });

// The HostConfig fields of the resource flags, only those given (docker
// sends the rest as zeros, which ask for nothing).
export function resourceFields(p: Parsed): Record<string, unknown> {
  const f = p.flags;
  const out: Record<string, unknown> = {};
  const num = (flag: string, field: string) => {
    if (f[flag]) out[field] = f[flag];
  };
  num('cpu-shares', 'CpuShares');
  num('memory', 'Memory');
  num('cpus', 'NanoCpus');
  if (f['cgroup-parent']) out.CgroupParent = f['cgroup-parent'];
  num('blkio-weight', 'BlkioWeight');
  if (f['blkio-weight-device']?.length) {
    out.BlkioWeightDevice = (f['blkio-weight-device'] as string[]).map((v) => {
      const [path, w] = splitDevice(v);
      return { Path: path, Weight: Number(w) };
    });
  }
  if (f['device-read-bps']?.length) out.BlkioDeviceReadBps = devices(f['device-read-bps'], parseBytes);
  if (f['device-write-bps']?.length) out.BlkioDeviceWriteBps = devices(f['device-write-bps'], parseBytes);
  if (f['device-read-iops']?.length) out.BlkioDeviceReadIOps = devices(f['device-read-iops'], Number);
  if (f['device-write-iops']?.length) out.BlkioDeviceWriteIOps = devices(f['device-write-iops'], Number);
  num('cpu-period', 'CpuPeriod');
  num('cpu-quota', 'CpuQuota');
  if (f['cpuset-cpus']) out.CpusetCpus = f['cpuset-cpus'];
  if (f['cpuset-mems']) out.CpusetMems = f['cpuset-mems'];
  num('memory-reservation', 'MemoryReservation');
  num('memory-swap', 'MemorySwap');
  if (f['memory-swappiness'] !== undefined && f['memory-swappiness'] !== -1) out.MemorySwappiness = f['memory-swappiness'];
  if (f['oom-kill-disable']) out.OomKillDisable = true;
  if (p.changed.has('pids-limit')) out.PidsLimit = f['pids-limit'];
  if (f.ulimit?.length) out.Ulimits = (f.ulimit as string[]).map(ulimitOf);
  num('oom-score-adj', 'OomScoreAdj');
  num('shm-size', 'ShmSize');
  return out;
}

// `docker update`'s body: every UpdateConfig field, in docker's order, with
// its zero value unless a flag sets it.
export function updateBody(p: Parsed): Record<string, unknown> {
  const f = p.flags;
  return {
    CpuShares: f['cpu-shares'] ?? 0,
    Memory: f.memory ?? 0,
    NanoCpus: f.cpus ?? 0,
    CgroupParent: '',
    BlkioWeight: f['blkio-weight'] ?? 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: f['cpu-period'] ?? 0,
    CpuQuota: f['cpu-quota'] ?? 0,
    CpuRealtimePeriod: f['cpu-rt-period'] ?? 0,
    CpuRealtimeRuntime: f['cpu-rt-runtime'] ?? 0,
    CpusetCpus: f['cpuset-cpus'] ?? '',
    CpusetMems: f['cpuset-mems'] ?? '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: f['memory-reservation'] ?? 0,
    MemorySwap: f['memory-swap'] ?? 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: p.changed.has('pids-limit') ? f['pids-limit'] : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: parseRestartPolicy(f.restart ?? ''),
  };
}
