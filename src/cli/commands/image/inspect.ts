// berth image inspect
import { HELP_FLAG, type Command } from '../../command';
import { FORMAT_FLAG, inspect } from '../inspect';

export const imageInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  minArgs: 1,
  flags: [FORMAT_FLAG, HELP_FLAG],
  run: (ctx, p) => inspect(ctx, ['image'], p.args, p.flags.format),
};
