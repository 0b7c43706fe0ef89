import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client, ClientError, ConnectionError, encodeQuery, readAll } from '../../../src/client/client';
import { DEFAULT_HOST, parseHost, selectHost } from '../../../src/client/host';

describe('host selection', () => {
  it('prefers -H, then BERTH_HOST, then DOCKER_HOST, then the default', () => {
    assert.equal(selectHost('unix:///flag', { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///d' }), 'unix:///flag');
    assert.equal(selectHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///d' }), 'unix:///b');
    assert.equal(selectHost(undefined, { DOCKER_HOST: 'unix:///d' }), 'unix:///d');
    assert.equal(selectHost(undefined, {}), DEFAULT_HOST);
    assert.equal(DEFAULT_HOST, 'unix:///run/berth/berth.sock');
  });

  it('parses unix and tcp hosts', () => {
    assert.deepEqual(parseHost('unix:///run/x.sock'), { kind: 'unix', socketPath: '/run/x.sock', url: 'unix:///run/x.sock' });
    assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375, url: 'tcp://127.0.0.1:2375' });
    assert.throws(() => parseHost('ssh://x'), /invalid host/);
  });

  it('encodes queries like the docker client', () => {
    assert.equal(encodeQuery({ all: true, size: false, limit: 3, name: undefined, f: '{"a":["b"]}' }), '?all=1&limit=3&f=%7B%22a%22%3A%5B%22b%22%5D%7D');
    assert.equal(encodeQuery({ changes: ['ENV A=1', 'CMD x'] }), '?changes=ENV%20A%3D1&changes=CMD%20x');
    assert.equal(encodeQuery({}), '');
  });
});

describe('Client', () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-client-'));
    sock = path.join(dir, 's.sock');
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url === '/v1.51/ok') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"hello":"world"}');
        } else if (req.url === '/v1.51/echo') {
          res.writeHead(200);
          res.end(Buffer.concat(chunks));
        } else if (req.url === '/v1.51/nocontent') {
          res.writeHead(204);
          res.end();
        } else if (req.url === '/v1.51/text-error') {
          res.writeHead(500);
          res.end('plain failure\n');
        } else {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"message":"No such container: x"}');
        }
      });
    });
    server.on('upgrade', (req, socket: Socket) => {
      if (!req.url!.includes('/good/')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{"message":"no attach"}');
        return;
      }
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      // Bytes right after the 101 must not be lost.
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly:');
      socket.on('data', (d) => socket.write(d));
      socket.on('end', () => socket.end('bye'));
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gets JSON with the /v1.51 prefix', async () => {
    const c = new Client(`unix://${sock}`);
    assert.deepEqual(await c.get('/ok'), { hello: 'world' });
    assert.equal(seen.at(-1)!.url, '/v1.51/ok');
    c.close();
  });

  it('sends JSON and streamed bodies', async () => {
    const c = new Client(`unix://${sock}`);
    const res = await c.request('POST', '/echo', { body: { a: 1 } });
    assert.equal((await readAll(res.body)).toString(), '{"a":1}');
    assert.equal(seen.at(-1)!.headers['content-type'], 'application/json');
    const big = Buffer.alloc(300000, 7);
    const res2 = await c.request('POST', '/echo', { body: Readable.from([big.subarray(0, 1000), big.subarray(1000)]) });
    assert.ok((await readAll(res2.body)).equals(big));
    assert.equal(seen.at(-1)!.headers['transfer-encoding'], 'chunked');
    assert.equal(await c.call('POST', '/nocontent'), 204);
    c.close();
  });

  it('throws ClientError with the daemon message and status', async () => {
    const c = new Client(`unix://${sock}`);
    await assert.rejects(c.get('/missing'), (e: unknown) => e instanceof ClientError && e.status === 404 && e.message === 'No such container: x');
    await assert.rejects(c.get('/text-error'), (e: unknown) => e instanceof ClientError && e.status === 500 && e.message === 'plain failure');
    c.close();
  });

  it('reports an unreachable daemon', async () => {
    const c = new Client(`unix://${dir}/nope.sock`);
    await assert.rejects(c.get('/ok'), (e: unknown) => e instanceof ConnectionError && /Cannot connect to the berth daemon at unix:\/\//.test((e as Error).message));
  });

  it('hijacks a connection for attach', async () => {
    const c = new Client(`unix://${sock}`);
    const { socket, headers } = await c.hijack('/containers/good/attach', { stream: true, stdout: true });
    assert.equal(headers['content-type'], 'application/vnd.docker.raw-stream');
    const req = seen.at(-1)!;
    assert.equal(req.url, '/v1.51/containers/good/attach?stream=1&stdout=1');
    assert.equal(req.headers.connection, 'Upgrade');
    assert.equal(req.headers.upgrade, 'tcp');
    socket.end('ping');
    assert.equal((await readAll(socket)).toString(), 'early:pingbye');
    await assert.rejects(c.hijack('/containers/bad/attach'), (e: unknown) => e instanceof ClientError && e.status === 404 && e.message === 'no attach');
    c.close();
  });

  it('reads whole answers over a raw connection: chunked in pieces, by length, to the close, none for 204 and HEAD; an empty error body gives the status text', async () => {
    const raw = path.join(dir, 'raw.sock');
    const heads: string[] = [];
    const rawServer = net.createServer((s) => {
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        heads.push(got);
        const url = got.split(' ')[1];
        const send = async (parts: string[]) => {
          for (const p of parts) {
            s.write(p);
            await new Promise((r) => setImmediate(r));
          }
          s.end();
        };
        if (url.endsWith('/chunked')) void send(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n', '7\r\n{"a":[1', '\r\n', '3\r\n,2]\r\n6\r\n,"b":3', '\r\n1\r\n}\r\n0\r', '\n\r\n']);
        else if (url.endsWith('/length')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n[1, 2]'); // left open: the length ends it
        else if (url.endsWith('/close')) void send(['HTTP/1.0 200 OK\r\n\r\n{"x"', ':true}']);
        else if (url.endsWith('/none')) s.end('HTTP/1.1 204 No Content\r\n\r\n');
        else if (url.endsWith('/empty-error')) s.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
        else if (url.endsWith('/cut')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"a"');
        else s.end('HTTP/1.1 200 OK\r\n\r\n');
      });
    });
    await new Promise<void>((r) => rawServer.listen(raw, r));
    try {
      const c = new Client(`unix://${raw}`);
      assert.deepEqual(await c.get('/chunked'), { a: [1, 2], b: 3 });
      assert.deepEqual(await c.json('POST', '/length', { body: { q: 'é' } }), [1, 2]);
      assert.equal(heads.at(-1)!, `POST /v1.51/length HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-cli\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n${Buffer.from('{"q":"é"}').toString('latin1')}`);
      assert.deepEqual(await c.get('/close'), { x: true });
      assert.equal(await c.call('DELETE', '/none'), 204);
      assert.match(heads.at(-1)!, /Content-Length: 0\r\n/);
      assert.equal(await c.call('HEAD', '/length'), 200);
      await assert.rejects(c.get('/empty-error'), (e: unknown) => e instanceof ClientError && e.status === 500 && e.message === '500 Internal Server Error');
      await assert.rejects(c.get('/cut'), (e: unknown) => e instanceof ConnectionError && /socket hang up/.test((e as Error).message));
      c.close();
    } finally {
      await new Promise((r) => rawServer.close(r));
    }
  });
});
