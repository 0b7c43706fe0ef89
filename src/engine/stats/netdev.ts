// A container's network I/O: /proc/<pid>/net/dev, seen from its own network
// namespace, without loopback (dockerd reports its interfaces the same way).
import { readPseudo } from './cgroup';

export interface NetIfStats {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export function parseNetDev(text: string): Record<string, NetIfStats> {
  const out: Record<string, NetIfStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out[m[1]] = { rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3], txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11] };
  }
  return out;
}

export const readNetDev = (pid: number): Promise<string> => readPseudo(`/proc/${pid}/net/dev`);
