// Go's net.ParseIP, IP.String, ParseCIDR and ParseMAC, as the docker CLI
// uses them to check addresses in flags (--dns, --add-host, -p, --subnet).

// 16 bytes (an IPv4 address is v4-mapped), or undefined.
export function parseIP(s: string): number[] | undefined {
  const v4 = parseIPv4(s);
  if (v4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
  return parseIPv6(s);
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Go rejects leading zeros (ambiguous octal) and more than 3 digits.
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return undefined;
      out.push(parseInt(f, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 address is only allowed last.
  if (halves.length === 2 && halves[0].includes('.')) return undefined;
  let all: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    all = head;
  }
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function isV4Mapped(b: number[]): boolean {
  return b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

// Go's IP.String: dotted for IPv4 (and v4-mapped), RFC 5952 otherwise.
export function ipString(b: number[]): string {
  if (isV4Mapped(b)) return b.slice(12).join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

// docker's opts.ValidateIPAddress: the address in Go's canonical form.
export function validateIPAddress(val: string): string {
  const ip = parseIP(val.trim());
  if (!ip) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ipString(ip);
}

export interface IPNet {
  ip: number[]; // 4 or 16 bytes, masked
  bits: number;
}

// Go's net.ParseCIDR: the network (IPv4 as 4 bytes) and the address.
export function parseCIDR(s: string): { ip: number[]; net: IPNet } {
  const invalid = () => new Error(`invalid CIDR address: ${s}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw invalid();
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  const v4 = parseIPv4(addr);
  const ip = v4 ?? parseIPv6(addr);
  const max = v4 ? 32 : 128;
  if (!ip || !/^\d{1,3}$/.test(len) || (len.length > 1 && len[0] === '0') || Number(len) > max) throw invalid();
  const bits = Number(len);
  const masked = ip.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return { ip: v4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4] : ip, net: { ip: masked, bits } };
}

// Go's IPNet.Contains.
export function netContains(n: IPNet, ip16: number[] | undefined): boolean {
  if (!ip16) return false;
  const ip = isV4Mapped(ip16) ? ip16.slice(12) : ip16;
  if (ip.length !== n.ip.length) return false;
  for (let i = 0; i < ip.length; i++) {
    const keep = Math.max(0, Math.min(8, n.bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((ip[i] & mask) !== n.ip[i]) return false;
  }
  return true;
}

// Go's net.ParseMAC: 6, 8 or 20 bytes, as xx:xx.., xx-xx.. or xxxx.xxxx...
export function validMAC(s: string): boolean {
  const groups = (sep: string, width: number) => {
    const parts = s.split(sep);
    return parts.every((p) => new RegExp(`^[0-9a-fA-F]{${width}}$`).test(p)) ? parts.length * (width / 2) : 0;
  };
  let n = 0;
  if (s.length >= 14 && s[2] === ':') n = groups(':', 2);
  else if (s.length >= 14 && s[2] === '-') n = groups('-', 2);
  else if (s.length >= 14 && s[4] === '.') n = groups('.', 4);
  return n === 6 || n === 8 || n === 20;
}
