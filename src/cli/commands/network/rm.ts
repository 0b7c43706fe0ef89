// berth network rm: each network in turn; an error is printed as it comes
// and the command ends with status 1 (-f: a missing network is no error).
import { ClientError } from '../../../client/client';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';

export const networkRmCommand: Command = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Do not error if the network does not exist' }, HELP_FLAG],
  async run(ctx, p) {
    let status = 0;
    for (const name of p.args) {
      try {
        await ctx.client().call('DELETE', `/networks/${encodeURIComponent(name.trim())}`);
      } catch (err) {
        if (p.flags.force && err instanceof ClientError && err.status === 404) continue;
        ctx.err.write(`${errorText(err)}\n`);
        status = 1;
        continue;
      }
      ctx.out.write(`${name}\n`);
    }
    if (status) throw new StatusError(status, `exit status ${status}`);
  },
};
