// berth unpause
import { forEachName, HELP_FLAG, type Command } from '../../command';

export const unpauseCommand: Command = {
  name: 'unpause',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  minArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${encodeURIComponent(n)}/unpause`);
    });
  },
};
