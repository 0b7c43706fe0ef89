// import, tag, rmi, and berth's own `base busybox`.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ImageDeleteItem } from '../../api/types';
import { UsageError } from '../args';
import { errorText, HELP_FLAG, StatusError, type Command, type Context } from '../command';
import { splitReference } from '../format';
import { displayStream, terminalOf } from '../jsonmessage';

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
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
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

export const tagCommand: Command = {
  name: 'tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  minArgs: 2,
  maxArgs: 2,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const [source, target] = p.args;
    const r = splitReference(target);
    if (r.digest) throw new StatusError(1, `refusing to create a tag with a digest reference`);
    await ctx.client().call('POST', `/images/${encodeURIComponent(source)}/tag`, {
      query: { repo: r.name, tag: r.tag || 'latest' },
    });
    return 0;
  },
};

export const rmiCommand: Command = {
  name: 'rmi',
  aliases: ['rm', 'remove'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', desc: 'Do not delete untagged parents' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const errs: string[] = [];
    for (const name of p.args) {
      try {
        const items = await ctx.client().json<ImageDeleteItem[]>('DELETE', `/images/${encodeURIComponent(name)}`, {
          query: { force: p.flags.force, noprune: p.flags['no-prune'] },
        });
        for (const it of items ?? []) {
          if (it.Untagged) ctx.out.write(`Untagged: ${it.Untagged}\n`);
          if (it.Deleted) ctx.out.write(`Deleted: ${it.Deleted}\n`);
        }
      } catch (err) {
        errs.push(errorText(err));
      }
    }
    if (errs.length) throw new StatusError(1, errs.join('\n'));
    return 0;
  },
};

export const baseBusyboxCommand: Command = {
  name: 'busybox',
  usage: '[OPTIONS]',
  summary: "Import a busybox base image built from the host's busybox binary",
  maxArgs: 0,
  flags: [
    { name: 'tag', type: 'string', default: 'busybox:latest', desc: 'Name and tag for the image' },
    { name: 'binary', type: 'string', default: '/bin/busybox', desc: 'Static busybox binary to use' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    // Loaded on demand: tar-stream is only needed here.
    const { busyboxTar } = await import('../base/busybox');
    let tar: Readable;
    try {
      tar = busyboxTar(p.flags.binary) as unknown as Readable;
    } catch (err) {
      throw new StatusError(1, `berth: cannot build the busybox image: ${errorText(err)}`);
    }
    // tar-stream's pack is a streamx stream; wrap it for node:http.
    const body = tar instanceof Readable ? tar : Readable.from(tar as AsyncIterable<Buffer>);
    await importTar(ctx, body, p.flags.tag);
    return 0;
  },
};

export const baseDebianCommand: Command = {
  name: 'debian',
  usage: '[OPTIONS]',
  summary: "Build a Debian base image with mmdebstrap (needs Debian's archive)",
  maxArgs: 0,
  flags: [
    { name: 'suite', type: 'string', default: 'bookworm', desc: 'Debian release (bookworm, trixie, stable, ...)' },
    { name: 'tag', type: 'string', desc: 'Name and tag for the image (default "debian:SUITE")' },
    { name: 'variant', type: 'string', default: 'minbase', desc: "mmdebstrap variant (minbase, apt, required, important, standard)" },
    { name: 'mirror', type: 'string', desc: 'Debian mirror URL (default: mmdebstrap\'s, from the host\'s apt sources)' },
    { name: 'arch', type: 'string', desc: 'Architecture (default: the host\'s)' },
    { name: 'include', type: 'list', desc: 'Extra packages to install' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { debianTar, MissingToolError } = await import('../base/debian');
    const { tar, child, started } = debianTar({ suite: f.suite, variant: f.variant, mirror: f.mirror, arch: f.arch, include: f.include, stderr: ctx.err });
    try {
      await started;
    } catch (err) {
      if (err instanceof MissingToolError) throw new StatusError(1, `berth: ${err.message}`);
      throw err;
    }
    try {
      await importTar(ctx, tar, f.tag || `debian:${f.suite}`, { changes: ['CMD ["bash"]'], message: `mmdebstrap --variant=${f.variant} ${f.suite}` });
    } catch (err) {
      if (child.exitCode === null) child.kill('SIGTERM');
      throw err;
    }
    return 0;
  },
};
