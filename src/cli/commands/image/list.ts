// berth images: docker's image list, as a table (one row per
// repository:tag), or through --format.
import type { ImageSummary } from '../../../api/types';
import { HELP_FLAG, type Command } from '../../command';
import { loadConfig } from '../../config';
import { familiarName, splitReference } from '../../output/format';
import { formatWrite, headerContext, imageContext, imageFormat, IMAGE_HEADER, TABLE_FORMAT, type ImageRow } from '../../output/formatter';
import { parseFilters } from '../filters';

export type { ImageRow } from '../../output/formatter';

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (!tags.length && !digests.length) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

// docker's imageFormatTaggedAndDigest (rows in first-seen order where docker
// iterates a Go map). `needDigest`: the format shows digests (--digests or
// {{.Digest}}); `digests`: --digests, which also lists digest-only rows.
export function imageRows(images: ImageSummary[], needDigest = false, digests = needDigest): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push({ repo: '<none>', tag: '<none>', digest: '<none>', image: img });
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const ref of img.RepoTags ?? []) {
      const r = splitReference(ref);
      if (!r.tag || r.name === '<none>') continue;
      const name = familiarName(r.name);
      repoTags.set(name, [...(repoTags.get(name) ?? []), r.tag]);
    }
    for (const ref of img.RepoDigests ?? []) {
      const r = splitReference(ref);
      if (!r.digest || r.name === '<none>') continue;
      const name = familiarName(r.name);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), r.digest]);
    }
    for (const [repo, tags] of repoTags) {
      const ds = needDigest ? repoDigests.get(repo) ?? [] : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (!ds.length) rows.push({ repo, tag, digest: '<none>', image: img });
        for (const d of ds) rows.push({ repo, tag, digest: d, image: img });
      }
    }
    for (const [repo, ds] of repoDigests) {
      if (digests) for (const d of ds) rows.push({ repo, tag: '<none>', digest: d, image: img });
      else rows.push({ repo, tag: '<none>', digest: '', image: img });
    }
  }
  return rows;
}

// The default table (or -q), as `formatWrite` prints it.
export function formatImages(rows: ImageRow[], opts: { trunc: boolean; digests?: boolean; quiet?: boolean; format?: string; now?: number }): string {
  const format = imageFormat(opts.format || TABLE_FORMAT, !!opts.quiet, !!opts.digests);
  return formatWrite(format, headerContext(IMAGE_HEADER), rows.map((r) => imageContext(r, opts.trunc, opts.now)));
}

// Subcommand names that `berth images NAME` was probably meant as.
const IMAGE_SUBCOMMANDS = new Set(['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']);

function makeImagesCommand(name: string): Command {
  return {
    name,
    aliases: ['ls', 'list'],
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    summary: 'List images',
    maxArgs: 1,
    flags: [
      { name: 'all', short: 'a', type: 'bool', desc: 'Show all images (default hides intermediate images)' },
      { name: 'digests', type: 'bool', desc: 'Show digests' },
      { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
      { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
      { name: 'tree', type: 'bool', desc: 'List multi-platform images as a tree (EXPERIMENTAL)', unsupported: true },
      HELP_FLAG,
    ],
    async run(ctx, p) {
      const f = p.flags;
      const filters: string[] = [...f.filter];
      const match: string | undefined = p.args[0];
      if (match) filters.push(`reference=${match}`);
      const images = await ctx.client().get<ImageSummary[]>('/images/json', {
        all: f.all,
        filters: parseFilters(filters),
      });
      let format: string = f.format ?? '';
      if (!format) {
        const configured = f.quiet ? '' : loadConfig(ctx).stringField('imagesFormat');
        format = configured || TABLE_FORMAT;
      }
      format = imageFormat(format, f.quiet, f.digests);
      const needDigest = f.digests || format.includes('{{.Digest}}');
      const rows = imageRows(images ?? [], needDigest, f.digests);
      ctx.out.write(formatWrite(format, headerContext(IMAGE_HEADER), rows.map((r) => imageContext(r, !f['no-trunc']))));
      if (match && !(images ?? []).length && name === 'images' && IMAGE_SUBCOMMANDS.has(match)) {
        ctx.err.write(`\nNo images found matching "${match}": did you mean "berth image ${match}"?\n`);
      }
      return 0;
    },
  };
}

export const imagesCommand = makeImagesCommand('images');
export const imageLsCommand = makeImagesCommand('ls');
