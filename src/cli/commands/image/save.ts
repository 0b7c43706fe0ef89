// berth save
import { HELP_FLAG, type Command } from '../../command';
import { writeTar } from '../../output/tar';

export const saveCommand: Command = {
  name: 'save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [
    { name: 'output', short: 'o', type: 'string', desc: 'Write to a file, instead of STDOUT' },
    // berthd saves every platform of an image.
    { name: 'platform', type: 'string', desc: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")', unsupported: true },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    await writeTar(ctx, p.flags.output, 'failed to save image', async () => {
      const res = await ctx.client().request('GET', '/images/get', { query: { names: p.args } });
      return res.body;
    });
    return 0;
  },
};
