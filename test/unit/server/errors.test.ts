import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { ServerResponse } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BerthError, type ErrorKind, wrap } from '../../../src/errors';
import { sendError, statusOf } from '../../../src/server/errors';

test('statusOf maps every error kind', () => {
  const want: Record<ErrorKind, number> = {
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
  for (const [kind, status] of Object.entries(want)) assert.equal(statusOf(new BerthError(kind as ErrorKind, 'x')), status, kind);
});

test('statusOf: anything that is not a BerthError is a 500', () => {
  assert.equal(statusOf(new Error('boom')), 500);
  assert.equal(statusOf(Object.assign(new Error('nope'), { code: 'ENOENT' })), 500);
  assert.equal(statusOf('a string'), 500);
  assert.equal(statusOf(undefined), 500);
});

test('wrapped errors keep their status', () => {
  assert.equal(statusOf(wrap(new BerthError('NotFound', 'no such thing'), 'inspect')), 404);
  assert.equal(statusOf(wrap(new Error('disk'), 'write')), 500);
});

// A ServerResponse stand-in that records what is written.
class FakeRes {
  headersSent = false;
  status?: number;
  headers?: Record<string, string | number>;
  body = '';
  ended = false;
  destroyed = false;
  writeHead(status: number, headers?: Record<string, string | number>) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  end(body?: string) {
    if (body) this.body += body;
    this.ended = true;
    return this;
  }
  destroy() {
    this.destroyed = true;
    return this;
  }
}
const asRes = (r: FakeRes) => r as unknown as ServerResponse;

test('sendError writes {"message": ...} JSON with the mapped status', () => {
  const res = new FakeRes();
  sendError(asRes(res), new BerthError('NotFound', 'No such container: abc'));
  assert.equal(res.status, 404);
  assert.equal(res.headers?.['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(res.body), { message: 'No such container: abc' });
  assert.equal(res.headers?.['Content-Length'], Buffer.byteLength(res.body));
  assert.equal(res.ended, true);
});

test('sendError counts Content-Length in bytes', () => {
  const res = new FakeRes();
  sendError(asRes(res), new BerthError('Conflict', 'name «web» in use'));
  assert.equal(res.status, 409);
  assert.equal(res.headers?.['Content-Length'], Buffer.byteLength(res.body));
  assert.ok((res.headers?.['Content-Length'] as number) > res.body.length);
});

test('sendError: internal errors are logged with their stack; others are not', () => {
  const logs: string[] = [];
  const res = new FakeRes();
  sendError(asRes(res), new Error('disk on fire'), (m) => logs.push(m));
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(res.body), { message: 'disk on fire' });
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^internal error: Error: disk on fire\n\s+at /);

  sendError(asRes(new FakeRes()), new BerthError('InvalidArgument', 'bad'), (m) => logs.push(m));
  assert.equal(logs.length, 1);
});

test('sendError of a non-Error value', () => {
  const res = new FakeRes();
  sendError(asRes(res), 'plain failure');
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(res.body), { message: 'plain failure' });
});

test('sendError: 304 has no body', () => {
  const res = new FakeRes();
  sendError(asRes(res), new BerthError('NotModified', 'container already started'));
  assert.equal(res.status, 304);
  assert.equal(res.body, '');
  assert.equal(res.ended, true);
});

test('sendError after the headers went out drops the connection', () => {
  const res = new FakeRes();
  res.headersSent = true;
  sendError(asRes(res), new BerthError('Internal', 'mid-stream'));
  assert.equal(res.destroyed, true);
  assert.equal(res.status, undefined);
  assert.equal(res.body, '');
});

test('sendError over a real HTTP server on a unix socket', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-err-'));
  const sock = path.join(dir, 'api.sock');
  const server = http.createServer((_req, res) => sendError(res, new BerthError('InvalidArgument', 'invalid reference format')));
  try {
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const reply = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      http
        .get({ socketPath: sock, path: '/v1.44/images/Bad/json' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
        })
        .on('error', reject);
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.type, 'application/json');
    assert.deepEqual(JSON.parse(reply.body), { message: 'invalid reference format' });
  } finally {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sendError: a client that went away is logged at debug only, and nothing is written', () => {
  const res = new FakeRes();
  res.destroyed = true;
  const logged: string[] = [];
  const debugged: string[] = [];
  sendError(asRes(res), Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), (m) => logged.push(m), (m) => debugged.push(m));
  // Wrapped by the engine ("import: …"), the cause tells.
  sendError(asRes(res), wrap(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'import'), (m) => logged.push(m), (m) => debugged.push(m));
  assert.deepEqual(logged, []);
  assert.deepEqual(debugged, ['client went away: aborted', 'client went away: import: write EPIPE']);
  assert.equal(res.status, undefined);
});

test('sendError: a real failure that cut the connection is still an internal error', () => {
  const res = new FakeRes();
  res.destroyed = true;
  const logged: string[] = [];
  sendError(asRes(res), Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), (m) => logged.push(m), () => assert.fail('not debug'));
  assert.match(logged[0], /^internal error: Error: no space left on device/);
});

test('sendError: an internal error with the client still there is logged with its stack', () => {
  const res = new FakeRes();
  const logged: string[] = [];
  sendError(asRes(res), new Error('disk on fire'), (m) => logged.push(m), () => assert.fail('not debug'));
  assert.equal(res.status, 500);
  assert.match(logged[0], /^internal error: Error: disk on fire\n\s+at /);
});
