// berth network create: docker's request (the IPAM config consolidated
// from --subnet, --ip-range, --gateway and --aux-address by the CLI's
// rules) and the new network's id.
import type { FlagSpec } from '../../args';
import { UsageError } from '../../args';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { netContains, parseCIDR, parseIP } from '../../opts/ip';
import { parseLabels } from '../container/options';
import { parseMapOpts, splitStrings, validateLabel } from './options';

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

// subnetMatches: whether `data` (an address or a CIDR) is inside `subnet`.
function subnetMatches(subnet: string, data: string): boolean {
  let net;
  try {
    net = parseCIDR(subnet).net;
  } catch (e) {
    throw new Error(`invalid subnet: ${(e as Error).message}`);
  }
  const ip = data.includes('/') ? parseCIDR(data).ip : parseIP(data);
  return netContains(net, ip);
}

// createIPAMConfig, in the order the subnets were given (docker walks a Go
// map, so its order is random).
export function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IPAMConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, IPAMConfig>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of ranges) {
    let match = false;
    for (const s of subnets) {
      parseCIDR(r);
      if (!subnetMatches(s, r)) continue;
      const d = data.get(s)!;
      if (d.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${d.IPRange}) on the same subnet (${s})`);
      d.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of gateways) {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, g)) continue;
      const d = data.get(s)!;
      if (d.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${d.Gateway}) for the same subnet (${s})`);
      d.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  for (const [key, a] of Object.entries(aux)) {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, a)) continue;
      data.get(s)!.AuxiliaryAddresses![key] = a;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${a}`);
  }
  // AuxiliaryAddresses is omitempty in Go.
  return [...data.values()].map((d) => (Object.keys(d.AuxiliaryAddresses ?? {}).length ? d : { ...d, AuxiliaryAddresses: undefined }));
}

const FLAGS: FlagSpec[] = [
  { name: 'attachable', type: 'bool', desc: 'Enable manual container attachment' },
  { name: 'aux-address', type: 'list', meta: 'map', desc: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
  { name: 'config-from', type: 'string', desc: 'The network from which to copy the configuration' },
  { name: 'config-only', type: 'bool', desc: 'Create a configuration only network' },
  { name: 'driver', short: 'd', type: 'string', default: 'bridge', desc: 'Driver to manage the Network' },
  { name: 'gateway', type: 'list', meta: 'strings', desc: 'IPv4 or IPv6 Gateway for the master subnet' },
  HELP_FLAG,
  // Swarm's routing mesh: berth has no swarm.
  { name: 'ingress', type: 'bool', desc: 'Create swarm routing-mesh network', unsupported: true },
  { name: 'internal', type: 'bool', desc: 'Restrict external access to the network' },
  { name: 'ip-range', type: 'list', meta: 'strings', desc: 'Allocate container ip from a sub-range' },
  { name: 'ipam-driver', type: 'string', default: 'default', desc: 'IP Address Management Driver' },
  { name: 'ipam-opt', type: 'list', meta: 'map', desc: 'Set IPAM driver specific options (default map[])' },
  { name: 'ipv4', type: 'bool', default: true, desc: 'Enable or disable IPv4 address assignment' },
  { name: 'ipv6', type: 'bool', desc: 'Enable or disable IPv6 address assignment' },
  { name: 'label', type: 'list', desc: 'Set metadata on a network', validate: validateLabel },
  { name: 'opt', short: 'o', type: 'list', meta: 'map', desc: 'Set driver specific options (default map[])' },
  { name: 'scope', type: 'string', desc: "Control the network's scope" },
  { name: 'subnet', type: 'list', meta: 'strings', desc: 'Subnet in CIDR format that represents a network segment' },
];

export const networkCreateCommand: Command = {
  name: 'create',
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  minArgs: 1,
  maxArgs: 1,
  flags: FLAGS,
  async run(ctx, p) {
    const f = p.flags;
    let config: IPAMConfig[];
    try {
      config = ipamConfig(splitStrings(f.subnet), splitStrings(f['ip-range']), splitStrings(f.gateway), parseMapOpts(f['aux-address']));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new StatusError(1, (e as Error).message);
    }
    const body = {
      Name: p.args[0],
      Driver: f.driver,
      Scope: f.scope ?? '',
      // Only when given: the daemon's default otherwise.
      ...(p.changed.has('ipv4') ? { EnableIPv4: f.ipv4 } : {}),
      ...(p.changed.has('ipv6') ? { EnableIPv6: f.ipv6 } : {}),
      IPAM: { Driver: f['ipam-driver'], Options: parseMapOpts(f['ipam-opt']), Config: config },
      Internal: f.internal,
      Attachable: f.attachable,
      Ingress: f.ingress,
      ConfigOnly: f['config-only'],
      ConfigFrom: f['config-from'] ? { Network: f['config-from'] } : null,
      Options: parseMapOpts(f.opt),
      Labels: parseLabels(f.label),
    };
    const res = await ctx.client().json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body });
    ctx.out.write(`${res.Id}\n`);
  },
};
