// berth network disconnect
import { HELP_FLAG, type Command } from '../../command';

export const networkDisconnectCommand: Command = {
  name: 'disconnect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  minArgs: 2,
  maxArgs: 2,
  flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Force the container to disconnect from a network' }, HELP_FLAG],
  async run(ctx, p) {
    const [network, container] = p.args;
    await ctx.client().call('POST', `/networks/${encodeURIComponent(network.trim())}/disconnect`, { body: { Container: container.trim(), Force: p.flags.force } });
  },
};
