// berth ps: docker's default container table.
import type { ContainerSummary, Port } from '../../../api/types';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { loadConfig } from '../../config';
import { familiarImage, truncateId } from '../../output/format';
import { containerContext, containerFormat, CONTAINER_HEADER, formatWrite, headerContext } from '../../output/formatter';
import { executeTemplate, parseTemplate, TemplateError } from '../../output/template';
import { parseFilters } from '../filters';

function containerImage(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? '';
  if (!image) return '<no image>';
  if (!trunc) return image;
  if (c.ImageID && truncateId(c.ImageID) === truncateId(image)) return truncateId(image);
  // A 64-hex name is an id, not a reference (docker's parser rejects it).
  if (/^[a-f0-9]{64}$/.test(image) || /[A-Z]/.test(image)) return image;
  return familiarImage(image);
}

function containerNames(c: ContainerSummary, trunc: boolean): string {
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  // Truncated output shows one name, skipping legacy link names ("a/b").
  if (trunc) return names.find((n) => !n.includes('/')) ?? '';
  return names.join(',');
}

// docker's DisplayablePorts: groups consecutive private ports, then host mappings.
export function displayPorts(ports: Port[] = []): string {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      cmp(a.IP ?? '', b.IP ?? '') ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      cmp(a.Type, b.Type),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const joinHost = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const formGroup = (key: string, first: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let group = first === last ? String(first) : `${first}-${last}`;
    if (ip) group = `${joinHost(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    let key: string = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        hostMappings.push(`${joinHost(p.IP, String(p.PublicPort))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
      order.push(key);
      continue;
    }
    if (p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
  }
  for (const key of order) {
    const g = groups.get(key)!;
    result.push(formGroup(key, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

export const CONTAINER_FIELDS = { image: containerImage, names: containerNames, ports: (c: ContainerSummary) => displayPorts(c.Ports ?? []) };

export function formatContainers(list: ContainerSummary[], opts: { trunc: boolean; size?: boolean; quiet?: boolean; format?: string; now?: number }): string {
  const format = containerFormat(opts.format ?? '', !!opts.quiet, !!opts.size);
  return formatWrite(format, headerContext(CONTAINER_HEADER), list.map((c) => containerContext(c, opts.trunc, CONTAINER_FIELDS, opts.now)));
}

// docker runs a --format template once against an empty container first:
// to report errors before listing, and to see whether it uses {{.Size}}
// (then sizes are requested).
function checkFormat(format: string): { usesSize: boolean } {
  let tmpl;
  try {
    tmpl = parseTemplate(format);
  } catch (e) {
    if (e instanceof TemplateError) throw new StatusError(1, `failed to parse template: ${e.message}`);
    throw e;
  }
  const used = new Set<string>();
  try {
    executeTemplate(tmpl, containerContext({ Id: '' }, false, CONTAINER_FIELDS, Date.now(), used));
  } catch (e) {
    if (e instanceof TemplateError) throw new StatusError(1, `failed to execute template: ${e.message}`);
    throw e;
  }
  return { usesSize: used.has('Size') };
}

export const psCommand: Command = {
  name: 'ps',
  aliases: ['ls', 'list'],
  usage: '[OPTIONS]',
  summary: 'List containers',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    { name: 'last', short: 'n', type: 'int', default: -1, desc: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', desc: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    let last: number = f.last;
    if (f.latest && last === -1) last = 1;
    let format: string = f.format ?? '';
    if (!format) format = loadConfig(ctx).stringField('psFormat');
    else if (f.quiet) ctx.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    let size: boolean = f.size;
    if (format) {
      const { usesSize } = checkFormat(format);
      if (!f.quiet && !size && !p.changed.has('size') && usesSize) size = true;
    }
    const list = await ctx.client().get<ContainerSummary[]>('/containers/json', {
      all: f.all,
      limit: last > 0 ? last : undefined,
      size: size && !f.quiet,
      filters: parseFilters(f.filter),
    });
    ctx.out.write(formatContainers(list ?? [], { trunc: !f['no-trunc'], size, quiet: f.quiet, format }));
    return 0;
  },
};
