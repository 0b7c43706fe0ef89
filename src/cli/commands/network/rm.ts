// berth network rm: each network in turn; an error is printed as it comes
// and the command ends with status 1 (-f: a missing network is no error).
import { ClientError } from '../../../client/client';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { confirm } from '../../io';

const INGRESS_WARNING =
  'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?';

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
      // docker looks first, to warn before removing swarm's routing mesh.
      const nw = await ctx.client().get<{ Ingress?: boolean }>(`/networks/${encodeURIComponent(name.trim())}`).catch(() => undefined);
      if (nw?.Ingress && !(await confirm(ctx, INGRESS_WARNING))) continue;
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
