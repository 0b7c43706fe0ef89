// berth rm
import { forEachName, HELP_FLAG, type Command } from '../../command';

export const rmCommand: Command = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of a running container (uses SIGKILL)' },
    // berth has no links (and berthd would remove the container instead).
    { name: 'link', short: 'l', type: 'bool', desc: 'Remove the specified link', unsupported: true },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove anonymous volumes associated with the container' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const query = { force: p.flags.force, v: p.flags.volumes };
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('DELETE', `/containers/${encodeURIComponent(n.replace(/^\//, ''))}`, { query });
    });
  },
};
