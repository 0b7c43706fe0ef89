// cgroup v2: one unified hierarchy, <root>/<group>/<file>.
import { flatKeyed, flatKeyedBig, single, type CgroupSample, type IoEntry } from './sample';

type ReadV2 = (file: string) => Promise<string>;

export async function readV2(read: ReadV2): Promise<CgroupSample> {
  const opt = (f: string) => read(f).catch((err) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  // cgroup.procs is in every group: a missing group is ENOENT here.
  await read('cgroup.procs');
  const [cpuStat, memCurrent, memMax, memStat, ioStat, pids, pidsMax] = await Promise.all([
    opt('cpu.stat'), opt('memory.current'), opt('memory.max'), opt('memory.stat'), opt('io.stat'), opt('pids.current'), opt('pids.max'),
  ]);
  const cpu = flatKeyed(cpuStat ?? '');
  const io = ioStats(ioStat ?? '');
  return {
    cpu: {
      totalNs: (cpu.usage_usec ?? 0) * 1000,
      userNs: (cpu.user_usec ?? 0) * 1000,
      kernelNs: (cpu.system_usec ?? 0) * 1000,
      periods: cpu.nr_periods ?? 0,
      throttledPeriods: cpu.nr_throttled ?? 0,
      throttledNs: (cpu.throttled_usec ?? 0) * 1000,
    },
    memory: {
      usage: Number((memCurrent ?? '0').trim()),
      limit: single(memMax ?? 'max'),
      stats: flatKeyedBig(memStat ?? ''),
    },
    io,
    pids: { current: Number((pids ?? '0').trim()), limit: single(pidsMax ?? 'max') },
  };
}

// io.stat: "8:0 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0",
// as dockerd turns it into v1's entries ("read" and "write").
export function ioStats(text: string): { serviceBytes: IoEntry[]; serviced: IoEntry[] } {
  const serviceBytes: IoEntry[] = [];
  const serviced: IoEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = dev?.match(/^(\d+):(\d+)$/);
    if (!m) continue;
    const v: Record<string, number> = {};
    for (const kv of kvs) {
      const [k, n] = kv.split('=');
      if (/^\d+$/.test(n ?? '')) v[k] = Number(n);
    }
    const at = { major: Number(m[1]), minor: Number(m[2]) };
    serviceBytes.push({ ...at, op: 'read', value: v.rbytes ?? 0 }, { ...at, op: 'write', value: v.wbytes ?? 0 });
    serviced.push({ ...at, op: 'read', value: v.rios ?? 0 }, { ...at, op: 'write', value: v.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}
