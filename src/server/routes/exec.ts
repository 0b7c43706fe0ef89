// Exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked like
// attach unless detached), POST /exec/{id}/resize, GET /exec/{id}/json.
// Docker's ExecConfig becomes the engine's ExecSpec here.
import { invalidArgument } from '../../errors';
import type { ConsoleSize, ExecService, ExecSession, ExecSpec } from '../../engine/containers/exec';
import { checkBody, EXEC_FIELDS, EXEC_START_FIELDS } from '../compat/exec-fields';
import { attachedStream, detachKeysValue, intParam, readJSON, requestJSON, sendJSON, sendNoContent } from '../http';
import type { Ctx, Router } from '../router';

// What the exec routes need of the daemon.
export interface ExecBackend {
  exec: Pick<ExecService, 'create' | 'startable' | 'start' | 'resize' | 'inspect'>;
}

// The spec's inline ExecConfig and ExecInspectResponse (not among the
// generated definitions).
interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: number[] | null;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecInspectResponse {
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  Pid: number;
}

const atLeast = (version: string, min: string): boolean => {
  const [a, b] = version.split('.').map(Number);
  const [c, d] = min.split('.').map(Number);
  return a !== c ? a > c : b >= d;
};

// [height, width] as the engine's size; none below API 1.42 (dockerd drops it).
function sizeOf(v: unknown, version: string): ConsoleSize | undefined {
  if (!Array.isArray(v) || !atLeast(version, '1.42')) return undefined;
  return { height: v[0], width: v[1] };
}

export function translateExecConfig(body: Record<string, unknown> | undefined, version: string): ExecSpec {
  const b = body ?? {};
  checkBody(EXEC_FIELDS, b);
  const cfg = b as ExecConfig;
  if (!cfg.Cmd || cfg.Cmd.length === 0) throw invalidArgument('No exec command specified');
  const detachKeys = detachKeysValue(cfg.DetachKeys ?? '', 'escape');
  return {
    cmd: cfg.Cmd,
    env: cfg.Env ?? [],
    user: cfg.User ?? '',
    cwd: cfg.WorkingDir ?? '',
    tty: !!cfg.Tty,
    privileged: !!cfg.Privileged,
    stdin: !!cfg.AttachStdin,
    stdout: !!cfg.AttachStdout,
    stderr: !!cfg.AttachStderr,
    ...(detachKeys ? { detachKeys } : {}),
    ...(cfg.Tty && sizeOf(cfg.ConsoleSize, version) ? { consoleSize: sizeOf(cfg.ConsoleSize, version) } : {}),
  };
}

export function execInspect(s: ExecSession): ExecInspectResponse {
  const [entrypoint, ...args] = s.spec.cmd;
  return {
    CanRemove: s.canRemove,
    ContainerID: s.containerId,
    // dockerd's []byte, which Go's JSON writes in base64.
    DetachKeys: s.spec.detachKeys?.toString('base64') ?? '',
    ID: s.id,
    Running: s.running,
    // null until it has exited, as dockerd's *int.
    ExitCode: s.exitCode ?? null,
    ProcessConfig: { tty: s.spec.tty, entrypoint, arguments: args, privileged: s.spec.privileged, user: s.user },
    OpenStdin: s.spec.stdin,
    OpenStderr: s.spec.stderr,
    OpenStdout: s.spec.stdout,
    Pid: s.pid,
  };
}

export function execRoutes(r: Router, b: ExecBackend): void {
  r.post('/containers/:id/exec', async (ctx) => {
    const spec = translateExecConfig(await readJSON(ctx.req), ctx.version);
    const id = await b.exec.create(ctx.params.id, spec);
    sendJSON(ctx.res, 201, { Id: id });
  });

  r.post('/exec/:id/start', async (ctx) => start(b, ctx));

  r.post('/exec/:id/resize', async (ctx) => {
    const h = intParam(ctx.query, 'h');
    const w = intParam(ctx.query, 'w');
    if (h === undefined || h < 0 || h > 0xffff) throw invalidArgument(`invalid resize height ${JSON.stringify(ctx.query.get('h') ?? '')}`);
    if (w === undefined || w < 0 || w > 0xffff) throw invalidArgument(`invalid resize width ${JSON.stringify(ctx.query.get('w') ?? '')}`);
    await b.exec.resize(ctx.params.id, h, w);
    sendNoContent(ctx.res, 200);
  });

  r.get('/exec/:id/json', (ctx) => {
    sendJSON(ctx.res, 200, execInspect(b.exec.inspect(ctx.params.id)));
  });
}

async function start(b: ExecBackend, ctx: Ctx): Promise<void> {
  const body = (await requestJSON(ctx)) ?? {};
  checkBody(EXEC_START_FIELDS, body);
  const detach = body.Detach === true;
  const tty = body.Tty === true;
  const consoleSize = tty ? sizeOf(body.ConsoleSize, ctx.version) : undefined;
  const id = ctx.params.id;
  // 404 and 409 come as plain HTTP answers, before the stream is taken over.
  b.exec.startable(id);
  if (detach) {
    await b.exec.start(id, { detach: true, consoleSize });
    sendNoContent(ctx.res, 200);
    return;
  }
  // Raw for a TTY (and for clients below 1.42), multiplexed otherwise.
  const stream = attachedStream(ctx, tty || !atLeast(ctx.version, '1.42'));
  let handle;
  try {
    handle = await b.exec.start(id, { detach: false, consoleSize }, stream.sink);
  } catch (err) {
    // As dockerd: the stream is up, so the error goes into it, and the
    // client reads the exit code (126, 127) from inspect.
    stream.sink.out(1, Buffer.from(`${(err as Error).message}\r\n`));
    stream.sink.end();
    return;
  }
  stream.connect(handle);
}
