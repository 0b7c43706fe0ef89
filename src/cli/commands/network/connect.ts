// berth network connect: docker's endpoint settings for the container.
import type { FlagSpec } from '../../args';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { validateLink } from '../../opts/network';
import { splitStrings } from './options';

// convertDriverOpt.
function driverOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of values) {
    const eq = o.indexOf('=');
    const k = (eq < 0 ? o : o.slice(0, eq)).trim();
    if (eq < 0 || k === '') throw new StatusError(1, 'invalid key/value pair format in driver options');
    out[k] = o.slice(eq + 1).trim();
  }
  return out;
}

const FLAGS: FlagSpec[] = [
  { name: 'alias', type: 'list', meta: 'strings', desc: 'Add network-scoped alias for the container' },
  { name: 'driver-opt', type: 'list', meta: 'strings', desc: 'driver options for the network' },
  { name: 'gw-priority', type: 'int', desc: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
  HELP_FLAG,
  { name: 'ip', type: 'string', desc: 'IPv4 address (e.g., "172.30.100.104")' },
  { name: 'ip6', type: 'string', desc: 'IPv6 address (e.g., "2001:db8::33")' },
  { name: 'link', type: 'list', desc: 'Add link to another container', validate: validateLink },
  { name: 'link-local-ip', type: 'list', meta: 'strings', desc: 'Add a link-local address for the container' },
];

export const networkConnectCommand: Command = {
  name: 'connect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  minArgs: 2,
  maxArgs: 2,
  flags: FLAGS,
  async run(ctx, p) {
    const f = p.flags;
    const [network, container] = p.args;
    const linkLocal = splitStrings(f['link-local-ip']);
    const body = {
      Container: container.trim(),
      EndpointConfig: {
        IPAMConfig: {
          ...(f.ip ? { IPv4Address: f.ip } : {}),
          ...(f.ip6 ? { IPv6Address: f.ip6 } : {}),
          ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}),
        },
        Links: f.link.length ? f.link : null,
        Aliases: splitStrings(f.alias),
        MacAddress: '',
        DriverOpts: driverOpts(splitStrings(f['driver-opt'])),
        GwPriority: f['gw-priority'] ?? 0,
        // The rest of Go's EndpointSettings, at its zero values.
        NetworkID: '',
        EndpointID: '',
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        DNSNames: null,
      },
    };
    await ctx.client().call('POST', `/networks/${encodeURIComponent(network.trim())}/connect`, { body });
  },
};
