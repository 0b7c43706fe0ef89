// berth inspect (and what container inspect and image inspect share): a
// JSON array like docker's, or one --format line per object.
import { ClientError, readAll } from '../../client/client';
import { UsageError } from '../args';
import { errorText, HELP_FLAG, StatusError, type Command, type Context } from '../command';
import { indentJSON, renderTemplate } from '../output/jsonfmt';
import { goJSON } from '../output/template';

export type Kind = 'container' | 'image' | 'network' | 'volume';

const PATHS: Record<Kind, (ref: string) => string> = {
  container: (r) => `/containers/${r}/json`,
  image: (r) => `/images/${r}/json`,
  network: (r) => `/networks/${r}`,
  volume: (r) => `/volumes/${r}`,
};

// size: a container's sizes (SizeRw, SizeRootFs); verbose: network inspect's
// --verbose; decoded: `volume inspect` prints a volume as it decodes and
// re-encodes it (`inspect` as sent).
interface Options {
  size?: boolean;
  verbose?: boolean;
  decoded?: boolean;
}

async function fetchRaw(ctx: Context, kind: Kind, ref: string, o: Options): Promise<string> {
  const path = PATHS[kind](encodeURIComponent(ref));
  const query = kind === 'container' ? { size: o.size } : kind === 'network' ? { verbose: o.verbose ? 'true' : undefined } : {};
  const res = await ctx.client().request('GET', path, { query });
  const raw = (await readAll(res.body)).toString('utf8');
  return kind === 'volume' && o.decoded ? reshapeVolume(raw) : raw;
}

// Tries each kind in turn; "No such object" when none has it.
async function fetchAny(ctx: Context, kinds: Kind[], ref: string, o: Options): Promise<string> {
  for (const kind of kinds) {
    try {
      return await fetchRaw(ctx, kind, ref, o);
    } catch (err) {
      if (!(err instanceof ClientError && err.status === 404)) throw err;
      if (kinds.length === 1) throw err;
    }
  }
  throw new Error(`Error: No such object: ${ref}`);
}

export async function inspect(ctx: Context, kinds: Kind[], refs: string[], format: string | undefined, size = false, verbose = false, decoded = false): Promise<number> {
  const raws: string[] = [];
  const errs: string[] = [];
  for (const ref of refs) {
    try {
      raws.push(await fetchAny(ctx, kinds, ref, { size, verbose, decoded }));
    } catch (err) {
      errs.push(errorText(err));
    }
  }
  if (format) {
    const tmpl = format === 'json' ? '{{json .}}' : format;
    // As docker's TemplateInspector on the raw JSON: a key the object lacks
    // is an error (missingkey=error), and nothing written at all is a "\n".
    let wrote = '';
    for (const raw of raws) {
      try {
        wrote += renderTemplate(tmpl, JSON.parse(raw), { missingKeyError: true }) + '\n';
      } catch (err) {
        errs.push((err as Error).message);
      }
    }
    ctx.out.write(wrote || '\n');
  } else {
    ctx.out.write(raws.length ? `${indentJSON(`[${raws.join(',')}]`)}\n` : '[]\n');
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
}

function sortedMap(m: unknown): unknown {
  if (!m || typeof m !== 'object') return m;
  return Object.fromEntries(Object.entries(m as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// A volume as Go's volume.Volume encodes it: its fields' order, maps sorted.
function reshapeVolume(raw: string): string {
  const v = JSON.parse(raw);
  const out: Record<string, unknown> = {};
  if (v.ClusterVolume) out.ClusterVolume = v.ClusterVolume;
  if (v.CreatedAt) out.CreatedAt = v.CreatedAt;
  out.Driver = v.Driver ?? '';
  out.Labels = sortedMap(v.Labels ?? null);
  out.Mountpoint = v.Mountpoint ?? '';
  out.Name = v.Name ?? '';
  out.Options = sortedMap(v.Options ?? null);
  out.Scope = v.Scope ?? '';
  if (v.Status && Object.keys(v.Status).length) out.Status = sortedMap(v.Status);
  if (v.UsageData) out.UsageData = { RefCount: v.UsageData.RefCount ?? 0, Size: v.UsageData.Size ?? 0 };
  return goJSON(out, true);
}

export const FORMAT_FLAG = { name: 'format', short: 'f', type: 'string' as const, desc: 'Format output using a custom template' };

export const inspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on Docker objects',
  minArgs: 1,
  flags: [
    FORMAT_FLAG,
    { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', desc: 'Only inspect objects of the given type' },
    HELP_FLAG,
  ],
  run(ctx, p) {
    const type = p.flags.type as string | undefined;
    if (type && !['container', 'image', 'network', 'volume'].includes(type)) throw new UsageError(`"${type}" is not a valid value for --type`);
    const kinds: Kind[] = type ? [type as Kind] : ['container', 'image', 'network', 'volume'];
    return inspect(ctx, kinds, p.args, p.flags.format, p.flags.size);
  },
};
