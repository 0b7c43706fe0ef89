// berth network inspect
import { HELP_FLAG, type Command } from '../../command';
import { FORMAT_FLAG, inspect } from '../inspect';

export const networkInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  minArgs: 1,
  flags: [
    { ...FORMAT_FLAG, desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    HELP_FLAG,
    { name: 'verbose', short: 'v', type: 'bool', desc: 'Verbose output for diagnostics' },
  ],
  run: (ctx, p) => inspect(ctx, ['network'], p.args, p.flags.format, false, p.flags.verbose),
};
