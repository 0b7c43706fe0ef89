// A container's NetworkSettings (inspect) and Ports (lists), as dockerd
// fills them, from what the network subsystem keeps.
import type { ContainerRecord } from '../../engine/containers/record';
import type { ContainerNet, NetworkRecord } from '../../engine/network/types';

export interface NetworkView {
  container(id: string): ContainerNet | undefined;
  network(id: string): NetworkRecord | undefined;
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

// Ports: published ones with their host ends (while running), and the
// exposed ones without.
export function portMap(c: ContainerRecord, n: ContainerNet | undefined, exposed: Record<string, unknown>): PortMap {
  const out: PortMap = {};
  for (const k of Object.keys(exposed)) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const a of n?.attached ?? []) {
    for (const p of a.ports) {
      const k = `${p.containerPort}/${p.protocol}`;
      (out[k] ??= []).push({ HostIp: p.hostIP || '0.0.0.0', HostPort: String(p.hostPort) });
    }
  }
  void c;
  return out;
}

export function networkSettings(c: ContainerRecord, v: NetworkView, exposed: Record<string, unknown>): Record<string, unknown> {
  const n = v.container(c.id);
  const base = {
    Bridge: '', SandboxID: n?.netns ? c.id : '', SandboxKey: n?.netns ?? '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: portMap(c, n, exposed),
    EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
  };
  if (!n || n.mode !== 'bridge') return { ...base, Networks: undefined };
  const nets: Record<string, unknown> = {};
  for (const e of n.endpoints) {
    const rec = v.network(e.network);
    if (!rec) continue;
    const a = n.attached.find((x) => x.network === e.network);
    nets[rec.name] = {
      IPAMConfig: e.ip ? { IPv4Address: e.ip } : null,
      Links: null,
      Aliases: e.aliases.length ? e.aliases : null,
      MacAddress: a?.mac ?? e.mac ?? '',
      DriverOpts: null,
      GwPriority: 0,
      NetworkID: rec.id,
      EndpointID: a?.endpointId ?? '',
      Gateway: a?.gateway ?? '',
      IPAddress: a?.ip ?? '',
      IPPrefixLen: a?.prefix ?? 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: rec.dns ? [n.name, ...(a?.aliases ?? [...e.aliases, c.id.slice(0, 12)])].filter((x, i, all) => all.indexOf(x) === i) : null,
    };
  }
  // The top-level fields are the default bridge network's, as in dockerd.
  const def = n.attached.find((a) => v.network(a.network)?.name === 'bridge');
  return {
    ...base,
    ...(def ? { EndpointID: def.endpointId, Gateway: def.gateway, IPAddress: def.ip, IPPrefixLen: def.prefix, MacAddress: def.mac } : {}),
    Networks: nets,
  };
}

// The list view's Ports.
export function summaryPorts(c: ContainerRecord, v: NetworkView, exposed: Record<string, unknown>): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  for (const [k, binds] of Object.entries(portMap(c, v.container(c.id), exposed))) {
    const [port, type] = k.split('/');
    if (!binds) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of binds) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}
