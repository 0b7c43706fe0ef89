// berth volume ls: docker's volume table (sorted by name, naturally), -q,
// --filter and --format.
import type { Volume } from '../../../api/types';
import { HELP_FLAG, type Command } from '../../command';
import { loadConfig } from '../../config';
import { humanSize } from '../../output/format';
import { formatWrite, headerContext, RAW_FORMAT, TABLE_FORMAT } from '../../output/formatter';
import { naturalCompare } from '../../output/natural';
import { GoStruct } from '../../output/template';
import { filtersToJSON, parseFilterFlags } from '../filters';

export const VOLUME_HEADER = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

export function volumeFormat(source: string, quiet: boolean): string {
  if (source === TABLE_FORMAT) return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  if (source === RAW_FORMAT) return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\\ndriver: {{.Driver}}\\n';
  return source;
}

export function volumeContext(v: Volume): GoStruct {
  return new GoStruct('*formatter.volumeContext', {
    Name: () => v.Name,
    Driver: () => v.Driver,
    Scope: () => v.Scope,
    Mountpoint: () => v.Mountpoint,
    // A Go map's order: docker's is random, berth's the daemon's.
    Labels: () => (v.Labels ? Object.entries(v.Labels).map(([k, x]) => `${k}=${x}`).join(',') : ''),
    Label: (name: string) => v.Labels?.[String(name)] ?? '',
    Links: () => (v.UsageData ? String(v.UsageData.RefCount) : 'N/A'),
    Size: () => (v.UsageData ? humanSize(v.UsageData.Size, 4) : 'N/A'),
    // Cluster volumes (swarm's) only.
    Group: () => 'N/A',
    Availability: () => 'N/A',
    Status: () => 'N/A',
  });
}

export function formatVolumes(list: Volume[], opts: { format: string; quiet: boolean }): string {
  const sorted = [...list].sort((a, b) => naturalCompare(a.Name, b.Name));
  return formatWrite(volumeFormat(opts.format, opts.quiet), headerContext(VOLUME_HEADER), sorted.map(volumeContext));
}

export const volumeLsCommand: Command = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  summary: 'List volumes',
  maxArgs: 0,
  flags: [
    // Swarm's cluster volumes: berth has none.
    { name: 'cluster', type: 'bool', desc: 'Display only cluster volumes, and use cluster volume list formatting', unsupported: true },
    { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "dangling=true")' },
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    HELP_FLAG,
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display volume names' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters = parseFilterFlags(f.filter, '-f, --filter');
    const res = await ctx.client().get<{ Volumes?: Volume[] | null; Warnings?: string[] | null }>('/volumes', { filters: filtersToJSON(filters) });
    let format: string = f.format ?? '';
    if (!format) {
      const cfg = loadConfig(ctx).stringField('volumesFormat');
      format = cfg && !f.quiet ? cfg : TABLE_FORMAT;
    }
    ctx.out.write(formatVolumes(res?.Volumes ?? [], { format, quiet: f.quiet }));
  },
};
