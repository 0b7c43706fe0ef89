// berth image prune
import { HELP_FLAG, type Command } from '../../command';
import { confirm } from '../../io';
import { pruneFilters, pruneImages, pruneReport } from '../prune';

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
    const filters = pruneFilters(ctx, f.filter, { dangling: String(!f.all) });
    if (!f.force && !(await confirm(ctx, f.all ? ALL_IMAGES_WARNING : DANGLING_WARNING))) return 0;
    pruneReport(ctx, await pruneImages(ctx, filters));
    return 0;
  },
};
