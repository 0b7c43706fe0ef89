// berth inspect (and what container inspect and image inspect share): a
// JSON array like docker's, or one --format line per object.
import { ClientError, readAll } from '../../client/client';
import { UsageError } from '../args';
import { errorText, HELP_FLAG, StatusError, type Command, type Context } from '../command';
import { indentJSON, renderTemplate } from '../output/jsonfmt';

export type Kind = 'container' | 'image' | 'network' | 'volume';

const PATHS: Record<Kind, (ref: string) => string> = {
  container: (r) => `/containers/${r}/json`,
  image: (r) => `/images/${r}/json`,
  network: (r) => `/networks/${r}`,
  volume: (r) => `/volumes/${r}`,
};

// size: a container's sizes (SizeRw, SizeRootFs); verbose: network inspect's --verbose.
interface Options {
  size?: boolean;
  verbose?: boolean;
}

async function fetchRaw(ctx: Context, kind: Kind, ref: string, o: Options): Promise<string> {
  const path = PATHS[kind](encodeURIComponent(ref));
  const query = kind === 'container' ? { size: o.size } : kind === 'network' ? { verbose: o.verbose ? 'true' : undefined } : {};
  const res = await ctx.client().request('GET', path, { query });
  return (await readAll(res.body)).toString('utf8');
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

// reshape: the object as docker prints it when it decodes and re-encodes it
// (a volume: Go's struct order, sorted maps).
export async function inspect(ctx: Context, kinds: Kind[], refs: string[], format: string | undefined, size = false, verbose = false, reshape?: (raw: string) => string): Promise<number> {
  const raws: string[] = [];
  const errs: string[] = [];
  for (const ref of refs) {
    try {
      const raw = await fetchAny(ctx, kinds, ref, { size, verbose });
      raws.push(reshape ? reshape(raw) : raw);
    } catch (err) {
      errs.push(errorText(err));
    }
  }
  if (format) {
    const tmpl = format === 'json' ? '{{json .}}' : format;
    for (const raw of raws) ctx.out.write(renderTemplate(tmpl, JSON.parse(raw)) + '\n');
  } else {
    ctx.out.write(raws.length ? `${indentJSON(`[${raws.join(',')}]`)}\n` : '[]\n');
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
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
