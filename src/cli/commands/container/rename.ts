// berth rename
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';

export const renameCommand: Command = {
  name: 'rename',
  usage: 'CONTAINER NEW_NAME',
  summary: 'Rename a container',
  minArgs: 2,
  maxArgs: 2,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const oldName = p.args[0].trim();
    const newName = p.args[1].trim();
    if (!oldName || !newName) throw new StatusError(1, 'Error: Neither old nor new names may be empty');
    try {
      await ctx.client().call('POST', `/containers/${encodeURIComponent(oldName)}/rename`, { query: { name: newName } });
    } catch (err) {
      ctx.err.write(`${errorText(err)}\n`);
      throw new StatusError(1, `Error: failed to rename container named ${oldName}`);
    }
    return 0;
  },
};
