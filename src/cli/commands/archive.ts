// save, load, export, commit, history and image prune.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { HELP_FLAG, StatusError, type Command, type Context } from '../command';
import { humanSize } from '../format';
import { formatWrite, headerContext, historyContext, historyFormat, HISTORY_HEADER, TABLE_FORMAT, type HistoryItem } from '../formatter';
import { AtomicFile, copyToOut, isTTY, loadConfig, pathError, readLine } from '../io';
import { displayStream, terminalOf } from '../jsonmessage';
import { ReferenceError, fullName, parseNormalizedNamed, withDefaultTag } from '../../oci/reference';
import { parseFilterFlags, filtersToJSON } from './filters';

const REFUSE_TERMINAL = 'cowardly refusing to save to a terminal. Use the -o flag or redirect';

export function objectPath(prefix: string, name: string, suffix = ''): string {
  return `${prefix}/${name.split('/').map(encodeURIComponent).join('/')}${suffix}`;
}

// Streams a tar response to -o FILE (atomically) or to stdout (never a terminal).
async function writeTar(ctx: Context, output: string | undefined, what: string, get: () => Promise<Readable>): Promise<void> {
  // A body cut short by the daemon is an error, as in Go's io.Copy.
  const cut = (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    return err?.code === 'ECONNRESET' || err?.message === 'aborted' ? new Error('unexpected EOF') : e;
  };
  if (!output) {
    if (isTTY(ctx.out)) throw new StatusError(1, REFUSE_TERMINAL);
    const body = await get();
    await copyToOut(body, ctx.out).catch((e) => {
      throw cut(e);
    });
    return;
  }
  const file = AtomicFile.create(output, what);
  let body: Readable;
  try {
    body = await get();
  } catch (e) {
    file.abort();
    throw e;
  }
  await file.fill(body).catch((e) => {
    throw cut(e);
  });
}

export const saveCommand: Command = {
  name: 'save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [
    { name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' },
    { name: 'platform', type: 'string', desc: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    await writeTar(ctx, p.flags.output, 'failed to save image', async () => {
      const res = await ctx.client().request('GET', '/images/get', { query: { names: p.args, platform: platformJSON(p.flags.platform) } });
      return res.body;
    });
    return 0;
  },
};

// The API's platform parameter: JSON of an OCI platform.
function platformJSON(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const [os, architecture, variant] = s.toLowerCase().split('/');
  if (!os) throw new StatusError(1, `invalid platform: "${s}": unknown operating system or architecture: invalid argument`);
  const p: Record<string, string> = { architecture: architecture ?? process.arch.replace('x64', 'amd64'), os };
  if (variant) p.variant = variant;
  return JSON.stringify(p);
}

export const loadCommand: Command = {
  name: 'load',
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  maxArgs: 0,
  flags: [
    { name: 'input', short: 'i', type: 'string', desc: 'Read from tar archive file, instead of STDIN' },
    { name: 'platform', type: 'string', desc: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the load output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    let input: Readable = ctx.in;
    if (!f.input) {
      if (isTTY(ctx.in)) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
    } else {
      let fd: number;
      try {
        fd = fs.openSync(f.input, 'r');
      } catch (e) {
        throw new StatusError(1, pathError('open', f.input, e).message);
      }
      input = fs.createReadStream('', { fd });
    }
    const quiet = f.quiet || !isTTY(ctx.out);
    const res = await ctx.client().request('POST', '/images/load', {
      query: { quiet: quiet ? '1' : '0', platform: platformJSON(f.platform) },
      body: input,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
      await displayStream(res.body, ctx.out, terminalOf(ctx.out));
    } else {
      await copyToOut(res.body, ctx.out);
    }
    return 0;
  },
};

export const exportCommand: Command = {
  name: 'export',
  usage: '[OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' }, HELP_FLAG],
  async run(ctx, p) {
    const id = p.args[0].trim();
    await writeTar(ctx, p.flags.output, 'failed to export container', async () => {
      if (!id) throw new StatusError(1, 'invalid container name or ID: value is empty');
      const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(id)}/export`);
      return res.body;
    });
    return 0;
  },
};

export const commitCommand: Command = {
  name: 'commit',
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  minArgs: 1,
  maxArgs: 2,
  interspersed: false,
  flags: [
    { name: 'author', short: 'a', type: 'string', desc: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', desc: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, desc: 'Pause container during commit' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const id = p.args[0].trim();
    if (!id) throw new StatusError(1, 'invalid container name or ID: value is empty');
    let repo: string | undefined;
    let tag: string | undefined;
    if (p.args[1]) {
      let ref;
      try {
        ref = parseNormalizedNamed(p.args[1]);
      } catch (e) {
        if (e instanceof ReferenceError) throw new StatusError(1, e.message);
        throw e;
      }
      if (ref.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      ref = withDefaultTag(ref);
      repo = fullName(ref);
      tag = ref.tag;
    }
    const r = await ctx.client().json<{ Id: string }>('POST', '/commit', {
      query: {
        container: id,
        repo: repo ?? '',
        tag: tag ?? '',
        comment: f.message ?? '',
        author: f.author ?? '',
        changes: f.change.length ? f.change : undefined,
        pause: f.pause ? undefined : '0',
      },
    });
    ctx.out.write(`${r.Id}\n`);
    return 0;
  },
};

export const historyCommand: Command = {
  name: 'history',
  usage: '[OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'format', type: 'string', desc: 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template.' },
    { name: 'human', short: 'H', type: 'bool', default: true, desc: 'Print sizes and dates in human readable format' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'platform', type: 'string', desc: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const items = await ctx.client().get<HistoryItem[]>(objectPath('/images', p.args[0], '/history'), { platform: platformJSON(f.platform) });
    const format = historyFormat(f.format || TABLE_FORMAT, f.quiet, f.human);
    const trunc = !f['no-trunc'];
    ctx.out.write(formatWrite(format, headerContext(HISTORY_HEADER), (items ?? []).map((h) => historyContext(h, trunc, f.human))));
    return 0;
  },
};

const ALL_IMAGES_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

// docker's prompt.Confirm: the question, " [y/N] ", and one line of stdin.
export async function confirm(ctx: Context, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  const answer = await readLine(ctx.in);
  return (answer ?? '').trim().toLowerCase() === 'y';
}

export const imagePruneCommand: Command = {
  name: 'prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused images',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters = parseFilterFlags(f.filter);
    filters.set('dangling', [String(!f.all)]);
    // pruneFilters from config.json, unless the command line says otherwise.
    const cfg = loadConfig(ctx);
    const extra = Array.isArray(cfg.data.pruneFilters) ? (cfg.data.pruneFilters as unknown[]) : [];
    for (const e of extra) {
      if (typeof e !== 'string' || !e.includes('=')) continue;
      const [k, v] = [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)];
      if (k === 'label' && filters.get('label!')?.includes(v)) continue;
      if (k === 'label!' && filters.get('label')?.includes(v)) continue;
      const cur = filters.get(k) ?? [];
      if (!cur.includes(v)) filters.set(k, [...cur, v]);
    }
    if (!f.force && !(await confirm(ctx, f.all ? ALL_IMAGES_WARNING : DANGLING_WARNING))) return 0;
    const report = await ctx.client().json<{ ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number }>('POST', '/images/prune', {
      query: { filters: filtersToJSON(filters) },
    });
    let reclaimed = 0;
    const deleted = report?.ImagesDeleted ?? [];
    if (deleted.length) {
      let s = 'Deleted Images:\n';
      for (const d of deleted) s += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
      ctx.out.write(`${s}\n`);
      reclaimed = report?.SpaceReclaimed ?? 0;
    }
    ctx.out.write(`Total reclaimed space: ${humanSize(reclaimed, 4)}\n`);
    return 0;
  },
};
