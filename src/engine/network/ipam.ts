// IPv4 address arithmetic and allocation for bridge networks: the caller
// (berth) does IPAM and hands netavark static addresses, as podman does.
import * as fs from 'node:fs';
import { invalidArgument } from '../../errors';

export interface Cidr {
  addr: number; // the network address (host bits cleared)
  prefix: number;
}

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw invalidArgument(`invalid IPv4 address: ${ip}`);
  return m.slice(1).reduce((a, o) => a * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(s: string): boolean {
  try {
    ipToInt(s);
    return true;
  } catch {
    return false;
  }
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

// "10.1.0.0/16" → the network; host bits set ("10.1.0.1/16") keep the
// address in `ip` (a bip names the gateway that way).
export function parseCidr(s: string, what = 'subnet'): Cidr & { ip: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32) throw invalidArgument(`invalid ${what} ${s}: expected an IPv4 CIDR such as 172.20.0.0/16`);
  const ip = ipToInt(m[1]);
  const prefix = Number(m[2]);
  return { addr: (ip & maskOf(prefix)) >>> 0, prefix, ip };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.addr)}/${c.prefix}`;
}

export const size = (c: Cidr): number => 2 ** (32 - c.prefix);

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.addr;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.addr) || contains(b, a.addr);
}

// The lowest free address of `range` (default: the whole subnet), never the
// network or broadcast address of the subnet, nor one in `used`.
export function allocate(subnet: Cidr, range: Cidr | undefined, used: Set<number>): number | undefined {
  const r = range ?? subnet;
  const first = Math.max(r.addr, subnet.addr + 1);
  const last = Math.min(r.addr + size(r) - 1, subnet.addr + size(subnet) - 2);
  for (let ip = first; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

// The host's IPv4 routes (destination networks), as /proc/net/route lists
// them: a new network's subnet must not clash with any of them.
export function hostRoutes(text?: string): Cidr[] {
  let t = text;
  if (t === undefined) {
    try {
      t = fs.readFileSync('/proc/net/route', 'utf8');
    } catch {
      return [];
    }
  }
  const out: Cidr[] = [];
  for (const line of t.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = parseInt(f[1], 16);
    const mask = parseInt(f[7], 16);
    if (!mask) continue; // the default route
    // Little-endian hex words.
    const swap = (n: number) => (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
    const m = swap(mask);
    let prefix = 0;
    while (prefix < 32 && m & (0x80000000 >>> prefix)) prefix++;
    out.push({ addr: (swap(dest) & maskOf(prefix)) >>> 0, prefix });
  }
  return out;
}

export interface AddressPool {
  base: string;
  size: number;
}

// dockerd's defaults: 172.17-31.0.0/16, then /20s of 192.168.0.0/16.
export const DEFAULT_POOLS: AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

// The first subnet of the pools that overlaps nothing in `taken`.
export function pickSubnet(pools: AddressPool[], taken: Cidr[]): Cidr | undefined {
  for (const p of pools) {
    const base = parseCidr(p.base, 'address pool');
    if (p.size < base.prefix || p.size > 30) continue;
    const step = 2 ** (32 - p.size);
    for (let a = base.addr; a < base.addr + size(base); a += step) {
      const c = { addr: a >>> 0, prefix: p.size };
      if (!taken.some((t) => overlaps(t, c))) return c;
    }
  }
  return undefined;
}

export function parsePool(s: string): AddressPool {
  const kv = Object.fromEntries(s.split(',').map((p) => p.split('=').map((x) => x.trim())));
  if (!kv.base || !kv.size || !/^\d+$/.test(kv.size)) throw invalidArgument(`invalid default address pool ${JSON.stringify(s)}: expected base=CIDR,size=N`);
  parseCidr(kv.base, 'address pool');
  return { base: kv.base, size: Number(kv.size) };
}
