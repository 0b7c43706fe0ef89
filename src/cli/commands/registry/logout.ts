// berth logout
import { HELP_FLAG, type Command } from '../../command';
import { convertToHostname, loadConfig } from '../../config';
import { INDEX_SERVER } from '../../../oci/reference';

export const logoutCommand: Command = {
  name: 'logout',
  usage: '[SERVER]',
  summary: 'Log out from a registry',
  maxArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const arg: string | undefined = p.args[0];
    const isDefault = !arg || arg === 'docker.io' || arg === 'index.docker.io';
    const serverAddress = isDefault ? INDEX_SERVER : arg;
    const hostname = isDefault ? serverAddress : convertToHostname(serverAddress);
    const keys = isDefault ? [serverAddress] : [...new Set([serverAddress, hostname, `http://${hostname}`, `https://${hostname}`])];
    ctx.out.write(`Removing login credentials for ${hostname}\n`);
    const cfg = loadConfig(ctx);
    const errs: string[] = [];
    for (const k of keys) {
      try {
        await cfg.eraseAuth(k);
      } catch (e) {
        errs.push(`${k}: ${(e as Error).message}`);
      }
    }
    if (errs.length === keys.length) ctx.err.write(`WARNING: could not erase credentials:\n${errs.join('\n')}\n`);
    return 0;
  },
};
