// berth image prune
import type { ImagePruneResponse } from '../../../api/types';
import { HELP_FLAG, type Command } from '../../command';
import { loadConfig } from '../../config';
import { confirm } from '../../io';
import { humanSize } from '../../output/format';
import { parseFilterFlags, filtersToJSON } from '../filters';

const ALL_IMAGES_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

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
    const report = await ctx.client().json<ImagePruneResponse | undefined>('POST', '/images/prune', {
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
