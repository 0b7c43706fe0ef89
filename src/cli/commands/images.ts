// berth images: docker's default image table, one row per repository:tag.
import type { ImageSummary } from '../../client/types';
import { HELP_FLAG, type Command } from '../command';
import { familiarName, humanSize, since, splitReference, truncateId } from '../format';
import { formatTable } from '../table';
import { parseFilters } from './ps';

export interface ImageRow {
  repo: string;
  tag: string;
  digest: string;
  image: ImageSummary;
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (!tags.length && !digests.length) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

// docker's imageFormatTaggedAndDigest (rows in first-seen order where docker
// iterates a Go map).
export function imageRows(images: ImageSummary[], showDigests = false): ImageRow[] {
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
      const digests = showDigests ? repoDigests.get(repo) ?? [] : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (!digests.length) rows.push({ repo, tag, digest: '<none>', image: img });
        for (const d of digests) rows.push({ repo, tag, digest: d, image: img });
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (showDigests) for (const d of digests) rows.push({ repo, tag: '<none>', digest: d, image: img });
      else rows.push({ repo, tag: '<none>', digest: '', image: img });
    }
  }
  return rows;
}

export function formatImages(rows: ImageRow[], opts: { trunc: boolean; digests?: boolean; now?: number }): string {
  const header = opts.digests
    ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']
    : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
  const table = [header];
  for (const r of rows) {
    const id = opts.trunc ? truncateId(r.image.Id) : r.image.Id;
    const created = since(r.image.Created ?? 0, opts.now);
    const size = humanSize(r.image.Size ?? 0);
    table.push(opts.digests ? [r.repo, r.tag, r.digest, id, created, size] : [r.repo, r.tag, id, created, size]);
  }
  return formatTable(table);
}

export const imagesCommand: Command = {
  name: 'images',
  aliases: ['ls', 'list'],
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  maxArgs: 1,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', desc: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters: string[] = [...f.filter];
    if (p.args[0]) filters.push(`reference=${p.args[0]}`);
    const images = await ctx.client().get<ImageSummary[]>('/images/json', {
      all: f.all,
      filters: parseFilters(filters),
    });
    const trunc = !f['no-trunc'];
    const rows = imageRows(images, f.digests);
    if (f.quiet) {
      ctx.out.write(rows.map((r) => `${trunc ? truncateId(r.image.Id) : r.image.Id}\n`).join(''));
      return 0;
    }
    ctx.out.write(formatImages(rows, { trunc, digests: f.digests }));
    return 0;
  },
};
