// The one place engine errors become HTTP status codes.
import type { ServerResponse } from 'node:http';
import { BerthError, type ErrorKind } from '../errors';

const STATUS: Record<ErrorKind, number> = {
  InvalidArgument: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  FailedPrecondition: 409,
  NotModified: 304,
  Unavailable: 503,
  NotImplemented: 501,
  Internal: 500,
};

export function statusOf(err: unknown): number {
  if (err instanceof BerthError) return STATUS[err.kind];
  return 500;
}

// The connection is closed and the error is what a hang-up raises: the
// client went away mid-upload (the body's stream fails with "aborted") or
// before its reply was written. A real failure that merely happened to cut
// the connection (a disk error mid-stream) is still an internal error.
const HANG_UP = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

export function clientGone(res: ServerResponse, err: unknown): boolean {
  const req = res.req as ServerResponse['req'] | undefined;
  const closed = res.destroyed || !!res.socket?.destroyed || !!(req && req.destroyed && !req.complete);
  if (!closed) return false;
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (HANG_UP.has((e as NodeJS.ErrnoException).code ?? '') || e.message === 'aborted') return true;
  }
  return false;
}

// A failure after the client left is no server fault: `debug` gets it, and
// nothing is written.
export function sendError(res: ServerResponse, err: unknown, log?: (msg: string) => void, debug?: (msg: string) => void): void {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (clientGone(res, err)) {
    const req = res.req as ServerResponse['req'] | undefined;
    debug?.(`client went away${req ? ` during ${req.method} ${req.url}` : ''}: ${message}`);
    res.destroy();
    return;
  }
  if (status === 500 && log) log(`internal error: ${err instanceof Error && err.stack ? err.stack : message}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
