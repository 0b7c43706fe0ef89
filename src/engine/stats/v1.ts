// cgroup v1: each controller in its own hierarchy,
// <root>/<controller>/<group>/<file>.
import { flatKeyed, flatKeyedBig, single, type CgroupSample, type IoEntry } from './sample';

type ReadV1 = (controller: string, file: string) => Promise<string>;

// cpuacct.stat counts in USER_HZ, which is 100 on every Linux ABI.
const NS_PER_TICK = 1e9 / 100;
// The kernel's "no limit" for memory.limit_in_bytes (PAGE_COUNTER_MAX pages).
const UNLIMITED = 2 ** 62;

export async function readV1(read: ReadV1): Promise<CgroupSample> {
  const opt = (c: string, f: string) => read(c, f).catch((err) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  // The memory controller answers first: a missing group is ENOENT here.
  const memUsage = await read('memory', 'memory.usage_in_bytes');
  const [memMax, memLimit, memFail, memStat, usage, percpu, acct, cpuStat, pids, pidsMax, ioBytes, ioOps, thrBytes, thrOps] = await Promise.all([
    opt('memory', 'memory.max_usage_in_bytes'),
    opt('memory', 'memory.limit_in_bytes'),
    opt('memory', 'memory.failcnt'),
    opt('memory', 'memory.stat'),
    opt('cpuacct', 'cpuacct.usage'),
    opt('cpuacct', 'cpuacct.usage_percpu'),
    opt('cpuacct', 'cpuacct.stat'),
    opt('cpu', 'cpu.stat'),
    opt('pids', 'pids.current'),
    opt('pids', 'pids.max'),
    opt('blkio', 'blkio.io_service_bytes_recursive'),
    opt('blkio', 'blkio.io_serviced_recursive'),
    opt('blkio', 'blkio.throttle.io_service_bytes_recursive'),
    opt('blkio', 'blkio.throttle.io_serviced_recursive'),
  ]);
  const ticks = flatKeyed(acct ?? '');
  const thr = flatKeyed(cpuStat ?? '');
  const limit = single(memLimit ?? 'max');
  // The CFQ files where the device uses CFQ; the throttle layer's otherwise
  // (it sees every request), as containerd does.
  const cfqBytes = blkioEntries(ioBytes ?? '');
  const useCfq = cfqBytes.length > 0;
  return {
    cpu: {
      totalNs: Number((usage ?? '0').trim()),
      perCpuNs: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      userNs: (ticks.user ?? 0) * NS_PER_TICK,
      kernelNs: (ticks.system ?? 0) * NS_PER_TICK,
      periods: thr.nr_periods ?? 0,
      throttledPeriods: thr.nr_throttled ?? 0,
      throttledNs: thr.throttled_time ?? 0,
    },
    memory: {
      usage: Number(memUsage.trim()),
      maxUsage: memMax === undefined ? undefined : Number(memMax.trim()),
      failcnt: memFail === undefined ? undefined : Number(memFail.trim()),
      limit: limit === undefined || limit >= UNLIMITED ? undefined : limit,
      stats: flatKeyedBig(memStat ?? ''),
    },
    io: {
      serviceBytes: useCfq ? cfqBytes : blkioEntries(thrBytes ?? ''),
      serviced: useCfq ? blkioEntries(ioOps ?? '') : blkioEntries(thrOps ?? ''),
    },
    pids: { current: Number((pids ?? '0').trim()), limit: single(pidsMax ?? 'max') },
  };
}

// "8:0 Read 4096" lines; the closing "Total N" is the sum over devices.
export function blkioEntries(text: string): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^(\d+):(\d+)\s+(\S+)\s+(\d+)$/);
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}
