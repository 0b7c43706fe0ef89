// berth run: create, attach, wait, start, in docker's order, then exit with
// the container's status.
import type { FlagSpec, Parsed } from '../../args';
import { errorText, StatusError, type Command, type Context } from '../../command';
import { DetachedError, detachKeysOption, isTerminal, monitorTtySize, ttySize } from '../../term';
import { pumpAttach, proxySignals, type AttachSession } from './stream';
import { checkPullOption, createContainer, createOptions, runError } from './create';
import { buildConfig, CONTAINER_FLAGS, type CreateBody } from './options';
import { waitStatus } from './wait';

// docker's runStartContainerErr: 127 for a missing command, 126 for one
// that cannot be executed, else 125.
export function startErrorStatus(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

async function run(ctx: Context, p: Parsed): Promise<number> {
  const detach = Boolean(p.flags.detach);
  const opts = createOptions(p);
  let config: CreateBody;
  try {
    checkPullOption(opts.pull);
    config = buildConfig(p, ctx.env, { detach, consoleSize: p.flags.tty ? ttySize(ctx.out) : undefined });
  } catch (err) {
    throw runError('run', err);
  }
  if (detach && p.flags.attach.length) throw new StatusError(1, 'conflicting options: cannot specify both --attach and --detach');
  // docker's CheckTty: -t with stdin attached needs a terminal to read.
  if (!detach && config.Tty && config.AttachStdin && !isTerminal(ctx.in)) throw new StatusError(1, 'the input device is not a TTY');
  const detachKeys = detachKeysOption(ctx, p.flags['detach-keys']);
  const client = ctx.client();

  let id: string;
  try {
    id = await createContainer(ctx, config, opts);
  } catch (err) {
    throw runError('run', err);
  }

  if (detach) {
    // docker prints the id before it starts the container.
    ctx.out.write(`${id}\n`);
    try {
      await client.call('POST', `/containers/${id}/start`);
    } catch (err) {
      throw runError('run', err, startErrorStatus(errorText(err)));
    }
    return 0;
  }

  let session: AttachSession;
  try {
    const { socket } = await client.hijack(`/containers/${id}/attach`, {
      stream: true,
      stdin: config.AttachStdin,
      stdout: config.AttachStdout,
      stderr: config.AttachStderr,
      detachKeys: detachKeys || undefined,
    });
    session = pumpAttach(ctx, socket, {
      tty: config.Tty,
      stdin: config.AttachStdin,
      stdout: config.AttachStdout,
      stderr: config.AttachStderr,
      detachKeys,
    });
  } catch (err) {
    throw new StatusError(125, `berth: ${errorText(err)}`);
  }
  const { status } = await waitStatus(ctx, client, id, config.HostConfig.AutoRemove ? 'removed' : 'next-exit');
  const unproxy = p.flags['sig-proxy'] ? proxySignals(client, id) : () => {};
  try {
    try {
      await client.call('POST', `/containers/${id}/start`);
    } catch (err) {
      session.close();
      await session.done.catch(() => {});
      if (config.HostConfig.AutoRemove) {
        // docker waits for the removal; don't hang if the daemon never does it.
        await Promise.race([status, new Promise((r) => setTimeout(r, 5000).unref())]);
      }
      throw runError('run', err, startErrorStatus(errorText(err)));
    }
    const unmonitor = config.Tty && isTerminal(ctx.out) ? monitorTtySize(ctx, client, { kind: 'containers', id }) : () => {};
    try {
      await session.done;
    } catch (err) {
      // The user entered the detach keys: the container runs on.
      if (err instanceof DetachedError) return 0;
      ctx.err.write(`berth: ${errorText(err)}\n`);
    } finally {
      unmonitor();
    }
    return await status;
  } finally {
    unproxy();
  }
}

export const runCommand: Command = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  interspersed: false,
  minArgs: 1,
  flags: ([
    { name: 'detach', short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' },
    { name: 'sig-proxy', type: 'bool', default: true, desc: 'Proxy received signals to the process' },
    ...CONTAINER_FLAGS,
  ] as FlagSpec[]).sort((a, b) => (a.name < b.name ? -1 : 1)), // not localeCompare: ICU setup costs ~8 ms of start time
  run,
};
