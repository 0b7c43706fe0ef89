// berth container prune
import { HELP_FLAG, type Command } from '../../command';
import { confirm } from '../../io';
import { pruneContainers, pruneFilters, pruneReport } from '../prune';

const WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

export const containerPruneCommand: Command = {
  name: 'prune',
  usage: '[OPTIONS]',
  summary: 'Remove all stopped containers',
  maxArgs: 0,
  flags: [
    { name: 'filter', type: 'list', meta: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const filters = pruneFilters(ctx, p.flags.filter);
    if (!p.flags.force && !(await confirm(ctx, WARNING))) return 0;
    pruneReport(ctx, await pruneContainers(ctx, filters));
    return 0;
  },
};
