// Port specs as the docker CLI parses them (go-connections/nat and the
// CLI's -p long syntax): -p [IP:][HOST:]CONTAINER[/PROTO] with ranges,
// --expose, and the maps they make (Config.ExposedPorts,
// HostConfig.PortBindings).
import { parseIP } from './ip';

// Go's nat.PortBinding, whose JSON name is HostIp.
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

// strconv.ParseUint(s, 10, 16)'s errors, in Go's words.
function parseUint16(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  if (Number(s) > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(s);
}

// nat.ParsePortRange: "80" or "8000-9000".
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseUint16(ports);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0]);
  const end = parseUint16(parts[1]);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

// nat.SplitProtoPort: [proto, port].
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0]];
  return [parts[1], parts[0]];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1];
  if (n === 1) return ['', '', container];
  if (n === 2) return ['', parts[0], container];
  if (n === 3) return [parts[0], parts[1], container];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2], container];
}

export interface PortMapping {
  port: string; // "80/tcp"
  binding: PortBinding;
}

// nat.ParsePortSpec.
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPort] = splitParts(raw);
  const [proto0, cport] = splitProtoPort(containerPort);
  containerPort = cport;
  if (ip !== '' && ip[0] === '[') {
    // net.SplitHostPort(ip + ":"): a bracketed host must close right before the colon.
    const m = /^\[([^\][]*)\]$/.exec(ip);
    if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}:: ${ip.includes(']') ? 'missing port in address' : "missing ']' in address"}`);
    ip = m[1];
  }
  if (ip !== '' && !parseIP(ip)) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort.length > 0) {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
  }
  // A host range with a single container port is the range to pick from.
  if (hostPort !== '' && end - start !== hostEnd - hostStart && end !== start) {
    throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const proto = proto0.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto0}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= end - start; i++) {
    let hp = hostPort;
    if (hostPort.length > 0) hp = String(hostStart + i);
    if (start === end && hostStart !== hostEnd) hp = `${hp}-${hostEnd}`;
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

// The CLI's convertToStandardNotation: -p target=80,published=8080,protocol=udp.
export function standardNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
}

export interface Ports {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
}

// -p and --expose together, as the CLI's parse makes them.
export function parsePorts(publish: string[], expose: string[]): Ports {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of publish.map(standardNotation)) {
    for (const m of parsePortSpec(raw)) {
      exposed[m.port] ??= {};
      (bindings[m.port] ??= []).push(m.binding);
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] ??= {};
  }
  return { exposed, bindings };
}
