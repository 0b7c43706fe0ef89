// berth image inspect
import { HELP_FLAG, type Command } from '../../command';
import { FORMAT_FLAG, inspect } from '../inspect';

export const imageInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  minArgs: 1,
  flags: [
    FORMAT_FLAG,
    { name: 'platform', type: 'string', desc: 'Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n\'os[/arch[/variant]]\': Explicit platform (eg. linux/amd64)', unsupported: true },
    HELP_FLAG,
  ],
  run: (ctx, p) => inspect(ctx, ['image'], p.args, p.flags.format),
};
