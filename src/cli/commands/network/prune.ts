// berth network prune
import { HELP_FLAG, type Command } from '../../command';
import { confirm } from '../../io';
import { pruneFilters, pruneNetworks, pruneReport } from '../prune';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export const networkPruneCommand: Command = {
  name: 'prune',
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  maxArgs: 0,
  flags: [
    { name: 'filter', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const filters = pruneFilters(ctx, p.flags.filter);
    if (!p.flags.force && !(await confirm(ctx, WARNING))) return 0;
    pruneReport(ctx, await pruneNetworks(ctx, filters), false);
    return 0;
  },
};
