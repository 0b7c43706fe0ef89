// The networking fields of a create body (HostConfig.NetworkMode,
// PortBindings, PublishAllPorts, Dns*, ExtraHosts, Links, NetworkingConfig,
// Config.MacAddress) in the engine's words.
import { invalidArgument } from '../../errors';
import type { NetworkEndpointSpec, NetworkSpec, PortSpec } from '../../engine/containers/spec';
import { containerOf } from '../compat/fields';

interface EndpointBody {
  IPAMConfig?: { IPv4Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  Links?: string[] | null;
}

export function networkSpecOf(
  hc: Record<string, unknown>,
  cfg: Record<string, unknown>,
  exposed: Record<string, unknown>,
  warnings: string[],
): { spec: NetworkSpec; mode: string } {
  const mode = String(hc.NetworkMode ?? '');
  const common = {
    ...(strs(hc.Dns).length ? { dns: strs(hc.Dns) } : {}),
    ...(strs(hc.DnsSearch).length ? { dnsSearch: strs(hc.DnsSearch) } : {}),
    ...(strs(hc.DnsOptions).length ? { dnsOptions: strs(hc.DnsOptions) } : {}),
    ...(strs(hc.ExtraHosts).length ? { extraHosts: strs(hc.ExtraHosts).map(extraHost) } : {}),
  };
  const ports = portsOf((hc.PortBindings as Record<string, { HostIp?: string; HostPort?: string }[] | null>) ?? {}, hc.PublishAllPorts === true ? exposed : {});
  if (cfg.NetworkDisabled === true) return { spec: { mode: 'none', ...common }, mode: 'none' };
  const other = containerOf(mode);
  if (other !== undefined) return { spec: { mode: 'container', container: other }, mode };
  if (mode === 'host' || mode === 'none') {
    if (ports.length) warnings.push(`Published ports are discarded when using ${mode} network mode`);
    if (strs(hc.Links).length) throw invalidArgument(`conflicting options: ${mode} type networking can't be used with links. This would result in undefined behavior`);
    return { spec: { mode, ...common }, mode };
  }
  const primary = !mode || mode === 'default' ? 'bridge' : mode;
  const eps = ((cfg.NetworkingConfig as { EndpointsConfig?: Record<string, EndpointBody | null> } | undefined)?.EndpointsConfig ?? {}) as Record<string, EndpointBody | null>;
  const own = eps[primary] ?? (primary === 'bridge' ? eps.default : undefined) ?? {};
  const endpoint = (network: string, e: EndpointBody, mac?: string): NetworkEndpointSpec => ({
    network,
    aliases: (e.Aliases ?? []).filter(Boolean),
    ...(e.IPAMConfig?.IPv4Address ? { ip: e.IPAMConfig.IPv4Address } : {}),
    ...(e.MacAddress || mac ? { mac: e.MacAddress || mac } : {}),
  });
  const endpoints = [endpoint(primary, own, typeof cfg.MacAddress === 'string' && cfg.MacAddress ? cfg.MacAddress : undefined)];
  for (const [name, e] of Object.entries(eps)) {
    if (name === primary || (primary === 'bridge' && name === 'default')) continue;
    endpoints.push(endpoint(name, e ?? {}));
  }
  // A link on a user network (docker sends it in the endpoint) is an alias
  // only this container sees: an /etc/hosts line, as a legacy link.
  const endpointLinks = Object.values(eps).flatMap((e) => strs(e?.Links));
  const links = [...strs(hc.Links), ...endpointLinks].map((l) => {
    const [name, alias] = l.split(':');
    const n = name.replace(/^\//, '');
    return { container: n, alias: alias ? alias.split('/').pop()! : n };
  });
  return {
    spec: { mode: 'bridge', endpoints, ...(ports.length ? { ports } : {}), ...(links.length ? { links } : {}), ...common },
    mode: primary,
  };
}

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export function extraHost(h: string): { name: string; ip: string } {
  // "name:ip", or "name=ip" (the form that lets an IPv6 address through).
  const i = h.includes('=') ? h.indexOf('=') : h.indexOf(':');
  if (i <= 0) throw invalidArgument(`invalid extra host entry: ${JSON.stringify(h)}: expected name:ip`);
  return { name: h.slice(0, i), ip: h.slice(i + 1).replace(/^\[|\]$/g, '') };
}

// "80/tcp" → [{HostIp, HostPort}], ranges ("8000-8001/tcp") spread; -P adds
// the exposed ports that have no binding, each on an ephemeral port.
function portsOf(bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null>, exposed: Record<string, unknown>): PortSpec[] {
  const out: PortSpec[] = [];
  const parse = (key: string) => {
    const [range, proto = 'tcp'] = key.split('/');
    if (proto !== 'tcp' && proto !== 'udp') throw invalidArgument(`invalid HostConfig.PortBindings port ${JSON.stringify(key)}: protocol ${proto} is not supported`);
    const [a, b = a] = range.split('-').map(Number);
    return { from: a, to: b, proto: proto as 'tcp' | 'udp' };
  };
  for (const [key, list] of Object.entries(bindings)) {
    const { from, to, proto } = parse(key);
    for (const bnd of list ?? [{}]) {
      const hp = bnd?.HostPort ?? '';
      const [h1, h2] = hp ? hp.split('-').map(Number) : [0, 0];
      const hostIP = bnd?.HostIp ?? '';
      if (hostIP.includes(':')) throw invalidArgument(`invalid HostConfig.PortBindings host IP ${JSON.stringify(hostIP)}: IPv6 is not supported`);
      for (let p = from; p <= to; p++) {
        // A host range for one container port: its first port (dockerd picks a free one of the range).
        const hostPort = !h1 ? 0 : h2 && to > from ? h1 + (p - from) : h1;
        if (h2 && to > from && h2 - h1 !== to - from) throw invalidArgument(`invalid port range: ${hp} does not match ${range(key)}`);
        out.push({ containerPort: p, protocol: proto, hostIP: hostIP === '0.0.0.0' ? '' : hostIP, hostPort });
      }
    }
  }
  for (const key of Object.keys(exposed)) {
    if (key in bindings) continue;
    const { from, to, proto } = parse(key);
    for (let p = from; p <= to; p++) out.push({ containerPort: p, protocol: proto, hostIP: '', hostPort: 0 });
  }
  return out;
}

const range = (key: string) => key.split('/')[0];
