// berth volume prune: anonymous volumes, or with -a every unused one.
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { confirm } from '../../io';
import { pruneFilters, pruneReport, pruneVolumes } from '../prune';

const UNUSED_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export const volumePruneCommand: Command = {
  name: 'prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused local volumes',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused volumes, not just anonymous ones' },
    { name: 'filter', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "label=<label>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const filters = pruneFilters(ctx, f.filter);
    if (f.all) {
      if (filters.has('all')) throw new StatusError(1, 'conflicting options: cannot specify both --all and --filter all=1');
      filters.set('all', ['true']);
    }
    if (!f.force && !(await confirm(ctx, f.all ? ALL_WARNING : UNUSED_WARNING))) return 0;
    pruneReport(ctx, await pruneVolumes(ctx, filters));
    return 0;
  },
};
