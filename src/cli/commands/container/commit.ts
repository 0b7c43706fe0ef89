// berth commit
import type { IDResponse } from '../../../api/types';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { ReferenceError, fullName, parseNormalizedNamed, withDefaultTag } from '../../../oci/reference';

export const commitCommand: Command = {
  name: 'commit',
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  minArgs: 1,
  maxArgs: 2,
  interspersed: false,
  flags: [
    { name: 'author', short: 'a', type: 'string', desc: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', desc: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, desc: 'Pause container during commit' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const id = p.args[0].trim();
    if (!id) throw new StatusError(1, 'invalid container name or ID: value is empty');
    let repo: string | undefined;
    let tag: string | undefined;
    if (p.args[1]) {
      let ref;
      try {
        ref = parseNormalizedNamed(p.args[1]);
      } catch (e) {
        if (e instanceof ReferenceError) throw new StatusError(1, e.message);
        throw e;
      }
      if (ref.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      ref = withDefaultTag(ref);
      repo = fullName(ref);
      tag = ref.tag;
    }
    const r = await ctx.client().json<IDResponse>('POST', '/commit', {
      query: {
        container: id,
        repo: repo ?? '',
        tag: tag ?? '',
        comment: f.message ?? '',
        author: f.author ?? '',
        changes: f.change.length ? f.change : undefined,
        pause: f.pause ? undefined : '0',
      },
    });
    ctx.out.write(`${r.Id}\n`);
    return 0;
  },
};
