// berth attach: docker's RunAttach.
import type { ContainerInspectResponse, ContainerWaitResponse } from '../../../api/types';
import type { Client } from '../../../client/client';
import { HELP_FLAG, type Command } from '../../command';
import { detachKeysOption, isTerminal, monitorTtySize, resizeTo, ttySize, untilDetached } from '../../term';
import { pumpAttach, proxySignals } from './stream';

// docker's inspectContainerAndCheckState.
async function runningContainer(client: Client, name: string): Promise<ContainerInspectResponse> {
  const c = await client.get<ContainerInspectResponse>(`/containers/${encodeURIComponent(name)}/json`);
  if (!c.State?.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
  return c;
}

export const attachCommand: Command = {
  name: 'attach',
  usage: '[OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' },
    HELP_FLAG,
    { name: 'no-stdin', type: 'bool', desc: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', default: true, desc: 'Proxy all received signals to the process' },
  ],
  async run(ctx, p) {
    const client = ctx.client();
    const name = p.args[0];
    const detachKeys = detachKeysOption(ctx, p.flags['detach-keys']);
    // As docker, the wait goes out first so that an exit is not missed.
    const wait = client.json<ContainerWaitResponse>('POST', `/containers/${encodeURIComponent(name)}/wait`);
    wait.catch(() => {});

    const c = await runningContainer(client, name);
    const id = c.Id ?? name;
    const tty = Boolean(c.Config?.Tty);
    if (tty && !p.flags['no-stdin'] && !isTerminal(ctx.in)) throw new Error('the input device is not a TTY');
    const stdin = !p.flags['no-stdin'] && Boolean(c.Config?.OpenStdin);

    const unproxy = p.flags['sig-proxy'] && !tty ? proxySignals(client, id) : () => {};
    let unmonitor = () => {};
    try {
      const { socket } = await client.hijack(`/containers/${encodeURIComponent(name)}/attach`, {
        stream: true, stdin, stdout: true, stderr: true, detachKeys: detachKeys || undefined,
      });
      // It may have stopped in between: don't wait on a dead attach.
      try {
        await runningContainer(client, name);
      } catch (err) {
        socket.destroy();
        throw err;
      }
      const session = pumpAttach(ctx, socket, { tty, stdin, detachKeys });
      if (tty && isTerminal(ctx.out)) {
        // docker nudges the size (+1) first, so that a shell redraws its
        // prompt on a second attach.
        const size = ttySize(ctx.out);
        if (size) await resizeTo(client, { kind: 'containers', id }, size[0] + 1, size[1] + 1).catch(() => {});
        unmonitor = monitorTtySize(ctx, client, { kind: 'containers', id });
      }
      await untilDetached(session.done);
    } finally {
      unmonitor();
      unproxy();
    }
    const r = await wait;
    if (r.Error?.Message) throw new Error(r.Error.Message);
    return r.StatusCode;
  },
};
