// The host's side of a stats sample, read from /proc as dockerd reads it:
// the CPU time of the whole machine (the denominator of CPU %), the CPUs
// online, and the memory a container without a limit may use.
import * as fs from 'node:fs';
import * as path from 'node:path';

// /proc/stat counts in USER_HZ (100).
const NS_PER_TICK = 1e9 / 100;

export interface MachineSample {
  // user+nice+system+idle+iowait+irq+softirq of all CPUs, in nanoseconds.
  systemCpuNs: number;
  onlineCpus: number;
  memoryBytes: number;
}

// Synchronous: /proc files are read from kernel memory (see cgroup.ts).
export async function readMachine(proc = '/proc'): Promise<MachineSample> {
  const stat = fs.readFileSync(path.join(proc, 'stat'), 'utf8');
  const meminfo = fs.readFileSync(path.join(proc, 'meminfo'), 'utf8');
  return { ...parseProcStat(stat), memoryBytes: parseMemTotal(meminfo) };
}

export function parseProcStat(text: string): { systemCpuNs: number; onlineCpus: number } {
  let systemCpuNs = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      if (f.length < 8) throw new Error('invalid number of cpu fields in /proc/stat');
      systemCpuNs = f.slice(1, 8).reduce((sum, v) => sum + Number(v), 0) * NS_PER_TICK;
    } else if (/^cpu\d+$/.test(f[0])) {
      onlineCpus++;
    }
  }
  return { systemCpuNs, onlineCpus };
}

export function parseMemTotal(text: string): number {
  const m = text.match(/^MemTotal:\s+(\d+)\s*kB/m);
  return m ? Number(m[1]) * 1024 : 0;
}
