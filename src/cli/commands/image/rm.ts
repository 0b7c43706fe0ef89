// berth rmi
import type { ImageDeleteResponseItem } from '../../../api/types';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';

export const rmiCommand: Command = {
  name: 'rmi',
  aliases: ['rm', 'remove'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', desc: 'Do not delete untagged parents' },
    { name: 'platform', type: 'list', meta: 'strings', desc: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")', unsupported: true },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const errs: string[] = [];
    for (const name of p.args) {
      try {
        const items = await ctx.client().json<ImageDeleteResponseItem[]>('DELETE', `/images/${encodeURIComponent(name)}`, {
          query: { force: p.flags.force, noprune: p.flags['no-prune'] },
        });
        for (const it of items ?? []) {
          if (it.Untagged) ctx.out.write(`Untagged: ${it.Untagged}\n`);
          if (it.Deleted) ctx.out.write(`Deleted: ${it.Deleted}\n`);
        }
      } catch (err) {
        errs.push(errorText(err));
      }
    }
    if (errs.length) throw new StatusError(1, errs.join('\n'));
    return 0;
  },
};
