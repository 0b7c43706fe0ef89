// berth network ls: docker's network table (sorted by name, naturally),
// -q, --no-trunc, --filter and --format.
import { HELP_FLAG, type Command } from '../../command';
import { loadConfig } from '../../config';
import { truncateId } from '../../output/format';
import { formatWrite, headerContext, QUIET_FORMAT, RAW_FORMAT, TABLE_FORMAT } from '../../output/formatter';
import { naturalCompare } from '../../output/natural';
import { GoStruct } from '../../output/template';
import { filtersToJSON, parseFilterFlags } from '../filters';

export interface NetworkSummary {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

// Go's time.Time.String of a time the daemon sent as RFC 3339 (its zone as
// parsed: UTC for "Z", else the bare offset).
export function goTimeStringNano(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))$/.exec(rfc3339);
  if (!m) return '0001-01-01 00:00:00 +0000 UTC';
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[5]}${m[6]}${m[7]} ${m[5]}${m[6]}${m[7]}`;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${zone}`;
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export const NETWORK_HEADER = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

export function networkFormat(source: string, quiet: boolean): string {
  if (source === TABLE_FORMAT) return quiet ? QUIET_FORMAT : DEFAULT_TABLE;
  if (source === RAW_FORMAT) return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  return source;
}

export function networkContext(n: NetworkSummary, trunc: boolean): GoStruct {
  return new GoStruct('*network.networkContext', {
    ID: () => (trunc ? truncateId(n.Id) : n.Id),
    Name: () => n.Name,
    Driver: () => n.Driver ?? '',
    Scope: () => n.Scope ?? '',
    IPv4: () => String(Boolean(n.EnableIPv4)),
    IPv6: () => String(Boolean(n.EnableIPv6)),
    Internal: () => String(Boolean(n.Internal)),
    // A Go map's order: docker's is random, berth's the daemon's.
    Labels: () => (n.Labels ? Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(',') : ''),
    Label: (name: string) => n.Labels?.[String(name)] ?? '',
    CreatedAt: () => goTimeStringNano(n.Created ?? ''),
  });
}

export function formatNetworks(list: NetworkSummary[], opts: { format: string; quiet: boolean; trunc: boolean }): string {
  const sorted = [...list].sort((a, b) => naturalCompare(a.Name, b.Name));
  return formatWrite(networkFormat(opts.format, opts.quiet), headerContext(NETWORK_HEADER), sorted.map((n) => networkContext(n, opts.trunc)));
}

export const networkLsCommand: Command = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  summary: 'List networks',
  maxArgs: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "driver=bridge")' },
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    HELP_FLAG,
    { name: 'no-trunc', type: 'bool', desc: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display network IDs' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters = parseFilterFlags(f.filter, '-f, --filter');
    const list = await ctx.client().get<NetworkSummary[]>('/networks', { filters: filtersToJSON(filters) });
    let format: string = f.format ?? '';
    if (!format) {
      const cfg = loadConfig(ctx).stringField('networksFormat');
      format = cfg && !f.quiet ? cfg : TABLE_FORMAT;
    }
    ctx.out.write(formatNetworks(list ?? [], { format, quiet: f.quiet, trunc: !f['no-trunc'] }));
  },
};
