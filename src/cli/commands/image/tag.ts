// berth tag
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { splitReference } from '../../output/format';

export const tagCommand: Command = {
  name: 'tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  minArgs: 2,
  maxArgs: 2,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const [source, target] = p.args;
    const r = splitReference(target);
    if (r.digest) throw new StatusError(1, `refusing to create a tag with a digest reference`);
    await ctx.client().call('POST', `/images/${encodeURIComponent(source)}/tag`, {
      query: { repo: r.name, tag: r.tag || 'latest' },
    });
    return 0;
  },
};
