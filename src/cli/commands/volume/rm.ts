// berth volume rm: each volume in turn, the errors joined at the end.
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';

export const volumeRmCommand: Command = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of one or more volumes' }, HELP_FLAG],
  async run(ctx, p) {
    const errs: string[] = [];
    for (const name of p.args) {
      try {
        await ctx.client().call('DELETE', `/volumes/${encodeURIComponent(name.trim())}`, { query: { force: p.flags.force } });
      } catch (err) {
        errs.push(errorText(err));
        continue;
      }
      ctx.out.write(`${name}\n`);
    }
    if (errs.length) throw new StatusError(1, errs.join('\n'));
  },
};
