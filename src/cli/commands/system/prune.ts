// berth system prune: docker's confirmation, then containers, networks,
// (--volumes) volumes, images and the build cache, each kind's listing, and
// the total reclaimed.
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { confirm } from '../../io';
import { humanSize } from '../../output/format';
import { naturalCompare } from '../../output/natural';
import { pruneBuildCache, pruneContainers, pruneFilters, pruneImages, pruneNetworks, pruneVolumes, type PruneResult } from '../prune';

export function confirmationMessage(opts: { all: boolean; volumes: boolean }, filters: Map<string, string[]>): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (opts.volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(opts.all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(opts.all ? 'all build cache' : 'unused build cache');
  const shown: string[] = [];
  for (const name of ['label', 'label!', 'until']) for (const v of filters.get(name) ?? []) shown.push(`${name}=${v}`);
  shown.sort(naturalCompare);
  let s = 'WARNING! This will remove:';
  for (const w of warnings) s += `\n  - ${w}`;
  s += '\n';
  if (shown.length) {
    s += '\n  Items to be pruned will be filtered with:';
    for (const f of shown) s += `\n  - ${f}`;
    s += '\n';
  }
  return `${s}\nAre you sure you want to continue?`;
}

export const systemPruneCommand: Command = {
  name: 'prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused data',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused images not just dangling ones' },
    { name: 'filter', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    HELP_FLAG,
    { name: 'volumes', type: 'bool', desc: 'Prune anonymous volumes' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters = pruneFilters(ctx, f.filter);
    if (f.volumes && filters.has('until')) throw new StatusError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
    if (!f.force && !(await confirm(ctx, confirmationMessage({ all: f.all, volumes: f.volumes }, filters)))) return 0;
    const runs: (() => Promise<PruneResult>)[] = [
      () => pruneContainers(ctx, pruneFilters(ctx, f.filter)),
      () => pruneNetworks(ctx, pruneFilters(ctx, f.filter)),
    ];
    if (f.volumes) runs.push(() => pruneVolumes(ctx, pruneFilters(ctx, f.filter)));
    runs.push(() => pruneImages(ctx, pruneFilters(ctx, f.filter, { dangling: String(!f.all) })));
    runs.push(() => pruneBuildCache(ctx, f.all, pruneFilters(ctx, f.filter)));
    let space = 0;
    for (const run of runs) {
      const r = await run();
      space += r.space;
      if (r.output) ctx.out.write(`${r.output}\n`);
    }
    ctx.out.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
    return 0;
  },
};
