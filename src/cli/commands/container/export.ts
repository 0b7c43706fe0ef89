// berth export
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { writeTar } from '../../output/tar';

export const exportCommand: Command = {
  name: 'export',
  usage: '[OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' }, HELP_FLAG],
  async run(ctx, p) {
    const id = p.args[0].trim();
    await writeTar(ctx, p.flags.output, 'failed to export container', async () => {
      if (!id) throw new StatusError(1, 'invalid container name or ID: value is empty');
      const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(id)}/export`);
      return res.body;
    });
    return 0;
  },
};
