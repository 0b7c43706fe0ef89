// berth container inspect
import { HELP_FLAG, type Command } from '../../command';
import { FORMAT_FLAG, inspect } from '../inspect';

export const containerInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  minArgs: 1,
  flags: [FORMAT_FLAG, { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes' }, HELP_FLAG],
  run: (ctx, p) => inspect(ctx, ['container'], p.args, p.flags.format, p.flags.size),
};
