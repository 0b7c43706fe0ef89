// berth exec: docker's RunExec (create the exec, then start it attached
// or detached, then report its exit code).
import type { Parsed } from '../../args';
import { HELP_FLAG, type Command, type Context } from '../../command';
import { detachKeysOption, isTerminal, monitorTtySize, ttySize, untilDetached } from '../../term';
import { parseEnvFlag, readKVFiles } from './options';
import { pumpAttach } from './stream';

// The parts of the exec responses berth reads (api/types has no exec types yet).
interface IdResponse {
  Id: string;
}
interface ExecInspectResponse {
  ExitCode?: number | null;
}

// docker's ExecOptions body, field for field.
export interface ExecBody {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize?: [number, number];
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  Detach: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[];
}

// docker's parseExec.
export function execBody(ctx: Context, p: Parsed): ExecBody {
  const f = p.flags;
  const [, ...cmd] = p.args;
  const env = readKVFiles(f['env-file'], ctx.env);
  for (const e of f.env as string[]) env.push(parseEnvFlag(e, ctx.env));
  const attached = !f.detach;
  const size = f.tty ? ttySize(ctx.out) : undefined;
  return {
    User: f.user ?? '',
    Privileged: Boolean(f.privileged),
    Tty: Boolean(f.tty),
    // docker sends [0, 0] when -t has no terminal to measure.
    ...(f.tty ? { ConsoleSize: size ?? [0, 0] } : {}),
    AttachStdin: attached && Boolean(f.interactive),
    AttachStderr: attached,
    AttachStdout: attached,
    Detach: Boolean(f.detach),
    DetachKeys: detachKeysOption(ctx, f['detach-keys']),
    Env: env.length ? env : null,
    WorkingDir: f.workdir ?? '',
    Cmd: cmd,
  };
}

export const execCommand: Command = {
  name: 'exec',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  minArgs: 2,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
    { name: 'env-file', type: 'list', desc: 'Read in a file of environment variables' },
    HELP_FLAG,
    { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', desc: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
  ],
  async run(ctx, p) {
    const client = ctx.client();
    const name = p.args[0];
    const body = execBody(ctx, p);
    // A missing container is reported before anything else, and a TTY
    // check fails before an exec is created (it could not be removed).
    await client.get(`/containers/${encodeURIComponent(name)}/json`);
    if (!body.Detach && body.Tty && body.AttachStdin && !isTerminal(ctx.in)) throw new Error('the input device is not a TTY');

    const created = await client.json<IdResponse>('POST', `/containers/${encodeURIComponent(name)}/exec`, { body });
    const execId = created?.Id;
    if (!execId) throw new Error('exec ID empty');
    const start = { Detach: body.Detach, Tty: body.Tty, ...(body.ConsoleSize ? { ConsoleSize: body.ConsoleSize } : {}) };
    if (body.Detach) {
      await client.call('POST', `/exec/${execId}/start`, { body: start });
      return 0;
    }

    const { socket } = await client.hijack(`/exec/${execId}/start`, undefined, { body: start });
    const session = pumpAttach(ctx, socket, {
      tty: body.Tty,
      stdin: body.AttachStdin,
      stdout: body.AttachStdout,
      stderr: body.AttachStderr,
      detachKeys: body.DetachKeys,
    });
    const unmonitor = body.Tty && isTerminal(ctx.in) ? monitorTtySize(ctx, client, { kind: 'exec', id: execId }) : () => {};
    try {
      await untilDetached(session.done);
    } finally {
      unmonitor();
    }
    const r = await client.get<ExecInspectResponse>(`/exec/${execId}/json`);
    return r.ExitCode ?? 0;
  },
};
