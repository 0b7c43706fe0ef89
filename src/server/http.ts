// Request plumbing shared by routes: JSON bodies, query flags, streaming
// JSON replies and the raw-stream hijack used by attach and exec start.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachHandle, AttachSink } from '../engine/containers/io';
import { invalidArgument } from '../errors';
import { parseDetachKeys } from '../util/detach-keys';
import type { Ctx } from './router';

const MAX_JSON_BODY = 8 << 20;

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw invalidArgument(`request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// An empty body gives `undefined`; anything else must be a JSON object.
export async function readJSON(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return parseJSONBody(await readBody(req), req);
}

// The body of a request that may be an upgrade (attach, exec start). An
// upgrade's body is not the HTTP parser's: it arrives on the socket ahead of
// the stream (Content-Length bytes; dockerode sends its options as one),
// and is taken off it here so that it never reaches the process's stdin.
// The socket is left paused, with whatever followed the body put back.
export async function requestBody(ctx: Ctx, limit = MAX_JSON_BODY): Promise<Buffer> {
  if (!ctx.upgrade) return readBody(ctx.req, limit);
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len <= 0) return Buffer.alloc(0);
  if (len > limit) throw invalidArgument(`request body is larger than ${limit} bytes`);
  const sock = ctx.upgrade.socket;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error) => {
      sock.off('data', onData);
      sock.off('error', done);
      sock.off('end', ended);
      sock.pause();
      if (err) return reject(err);
      const all = Buffer.concat(chunks);
      if (all.length > len) sock.unshift(all.subarray(len));
      resolve(all.subarray(0, len));
    };
    const ended = () => done(invalidArgument(`the request body ended after ${got} of its ${len} bytes`));
    const onData = (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= len) done();
    };
    sock.on('data', onData);
    sock.on('error', done);
    sock.on('end', ended);
  });
}

// requestJSON is readJSON for a request that may be an upgrade.
export async function requestJSON(ctx: Ctx): Promise<Record<string, unknown> | undefined> {
  return parseJSONBody(await requestBody(ctx), ctx.req);
}

function parseJSONBody(buf: Buffer, req: IncomingMessage): Record<string, unknown> | undefined {
  if (buf.length === 0 || buf.toString().trim() === '') return undefined;
  const ct = req.headers['content-type'];
  if (ct && ct.split(';')[0].trim().toLowerCase() !== 'application/json') {
    throw invalidArgument(`Content-Type specified (${ct}) must be 'application/json'`);
  }
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
  }
  if (v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('invalid JSON: expected an object');
  return v as Record<string, unknown>;
}

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

// Docker's detach keys as bytes (undefined: the default). dockerd words
// keys it cannot read differently by route: "detach" at attach, "escape"
// at exec create.
export function detachKeysValue(keys: string, word: 'detach' | 'escape'): Buffer | undefined {
  if (!keys) return undefined;
  try {
    return parseDetachKeys(keys);
  } catch {
    throw invalidArgument(`Invalid ${word} keys (${keys}) provided`);
  }
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

// A point in time as dockerd takes one (`until`, `since`): Unix seconds
// ("1700000000.5"), an RFC 3339 date or date-time, or a Go duration back
// from now ("90m", "1h30m"). Seconds since the epoch; 400 when it is none.
export function timestampValue(v: string, name: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    let ms = 0;
    for (const [, n, unit] of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * GO_UNITS[unit];
    return (now - ms) / 1000;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return t / 1000;
}

// Docker's `filters` query: {"key": ["v1", "v2"]} or the old {"key": {"v1": true}}.
export function filtersParam(q: URLSearchParams): Map<string, string[]> {
  const raw = q.get('filters');
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid filters: ${raw}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`invalid filters: ${raw}`);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out.set(k, val.map(String));
    else if (val && typeof val === 'object') out.set(k, Object.keys(val));
    else throw invalidArgument(`invalid filters: ${raw}`);
  }
  return out;
}

export function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

// Takes over the connection as a raw byte stream. With an Upgrade request
// the reply is "101 UPGRADED" (what the docker CLI expects); without one,
// Docker answers 200 and streams on the same socket.
export function hijack(ctx: Ctx, contentType: string): Duplex {
  if (ctx.upgrade) {
    const { socket } = ctx.upgrade;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    return socket;
  }
  const socket = ctx.req.socket;
  ctx.res.detachSocket(socket);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n\r\n`);
  return socket;
}

// An attached process's stdio served over a hijacked connection (attach,
// exec start), after the request's body was taken (requestBody). Output
// goes out raw on a TTY, in stdcopy frames otherwise, and is held back
// while the client does not read, as in dockerd. connect() hands the
// client's side to the engine's handle: what it sends is stdin, its
// half-close (docker run -i < file) is stdin's end, and its going away
// lets go of the process.
export function attachedStream(ctx: Ctx, raw: boolean): { sink: AttachSink; connect(handle: AttachHandle): void } {
  const sock = hijack(ctx, raw ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  let ended = false;
  const sink: AttachSink = {
    out: (stream, data) => (ended ? true : sock.write(raw ? data : stdcopyFrame(stream, data))),
    onDrain: (cb) => {
      const done = () => {
        sock.off('drain', done);
        sock.off('close', done);
        cb();
      };
      sock.on('drain', done);
      sock.on('close', done);
    },
    end: () => {
      if (ended) return;
      ended = true;
      sock.end();
    },
  };
  const connect = (handle: AttachHandle) => {
    // Gone while the engine was connecting the process.
    if (sock.destroyed) return handle.detach();
    sock.on('data', (chunk: Buffer) => handle.write(chunk));
    sock.on('end', () => handle.closeStdin());
    sock.on('close', () => {
      if (!ended) handle.detach();
    });
    sock.on('error', () => handle.detach());
    sock.resume();
  };
  return { sink, connect };
}

// The 8-byte stdcopy header multiplexes stdout (1) and stderr (2) on one stream.
export function stdcopyFrame(stream: 1 | 2, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

// Streams a tar as the 200 body. A failure midway can only cut the body
// short (the client sees a truncated archive); a client that goes away
// stops the producer.
export async function sendStream(res: ServerResponse, src: Readable, contentType: string): Promise<void> {
  res.writeHead(200, { 'Content-Type': contentType });
  try {
    await pipeline(src, res);
  } catch (err) {
    src.destroy();
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client left
    throw err; // logged; the body is cut short
  }
}
