// berth import, and the import request `base` uses.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UsageError } from '../../args';
import { HELP_FLAG, type Command, type Context } from '../../command';
import { splitReference } from '../../output/format';
import { displayStream, terminalOf } from '../../output/jsonmessage';

// POST /images/create?fromSrc=- with the tar as the body; prints the image id.
export async function importTar(
  ctx: Context,
  body: Readable,
  ref: string | undefined,
  opts: { message?: string; changes?: string[]; platform?: string } = {},
): Promise<void> {
  let repo: string | undefined;
  let tag: string | undefined;
  if (ref) {
    const r = splitReference(ref);
    if (r.digest) throw new UsageError(`invalid reference format: ${ref} (a digest cannot be imported to)`);
    repo = r.name;
    tag = r.tag || undefined;
  }
  const res = await ctx.client().request('POST', '/images/create', {
    query: {
      fromSrc: '-',
      repo,
      tag,
      message: opts.message || undefined,
      changes: opts.changes?.length ? opts.changes : undefined,
      platform: opts.platform || undefined,
    },
    body,
    // docker sends text/plain here; match it.
    headers: { 'Content-Type': 'text/plain' },
  });
  await displayStream(res.body, ctx.out, terminalOf(ctx.out));
}

export const importCommand: Command = {
  name: 'import',
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { name: 'change', short: 'c', type: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', desc: 'Set commit message for imported image' },
    // berthd imports for its own platform.
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable', unsupported: true },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const [src, ref] = p.args;
    if (/^https?:\/\//.test(src)) throw new UsageError('importing from a URL is not supported by berth');
    let body: Readable;
    if (src === '-') body = ctx.in;
    else {
      const file = createReadStream(src);
      // Fail on a missing file before talking to the daemon.
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve());
        file.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ENOENT' ? `open ${src}: no such file or directory` : e.message)));
      });
      body = file;
    }
    await importTar(ctx, body, ref, { message: p.flags.message, changes: p.flags.change, platform: p.flags.platform });
    return 0;
  },
};
