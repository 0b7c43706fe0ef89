// berth port: a container's published ports from its inspect
// (NetworkSettings.Ports), one "PRIVATE -> HOST:PORT" line each, or the
// host addresses of one private port; naturally sorted, as docker.
import type { PortBinding } from '../../../api/types';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { naturalCompare } from '../../output/natural';

// net.JoinHostPort.
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function portLines(ports: Record<string, PortBinding[] | null> | null | undefined, container: string, want?: string): string[] {
  const out: string[] = [];
  if (want) {
    const slash = want.indexOf('/');
    const port = slash < 0 ? want : want.slice(0, slash);
    const proto = slash < 0 || want.slice(slash + 1) === '' ? 'tcp' : want.slice(slash + 1);
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      const why = /^\d+$/.test(port) ? 'value out of range' : 'invalid syntax';
      throw new StatusError(1, `Error: invalid port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: ${why}`);
    }
    const frontends = ports?.[`${port}/${proto}`];
    if (!frontends?.length) throw new StatusError(1, `Error: No public port '${want}' published for ${container}`);
    for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
  } else {
    for (const [from, frontends] of Object.entries(ports ?? {})) {
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
    }
  }
  return out.sort(naturalCompare);
}

export const portCommand: Command = {
  name: 'port',
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  minArgs: 1,
  maxArgs: 2,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const [container, want] = p.args;
    const c = await ctx.client().get<{ NetworkSettings?: { Ports?: Record<string, PortBinding[] | null> | null } }>(`/containers/${encodeURIComponent(container)}/json`);
    const lines = portLines(c?.NetworkSettings?.Ports, container, want);
    if (lines.length) ctx.out.write(`${lines.join('\n')}\n`);
  },
};
