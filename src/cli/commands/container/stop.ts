// berth stop (and the flags and query restart shares).
import type { FlagSpec, Parsed } from '../../args';
import { forEachName, HELP_FLAG, type Command } from '../../command';

export const STOP_FLAGS: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' },
  // --time is docker's deprecated spelling.
  { name: 'timeout', short: 't', type: 'int', aliases: ['time'], desc: 'Seconds to wait before killing the container' },
  HELP_FLAG,
];

export function stopQuery(p: Parsed) {
  return {
    signal: p.flags.signal || undefined,
    t: p.changed.has('timeout') ? p.flags.timeout : undefined,
  };
}

export const stopCommand: Command = {
  name: 'stop',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  minArgs: 1,
  flags: STOP_FLAGS,
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${encodeURIComponent(n)}/stop`, { query: stopQuery(p) });
    });
  },
};
