// Engine API client over HTTP (normally on a Unix socket). No dependencies:
// the CLI's start time depends on a small import graph. Plain calls (json,
// call, get) go through wire.ts over node:net; node:http, about 2 ms more of
// every start, is loaded only for streamed bodies and upgrades.
import type * as Http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { parseHost, type Endpoint } from './host';
import { exchange, type Target } from './wire';

let httpModule: typeof Http | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = (): typeof Http => (httpModule ??= require('node:http') as typeof Http);

import { API_VERSION } from '../api/version';

export { API_VERSION };

export type QueryValue = string | number | boolean | string[] | undefined | null;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  // A plain value is sent as JSON; a Buffer/string as-is; a Readable is streamed.
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Response {
  status: number;
  headers: Http.IncomingHttpHeaders;
  body: Http.IncomingMessage;
}

export interface Hijacked {
  socket: Socket;
  headers: Http.IncomingHttpHeaders;
}

// An error response from the daemon: its HTTP status and `message`.
export class ClientError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ClientError';
    this.status = status;
  }
}

// The daemon could not be reached at all.
export class ConnectionError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'ConnectionError';
    this.code = code;
  }
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === false) continue;
    const values = Array.isArray(v) ? v : [v === true ? '1' : String(v)];
    for (const s of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function errorFromBody(status: number, body: Buffer): ClientError {
  const text = body.toString('utf8').trim();
  let message = text;
  try {
    const j = JSON.parse(text);
    if (j && typeof j.message === 'string') message = j.message;
  } catch {
    // not JSON: use the text as it is
  }
  return new ClientError(status, message || `${status} ${http().STATUS_CODES[status] ?? ''}`.trim());
}

export class Client {
  readonly endpoint: Endpoint;
  readonly version: string;
  private agentCache?: Http.Agent;

  constructor(host: string | Endpoint, opts: { version?: string } = {}) {
    this.endpoint = typeof host === 'string' ? parseHost(host) : host;
    this.version = opts.version ?? API_VERSION;
  }

  private get agent(): Http.Agent {
    return (this.agentCache ??= new (http().Agent)({ keepAlive: true }));
  }

  private target(): Http.RequestOptions & Target {
    const e = this.endpoint;
    // An explicit (unused, TLS-only) servername stops node's agent from
    // calling net.isIP on the host, whose IPv6 regex costs ~4 ms at start.
    const opts = e.kind === 'unix' ? { socketPath: e.socketPath } : { host: e.host, port: e.port };
    return Object.assign(opts, { servername: '' });
  }

  private connError(err: NodeJS.ErrnoException): Error {
    const url = this.endpoint.url;
    if (err.code === 'EACCES') {
      return new ConnectionError(`permission denied while trying to connect to the berth daemon socket at ${url}`, err.code, err);
    }
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
      return new ConnectionError(`Cannot connect to the berth daemon at ${url}. Is the berth daemon running?`, err.code, err);
    }
    return new ConnectionError(`error during connect to ${url}: ${err.message}`, err.code, err);
  }

  url(path: string, query?: Query): string {
    return `/v${this.version}${path}${encodeQuery(query)}`;
  }

  private prepare(method: string, opts: RequestOptions): { headers: Record<string, string>; payload?: Buffer; stream?: Readable } {
    const headers: Record<string, string> = { 'User-Agent': 'berth-cli', ...opts.headers };
    let payload: Buffer | undefined;
    let stream: Readable | undefined;
    const body = opts.body;
    if (body instanceof Readable) {
      stream = body;
      headers['Content-Type'] ??= 'application/octet-stream';
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      payload = Buffer.from(body);
    } else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] ??= 'application/json';
    }
    if (payload) headers['Content-Length'] = String(payload.length);
    else if (!stream && method !== 'GET' && method !== 'HEAD') headers['Content-Length'] = '0';
    return { headers, payload, stream };
  }

  // The whole response of a request whose body is in memory (or none),
  // without node:http; rejects with ClientError on status >= 400.
  private async whole(method: string, path: string, opts: RequestOptions): Promise<{ status: number; body: Buffer }> {
    const { headers, payload } = this.prepare(method, opts);
    let res;
    try {
      res = await exchange(this.target(), method, this.url(path, opts.query), headers, payload);
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code ? this.connError(err as NodeJS.ErrnoException) : err;
    }
    if (res.status >= 400) throw errorFromBody(res.status, res.body);
    return res;
  }

  // Resolves when the response headers arrive; rejects with ClientError on status >= 400.
  request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const { headers, payload, stream } = this.prepare(method, opts);
    return new Promise((resolve, reject) => {
      const req = http().request({
        ...this.target(),
        agent: this.agent,
        method,
        path: this.url(path, opts.query),
        headers,
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(err.code ? this.connError(err) : err));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readAll(res).then((b) => reject(errorFromBody(status, b)), reject);
          return;
        }
        resolve({ status, headers: res.headers, body: res });
      });
      if (stream) {
        // The headers go now, not with the first chunk: a stream slow to
        // start (mmdebstrap's tar) must not meet the server's headers timeout.
        req.flushHeaders();
        stream.on('error', (err) => req.destroy(err));
        stream.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  // Sends a request and parses the JSON response body (undefined when empty).
  async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const text = opts.body instanceof Readable
      ? (await readAll((await this.request(method, path, opts)).body)).toString('utf8')
      : (await this.whole(method, path, opts)).body.toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  // Sends a request whose response body is ignored (204s, 304s).
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<number> {
    if (!(opts.body instanceof Readable)) return (await this.whole(method, path, opts)).status;
    const res = await this.request(method, path, opts);
    res.body.resume();
    await new Promise((r) => res.body.once('end', r));
    return res.status;
  }

  get<T = any>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  // Upgrades a POST (attach, exec start) to a raw bidirectional socket.
  hijack(path: string, query?: Query, opts: { body?: unknown } = {}): Promise<Hijacked> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = http().request({
        ...this.target(),
        agent: false,
        method: 'POST',
        path: this.url(path, query),
        headers: {
          'User-Agent': 'berth-cli',
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          'Content-Type': payload ? 'application/json' : 'text/plain',
          'Content-Length': String(payload ? payload.length : 0),
        },
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(err.code ? this.connError(err) : err));
      req.on('upgrade', (res, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, headers: res.headers });
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        readAll(res).then((b) => {
          if (status >= 400) reject(errorFromBody(status, b));
          else reject(new ClientError(status, `unable to upgrade to tcp, received ${status}`));
        }, reject);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agentCache?.destroy();
  }
}
