// One HTTP/1.1 request and its whole response over node:net: what the CLI's
// plain calls need (a body in memory, a response read whole). node:http
// costs about 2 ms of CPU to load on every start, and most commands make
// only such calls; streamed bodies and upgrades still go through node:http
// (client.ts, loaded when first used). One connection per exchange
// (`Connection: close`): a Unix socket connects in microseconds.
import * as net from 'node:net';

export type Target = { socketPath: string } | { host: string; port: number };

export interface Exchange {
  status: number;
  // Lower-case names; repeated headers joined with ", " (set-cookie: an
  // array), as node:http's IncomingMessage has them.
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');

function hangUp(): NodeJS.ErrnoException {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

function parseHead(text: string): { status: number; headers: Record<string, string | string[]> } {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) throw Object.assign(new Error(`malformed HTTP response: ${JSON.stringify(lines[0].slice(0, 80))}`), { code: 'HPE_INVALID_CONSTANT' });
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const had = headers[name];
    if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value];
    else headers[name] = had === undefined ? value : `${had}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

// Decodes a chunked body from `buf`; undefined until the last chunk (and
// the trailer's end) has arrived.
function dechunk(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw Object.assign(new Error('malformed chunked body'), { code: 'HPE_INVALID_CHUNK_SIZE' });
    if (size === 0) {
      // The trailer (usually empty) ends with an empty line.
      return buf.indexOf(CRLF2, eol) < 0 ? undefined : Buffer.concat(parts);
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export function exchange(target: Target, method: string, path: string, headers: Record<string, string>, payload?: Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const host = 'socketPath' in target ? 'localhost' : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += 'Connection: close\r\n\r\n';
    const sock = 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
    let buf: Buffer = Buffer.alloc(0);
    let parsed: { status: number; headers: Record<string, string | string[]>; bodyAt: number } | undefined;
    let settled = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (err) reject(err);
      else resolve({ status: parsed!.status, headers: parsed!.headers, body: body! });
    };
    // Whether the response is complete with what has arrived; at the
    // connection's end, a body without a length is whatever came.
    const check = (ended: boolean) => {
      try {
        while (!parsed) {
          const end = buf.indexOf(CRLF2);
          if (end < 0) return ended ? finish(hangUp()) : undefined;
          const h = parseHead(buf.subarray(0, end).toString('latin1'));
          if (h.status >= 100 && h.status < 200) {
            // 100 Continue and the like: the real head follows.
            buf = buf.subarray(end + 4);
            continue;
          }
          parsed = { ...h, bodyAt: end + 4 };
        }
        const body = buf.subarray(parsed.bodyAt);
        if (method === 'HEAD' || parsed.status === 204 || parsed.status === 304) return finish(undefined, Buffer.alloc(0));
        const te = parsed.headers['transfer-encoding'];
        if (typeof te === 'string' && /chunked/i.test(te)) {
          const out = dechunk(body);
          if (out) return finish(undefined, out);
          return ended ? finish(hangUp()) : undefined;
        }
        const cl = parsed.headers['content-length'];
        if (typeof cl === 'string') {
          const n = Number(cl);
          if (body.length >= n) return finish(undefined, body.subarray(0, n));
          return ended ? finish(hangUp()) : undefined;
        }
        if (ended) finish(undefined, body);
      } catch (err) {
        finish(err as Error);
      }
    };
    // Not end(): some servers (Go's) take a client's half-close for a
    // client gone. The server closes after its answer.
    sock.on('connect', () => sock.write(payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head));
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      check(false);
    });
    sock.on('end', () => check(true));
    sock.on('close', () => check(true));
    sock.on('error', (err) => finish(err));
  });
}
