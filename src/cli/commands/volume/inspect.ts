// berth volume inspect
import { HELP_FLAG, type Command } from '../../command';
import { FORMAT_FLAG, inspect } from '../inspect';

export const volumeInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  minArgs: 1,
  flags: [{ ...FORMAT_FLAG, desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }, HELP_FLAG],
  run: (ctx, p) => inspect(ctx, ['volume'], p.args, p.flags.format, false, false, true),
};
