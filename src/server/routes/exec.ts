// Exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked like
// attach unless detached), POST /exec/{id}/resize, GET /exec/{id}/json.
// Docker's ExecConfig becomes the engine's ExecSpec here.
import { invalidArgument } from '../../errors';
import type { ConsoleSize, ExecService, ExecSession, ExecSpec } from '../../engine/containers/exec';
import { checkBody, detachKeyBytes, EXEC_FIELDS, EXEC_START_FIELDS } from '../compat/exec-fields';
import { hijack, intParam, readJSON, sendJSON, sendNoContent, stdcopyFrame } from '../http';
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

const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]); // ctrl-p, ctrl-q

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
    detachKeys: cfg.DetachKeys ?? '',
    ...(cfg.Tty && sizeOf(cfg.ConsoleSize, version) ? { consoleSize: sizeOf(cfg.ConsoleSize, version) } : {}),
  };
}

export function execInspect(s: ExecSession): ExecInspectResponse {
  const [entrypoint, ...args] = s.spec.cmd;
  return {
    CanRemove: s.canRemove,
    ContainerID: s.containerId,
    // dockerd's []byte, which Go's JSON writes in base64.
    DetachKeys: s.spec.detachKeys ? detachKeyBytes(s.spec.detachKeys).toString('base64') : '',
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

// An upgrade request's body is not the HTTP parser's: it arrives on the
// socket, ahead of the stream (Content-Length bytes, which docker sends).
async function startBody(ctx: Ctx): Promise<Record<string, unknown>> {
  if (!ctx.upgrade) return (await readJSON(ctx.req)) ?? {};
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len <= 0) return {};
  if (len > 1 << 20) throw invalidArgument(`request body is larger than ${1 << 20} bytes`);
  const sock = ctx.upgrade.socket;
  const buf = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got < len) return;
      sock.off('data', onData);
      sock.off('error', reject);
      sock.pause();
      const all = Buffer.concat(chunks);
      if (all.length > len) sock.unshift(all.subarray(len));
      resolve(all.subarray(0, len));
    };
    sock.on('data', onData);
    sock.on('error', reject);
  });
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('invalid JSON: expected an object');
  return v as Record<string, unknown>;
}

async function start(b: ExecBackend, ctx: Ctx): Promise<void> {
  const body = await startBody(ctx);
  checkBody(EXEC_START_FIELDS, body);
  const detach = body.Detach === true;
  const tty = body.Tty === true;
  const consoleSize = tty ? sizeOf(body.ConsoleSize, ctx.version) : undefined;
  const id = ctx.params.id;
  // 404 and 409 come as plain HTTP answers, before the stream is taken over.
  const session = b.exec.startable(id);
  if (detach) {
    await b.exec.start(id, { detach: true, consoleSize });
    sendNoContent(ctx.res, 200);
    return;
  }
  // Raw for a TTY (and for clients below 1.42), multiplexed otherwise.
  const raw = tty || !atLeast(ctx.version, '1.42');
  const sock = hijack(ctx, raw ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  const frame = (fd: 1 | 2, data: Buffer) => (tty ? data : stdcopyFrame(fd, data));
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sock.end();
  };
  // Input read before the process runs waits for it.
  const early: Buffer[] = [];
  let input: ((d: Buffer) => void) | undefined;
  let eof: (() => void) | undefined;
  let gotEof = false;
  sock.on('data', (d: Buffer) => (input ? input(d) : early.push(d)));
  sock.on('end', () => (eof ? eof() : (gotEof = true)));
  sock.resume(); // paused after its body was read
  let handle;
  try {
    handle = await b.exec.start(id, { detach: false, consoleSize }, {
      out: (fd, data) => {
        if (!ended) sock.write(frame(fd, data));
      },
      end,
    });
  } catch (err) {
    // As dockerd: the stream is up, so the error goes into it, and the
    // client reads the exit code (126, 127) from inspect.
    if (!ended) sock.write(frame(1, Buffer.from(`${(err as Error).message}\r\n`)));
    end();
    return;
  }
  const h = handle;
  // With a TTY and stdin, the detach keys let go of the stream.
  const keys = session.tty && session.stdin ? (session.detachKeys ? detachKeyBytes(session.detachKeys) : DEFAULT_DETACH_KEYS) : undefined;
  const scan = keys ? new EscapeScanner(keys) : undefined;
  input = (d) => {
    if (!scan) return h.write(d);
    const { pass, detach: hit } = scan.feed(d);
    if (pass.length) h.write(pass);
    if (hit) {
      h.detach();
      end();
    }
  };
  eof = () => h.closeStdin();
  for (const d of early.splice(0)) input(d);
  if (gotEof) eof();
  sock.on('close', () => {
    if (!ended) h.detach();
  });
  sock.on('error', () => h.detach());
  await h.done;
}

// Docker's detach sequence on a TTY's input: bytes that may start the
// sequence are held back until it is complete (detach) or broken (they
// pass on).
export class EscapeScanner {
  private held: number[] = [];

  constructor(private keys: Buffer) {}

  feed(d: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of d) {
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte);
        if (this.held.length === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (byte === this.keys[0]) this.held.push(byte);
      else out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
