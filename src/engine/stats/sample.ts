// What a cgroup reader returns, and the parsing the v1 and v2 readers share.

export interface IoEntry {
  major: number;
  minor: number;
  // Docker's spelling: v1's "Read", "Write", "Sync", "Async", "Discard",
  // "Total"; v2's "read", "write".
  op: string;
  value: number;
}

export interface CgroupSample {
  cpu: {
    totalNs: number;
    // Per CPU; v1 only (v2 has no per-CPU accounting).
    perCpuNs?: number[];
    userNs: number;
    kernelNs: number;
    periods: number;
    throttledPeriods: number;
    throttledNs: number;
  };
  memory: {
    usage: number;
    // v1 only.
    maxUsage?: number;
    failcnt?: number;
    // undefined: no limit.
    limit?: number;
    // memory.stat as the kernel names its keys; exact (hierarchical limits
    // are near 2^63).
    stats: Record<string, bigint>;
  };
  io: { serviceBytes: IoEntry[]; serviced: IoEntry[] };
  pids: { current: number; limit?: number };
}

// "key value" lines (cpu.stat, memory.stat, cpuacct.stat).
export function flatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

// The same, exact.
export function flatKeyedBig(text: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = BigInt(v);
  }
  return out;
}

// A single number, or undefined for "max" (no limit).
export function single(text: string): number | undefined {
  const v = text.trim();
  return v === 'max' || v === '' ? undefined : Number(v);
}
