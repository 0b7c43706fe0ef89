// The docker CLI's network flags of run/create: --network (a name, or the
// long syntax name=…,alias=…,ip=…), --network-alias, --link, --ip, --ip6,
// --mac-address, --link-local-ip, and the endpoints they make
// (NetworkingConfig.EndpointsConfig); --add-host, --dns-search and --link
// values as docker's validators check them.
import type { EndpointSettings } from '../../api/types';
import { readCSVRecord } from './csv';
import { validateIPAddress, validMAC } from './ip';

export interface NetworkAttachment {
  target: string;
  aliases: string[];
  links: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  linkLocalIPs: string[];
  driverOpts?: Record<string, string>;
  gwPriority: number;
}

function attachment(target: string): NetworkAttachment {
  return { target, aliases: [], links: [], ipv4: '', ipv6: '', mac: '', linkLocalIPs: [], gwPriority: 0 };
}

// opts.NetworkOpt.Set: the long syntax when the value looks like key=value.
export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return attachment(value);
  const n = attachment('');
  for (const field of readCSVRecord(value)) {
    // docker lowercases the whole field, the value too.
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.target = val;
        break;
      case 'alias':
        n.aliases.push(val);
        break;
      case 'ip':
        n.ipv4 = val;
        break;
      case 'ip6':
        n.ipv6 = val;
        break;
      case 'mac-address':
        n.mac = val;
        break;
      case 'link-local-ip':
        n.linkLocalIPs.push(val);
        break;
      case 'driver-opt': {
        const e = val.indexOf('=');
        if (e <= 0) throw new Error('invalid key value pair format in driver options');
        (n.driverOpts ??= {})[val.slice(0, e).trim()] = val.slice(e + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
        n.gwPriority = Number(val);
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (!n.target) throw new Error('network name/id is not specified');
  return n;
}

// container.NetworkMode.IsUserDefined.
export function isUserDefined(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

export interface ContainerNetworkFlags {
  networks: string[];
  aliases: string[];
  links: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  linkLocalIPs: string[];
}

function conflict(what: string): Error {
  return new Error(`conflicting options: ${what}`);
}

// applyContainerOptions: the plain flags go to the first network.
function applyFlags(n: NetworkAttachment, f: ContainerNetworkFlags): void {
  if (n.aliases.length && f.aliases.length) throw conflict('cannot specify both --network-alias and per-network alias');
  if (n.links.length && f.links.length) throw conflict('cannot specify both --link and per-network links');
  if (n.ipv4 && f.ipv4) throw conflict('cannot specify both --ip and per-network IPv4 address');
  if (n.ipv6 && f.ipv6) throw conflict('cannot specify both --ip6 and per-network IPv6 address');
  if (n.mac && f.mac) throw conflict('cannot specify both --mac-address and per-network MAC address');
  if (n.linkLocalIPs.length && f.linkLocalIPs.length) throw conflict('cannot specify both --link-local-ip and per-network link-local IP addresses');
  if (f.aliases.length) n.aliases = [...f.aliases];
  // On a user-defined network a link is an alias; on the default bridge a legacy link (HostConfig.Links).
  if (isUserDefined(n.target) && f.links.length) n.links = [...f.links];
  if (f.ipv4) n.ipv4 = f.ipv4;
  if (f.ipv6) n.ipv6 = f.ipv6;
  if (f.mac) n.mac = f.mac;
  if (f.linkLocalIPs.length) n.linkLocalIPs = [...f.linkLocalIPs];
}

// parseNetworkAttachmentOpt: one endpoint, in the field order of Go's EndpointSettings.
function endpoint(n: NetworkAttachment): EndpointSettings {
  if (n.target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefined(n.target)) {
    if (n.aliases.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (n.links.length) throw new Error('links are only supported for user-defined networks');
  }
  const ep: EndpointSettings = {};
  if (n.ipv4 || n.ipv6 || n.linkLocalIPs.length) {
    ep.IPAMConfig = {
      ...(n.ipv4 ? { IPv4Address: n.ipv4 } : {}),
      ...(n.ipv6 ? { IPv6Address: n.ipv6 } : {}),
      ...(n.linkLocalIPs.length ? { LinkLocalIPs: n.linkLocalIPs } : {}),
    };
  }
  if (n.links.length) ep.Links = n.links;
  if (n.aliases.length) ep.Aliases = n.aliases;
  if (n.driverOpts) ep.DriverOpts = n.driverOpts;
  if (n.gwPriority) ep.GwPriority = n.gwPriority;
  if (n.mac) {
    if (!validMAC(n.mac.trim())) throw new Error(`${n.mac} is not a valid mac address`);
    ep.MacAddress = n.mac;
  }
  return ep;
}

// parseNetworkOpts: NetworkingConfig.EndpointsConfig and HostConfig.NetworkMode.
export function networkEndpoints(f: ContainerNetworkFlags): { mode: string; endpoints: Record<string, EndpointSettings> } {
  const endpoints: Record<string, EndpointSettings> = {};
  const nets = f.networks.map(parseNetworkOpt);
  if (!nets.length) {
    const n = attachment('default');
    applyFlags(n, f);
    endpoints.default = endpoint(n);
  }
  let userDefined = false;
  let other = false;
  nets.forEach((n, i) => {
    if (isUserDefined(n.target)) userDefined = true;
    else other = true;
    if (i === 0) applyFlags(n, f);
    const ep = endpoint(n);
    if (endpoints[n.target]) throw new Error(`network ${JSON.stringify(n.target)} is specified multiple times`);
    // One network with nothing to say about it: no endpoint (the daemon makes one).
    if (i === 0 && nets.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[n.target] = ep;
  });
  if (userDefined && other) throw conflict('cannot attach both user-defined and non-user-defined network-modes');
  return { mode: nets[0]?.target ?? 'default', endpoints };
}

// opts.ValidateExtraHost: host:ip or host=ip (ip may be bracketed, or
// host-gateway), sent as host:ip.
export function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? '' : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v[0] === '[' && v[v.length - 1] === ']') v = v.slice(1, -1);
    try {
      validateIPAddress(v);
    } catch {
      throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
    }
  }
  return `${k}:${v}`;
}

// opts.ValidateLink: name or name:alias.
export function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error(`bad format for links: ${val}`);
  return val;
}

const DOMAIN = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

// opts.ValidateDNSSearch.
export function validateDNSSearch(val: string): string {
  val = val.replace(/^ +| +$/g, '');
  if (val === '.') return val;
  const m = /[a-zA-Z]/.test(val) ? DOMAIN.exec(val) : null;
  if (m && m[1].length < 255) return m[1];
  throw new Error(`${val} is not a valid domain`);
}

// opts.ValidateMACAddress for --mac-address (checked in parse, not as a flag).
export function checkMAC(mac: string): void {
  if (mac && !validMAC(mac.trim())) throw new Error(`${mac} is not a valid mac address`);
}
