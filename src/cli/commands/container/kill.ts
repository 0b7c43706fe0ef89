// berth kill
import { forEachName, HELP_FLAG, type Command } from '../../command';

export const killCommand: Command = {
  name: 'kill',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  minArgs: 1,
  flags: [{ name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' }, HELP_FLAG],
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${encodeURIComponent(n)}/kill`, { query: { signal: p.flags.signal || undefined } });
    });
  },
};
