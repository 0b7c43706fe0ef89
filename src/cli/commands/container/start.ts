// berth start [-a] [-i]
import type { ContainerInspectResponse } from '../../../api/types';
import { DetachedError, detachKeysOption, isTerminal, monitorTtySize } from '../../term';
import { pumpAttach, proxySignals } from './stream';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { waitStatus } from './wait';

export const startCommand: Command = {
  name: 'start',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  minArgs: 1,
  flags: [
    { name: 'attach', short: 'a', type: 'bool', desc: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'checkpoint', type: 'string', desc: 'Restore from this checkpoint', unsupported: true },
    { name: 'checkpoint-dir', type: 'string', desc: 'Use a custom checkpoint storage directory', unsupported: true },
    { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', desc: "Attach container's STDIN" },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const client = ctx.client();
    if (p.flags.attach || p.flags.interactive) {
      if (p.args.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
      const c = await client.get<ContainerInspectResponse>(`/containers/${encodeURIComponent(p.args[0])}/json`);
      const id = c.Id ?? p.args[0];
      const tty = Boolean(c.Config?.Tty);
      const stdin = Boolean(p.flags.interactive && c.Config?.OpenStdin);
      const detachKeys = detachKeysOption(ctx, p.flags['detach-keys']);
      const { socket } = await client.hijack(`/containers/${id}/attach`, {
        stream: true, stdin, stdout: true, stderr: true, detachKeys: detachKeys || undefined,
      });
      const session = pumpAttach(ctx, socket, { tty, stdin, detachKeys });
      const { status } = await waitStatus(ctx, client, id, c.HostConfig?.AutoRemove ? 'removed' : 'next-exit');
      const unproxy = tty ? () => {} : proxySignals(client, id);
      try {
        try {
          await client.call('POST', `/containers/${id}/start`);
        } catch (err) {
          session.close();
          throw err;
        }
        const unmonitor = tty && isTerminal(ctx.out) ? monitorTtySize(ctx, client, { kind: 'containers', id }) : () => {};
        try {
          await session.done;
        } catch (err) {
          // The user entered the detach keys: the container runs on.
          if (err instanceof DetachedError) return 0;
          throw err;
        } finally {
          unmonitor();
        }
        return await status;
      } finally {
        unproxy();
      }
    }
    const failed: string[] = [];
    for (const name of p.args) {
      try {
        await client.call('POST', `/containers/${encodeURIComponent(name)}/start`);
        ctx.out.write(`${name}\n`);
      } catch (err) {
        ctx.err.write(`${errorText(err)}\n`);
        failed.push(name);
      }
    }
    if (failed.length) throw new StatusError(1, `Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  },
};
