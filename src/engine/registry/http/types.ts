// The one request contract of the registry client. The node transport
// implements it; redirects, retries and auth are wrappers around it, each a
// function from a Dispatch to a Dispatch.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  // Only buffers: a body must be replayable for auth retries. Uploads send
  // chunks read from the caller's stream, never the stream itself.
  body?: Buffer;
  // Token scopes this request needs, e.g. "repository:foo/bar:pull".
  scopes?: string[];
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  // Repeated headers kept apart (WWW-Authenticate may come more than once).
  headersDistinct: Record<string, string[]>;
  body: Readable;
  url: URL; // after redirects
}

export type Dispatch = (req: HttpRequest) => Promise<HttpResponse>;

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

// Reads a body up to `limit` bytes (the rest is dropped); for error
// messages and small JSON documents whose size does not matter.
export async function readSome(body: Readable, limit = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (n + b.length > limit) {
        parts.push(b.subarray(0, limit - n));
        n = limit;
        break;
      }
      parts.push(b);
      n += b.length;
    }
  } catch {
    /* a broken error body still gives the status */
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts);
}

// Throws away a response body, keeping the connection usable if it is small.
export function discard(res: HttpResponse): void {
  res.body.on('error', () => {});
  res.body.resume();
}
