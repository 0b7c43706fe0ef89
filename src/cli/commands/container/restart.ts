// berth restart
import { forEachName, type Command } from '../../command';
import { STOP_FLAGS, stopQuery } from './stop';

export const restartCommand: Command = {
  name: 'restart',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  minArgs: 1,
  flags: STOP_FLAGS,
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${encodeURIComponent(n)}/restart`, { query: stopQuery(p) });
    });
  },
};
