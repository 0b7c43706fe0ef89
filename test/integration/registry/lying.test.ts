// A registry that lies, written here on node:http (127.0.0.1 only): the
// client must catch every lie with a clear error, and stop reading early
// when a body is larger than it may be.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import { MEDIA_TYPES } from '../../../src/oci/mediatypes';
import { MAX_MANIFEST_SIZE, RegistryClient } from '../../../src/engine/registry';
import { BerthError } from '../../../src/errors';
import { readAll, sha256 } from './helpers';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => unknown;

interface Fake {
  host: string;
  origin: string;
  handler: Handler;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function fakeServer(): Promise<Fake> {
  const fake = {
    handler: ((_q, res) => {
      res.writeHead(500);
      res.end();
    }) as Handler,
    requests: [] as Fake['requests'],
  } as Fake;
  const server = http.createServer(async (req, res) => {
    fake.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const chunks: Buffer[] = [];
    // PATCH bodies are read by the handler itself in some tests.
    if (req.method !== 'PATCH') for await (const c of req) chunks.push(c as Buffer);
    try {
      await fake.handler(req, res, Buffer.concat(chunks));
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  fake.host = `127.0.0.1:${port}`;
  fake.origin = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

const kindIs = (kind: string, re?: RegExp, code?: string) => (err: unknown) => {
  assert.ok(err instanceof BerthError, `not a BerthError: ${err}`);
  assert.equal(err.kind, kind, err.message);
  if (re) assert.match(err.message, re);
  if (code) assert.equal((err as BerthError & { code: string }).code, code);
  return true;
};

// Writes `piece` until the client goes away or `cap` bytes are out;
// resolves with the number of bytes written.
function endless(res: http.ServerResponse, piece: Buffer, cap = 512 * 1024 * 1024): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve(sent);
    });
    const pump = () => {
      while (!closed && sent < cap) {
        sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
}

const manifestOf = (mediaType: string) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(Buffer.from('c')), size: 1 },
      layers: [],
    }),
  );

describe('a lying registry', () => {
  let fake: Fake;
  let storage: Fake;
  let c: RegistryClient;
  before(async () => {
    fake = await fakeServer();
    storage = await fakeServer();
  });
  afterEach(() => {
    c?.close();
    fake.requests.length = 0;
    storage.requests.length = 0;
  });
  after(async () => {
    await fake.close();
    await storage.close();
  });
  const client = (extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) =>
    (c = new RegistryClient({ host: fake.host, insecure: true, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...extra }));
  const blob = randomBytes(64 * 1024);
  const desc = { mediaType: MEDIA_TYPES.ociLayerTar, digest: sha256(blob), size: blob.length };

  test('blob with the wrong bytes: digest mismatch', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.end(randomBytes(blob.length));
    };
    const s = await client().fetchBlob('x/y', desc);
    await assert.rejects(readAll(s), kindIs('InvalidArgument', /blob .*x\/y@sha256:[0-9a-f]+: digest mismatch: got sha256:[0-9a-f]{64}, want sha256/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
  });

  test('truncated blob: announced short, ended short, or cut off', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': blob.length - 10 });
      res.end(blob.subarray(10));
    };
    await assert.rejects(client().fetchBlob('x/y', desc), kindIs('InvalidArgument', /announces 65526 bytes, fewer than the expected 65536/, 'ERR_REGISTRY_SHORT_READ'));

    fake.handler = (_q, res) => {
      res.writeHead(200); // chunked: no length to check up front
      res.end(blob.subarray(0, blob.length - 1));
    };
    await assert.rejects(readAll(await c.fetchBlob('x/y', desc)), kindIs('InvalidArgument', /got 65535 of 65536 bytes/, 'ERR_REGISTRY_SHORT_READ'));

    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 1000), () => res.destroy());
    };
    await assert.rejects(readAll(await c.fetchBlob('x/y', desc)), kindIs('Unavailable', /blob .*x\/y@sha256/));
  });

  test('a dropped connection is resumed with Range from where it broke', async () => {
    // Breaks after 1000 bytes, then after 20000 more; the third try ends it.
    fake.handler = (q, res) => {
      const m = /^bytes=(\d+)-$/.exec(String(q.headers.range ?? ''));
      const from = m ? Number(m[1]) : 0;
      const cut = from === 0 ? 1000 : from === 1000 ? 21000 : blob.length;
      if (m) res.writeHead(206, { 'Content-Length': blob.length - from, 'Content-Range': `bytes ${from}-${blob.length - 1}/${blob.length}` });
      else res.writeHead(200, { 'Content-Length': blob.length });
      if (cut === blob.length) return res.end(blob.subarray(from));
      res.write(blob.subarray(from, cut), () => res.destroy());
    };
    const got = await readAll(await client().fetchBlob('x/y', desc));
    assert.ok(got.equals(blob));
    assert.deepEqual(fake.requests.map((r) => r.headers.range), [undefined, 'bytes=1000-', 'bytes=21000-']);
  });

  test('a resumed download that breaks every time, or is answered from another offset, fails', async () => {
    fake.handler = (q, res) => {
      const from = Number(/^bytes=(\d+)-$/.exec(String(q.headers.range ?? ''))?.[1] ?? 0);
      res.writeHead(from ? 206 : 200, from ? { 'Content-Range': `bytes ${from}-${blob.length - 1}/${blob.length}` } : { 'Content-Length': blob.length });
      res.write(blob.subarray(from, from + 1000), () => res.destroy());
    };
    await assert.rejects(readAll(await client().fetchBlob('x/y', desc)), kindIs('Unavailable', /blob .*x\/y@sha256/));
    assert.equal(fake.requests.length, 3, 'one request and two resumes (retry attempts: 3)');

    fake.requests.length = 0;
    fake.handler = (q, res) => {
      if (!q.headers.range) {
        res.writeHead(200, { 'Content-Length': blob.length });
        return res.write(blob.subarray(0, 1000), () => res.destroy());
      }
      // Claims a range that does not start where the client asked.
      res.writeHead(206, { 'Content-Range': `bytes 0-${blob.length - 1}/${blob.length}` });
      res.end(blob);
    };
    await assert.rejects(readAll(await client().fetchBlob('x/y', desc)), kindIs('Unavailable', /blob .*x\/y@sha256/));
    assert.deepEqual(fake.requests.map((r) => r.headers.range), [undefined, 'bytes=1000-']);
  });

  test('oversized blob: announced too long is refused before reading', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': blob.length + 1 });
      res.end(Buffer.concat([blob, Buffer.from('!')]));
    };
    await assert.rejects(client().fetchBlob('x/y', desc), kindIs('InvalidArgument', /announces 65537 bytes, more than the expected 65536/, 'ERR_REGISTRY_SIZE_EXCEEDED'));
  });

  test('oversized blob: an endless stream is cut at size+1', async () => {
    let served: Promise<number> | undefined;
    fake.handler = (_q, res) => {
      res.writeHead(200); // chunked, no Content-Length
      served = endless(res, Buffer.concat([blob, randomBytes(64 * 1024)]));
    };
    const s = await client().fetchBlob('x/y', desc);
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of s) received += (chunk as Buffer).length;
      })(),
      kindIs('InvalidArgument', /more data than the expected 65536 bytes/, 'ERR_REGISTRY_SIZE_EXCEEDED'),
    );
    assert.ok(received <= desc.size, `the consumer got ${received} bytes`);
    const sent = await served!; // resolves when the client hung up
    assert.ok(sent < 32 * 1024 * 1024, `the server pushed ${sent} bytes before the client hung up`);
  });

  test('oversized manifest: endless, and announced too long', async () => {
    let served: Promise<number> | undefined;
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest });
      res.write('{"schemaVersion":2,"x":"');
      served = endless(res, Buffer.alloc(64 * 1024, 'a'));
    };
    await assert.rejects(client().getManifest('x/y', 'latest'), kindIs('InvalidArgument', new RegExp(`larger than the ${MAX_MANIFEST_SIZE} byte limit`), 'ERR_REGISTRY_SIZE_EXCEEDED'));
    const sent = await served!;
    assert.ok(sent < MAX_MANIFEST_SIZE + 32 * 1024 * 1024, `the server pushed ${sent} bytes`);

    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest, 'Content-Length': MAX_MANIFEST_SIZE + 1 });
      void endless(res, Buffer.alloc(64 * 1024, ' '), MAX_MANIFEST_SIZE + 1);
    };
    await assert.rejects(c.getManifest('x/y', 'latest'), kindIs('InvalidArgument', /4194305 bytes is larger than the 4194304 byte limit/));
  });

  test('manifest whose Content-Type does not match its mediaType', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.dockerManifest });
      res.end(manifestOf(MEDIA_TYPES.ociManifest));
    };
    await assert.rejects(client().getManifest('x/y', 'latest'), kindIs('InvalidArgument', /manifest media type "application\/vnd.oci.image.manifest.v1\+json" does not match the content type "application\/vnd.docker.distribution.manifest.v2\+json"/, 'ERR_REGISTRY_MEDIA_TYPE_MISMATCH'));
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(manifestOf(MEDIA_TYPES.ociManifest));
    };
    await assert.rejects(c.getManifest('x/y', 'latest'), kindIs('InvalidArgument', /unexpected content type "text\/html"/, 'ERR_REGISTRY_MEDIA_TYPE_MISMATCH'));
    // A generic type is fine: the document says what it is.
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(manifestOf(MEDIA_TYPES.ociManifest));
    };
    assert.equal((await c.getManifest('x/y', 'latest')).descriptor.mediaType, MEDIA_TYPES.ociManifest);
  });

  test('manifest by digest with other content: digest mismatch', async () => {
    const real = manifestOf(MEDIA_TYPES.ociManifest);
    const other = manifestOf(MEDIA_TYPES.ociManifest).toString().replace('"layers":[]', '"layers":[ ]');
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest, 'Docker-Content-Digest': sha256(real) });
      res.end(other);
    };
    await assert.rejects(client().getManifest('x/y', sha256(real)), kindIs('InvalidArgument', /digest mismatch: content has sha256:/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
    // By tag, a Docker-Content-Digest that does not match the bytes.
    await assert.rejects(c.getManifest('x/y', 'latest'), kindIs('InvalidArgument', /the registry says sha256:[0-9a-f]+ but the content has/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
    // HEAD answering for another digest.
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest, 'Docker-Content-Digest': sha256(Buffer.from('other')), 'Content-Length': real.length });
      res.end();
    };
    await assert.rejects(c.headManifest('x/y', sha256(real)), kindIs('InvalidArgument', /answered for/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
  });

  test('redirected blob: followed, without the Authorization header', async () => {
    const basic = 'Basic ' + Buffer.from('u:p').toString('base64');
    fake.handler = (req, res) => {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' });
        res.end();
        return;
      }
      res.writeHead(307, { Location: `${storage.origin}/bucket/blob?signature=abc` });
      res.end();
    };
    storage.handler = (req, res) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.end(req.method === 'HEAD' ? undefined : blob);
    };
    const s = await client({ auth: { username: 'u', password: 'p' } }).fetchBlob('x/y', desc);
    assert.ok((await readAll(s)).equals(blob));
    assert.equal(await c.blobSize('x/y', desc.digest), blob.length);
    assert.equal(storage.requests.length, 2);
    for (const r of storage.requests) {
      assert.equal(r.headers.authorization, undefined);
      assert.equal(r.url, '/bucket/blob?signature=abc');
    }
  });

  test('reads are retried on 5xx; writes are not', async () => {
    let n = 0;
    const m = manifestOf(MEDIA_TYPES.ociManifest);
    fake.handler = (_q, res) => {
      if (++n < 3) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest });
      res.end(m);
    };
    assert.ok((await client().getManifest('x/y', 'latest')).bytes.equals(m));
    assert.equal(n, 3);

    n = 0;
    fake.handler = (_q, res) => {
      n++;
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] }));
    };
    await assert.rejects(c.getManifest('x/y', 'latest'), kindIs('Unavailable', /internal server error: disk on fire/));
    assert.equal(n, 3);
    n = 0;
    await assert.rejects(c.putManifest('x/y', 'latest', MEDIA_TYPES.ociManifest, m), kindIs('Unavailable', /push manifest .*: internal server error: disk on fire/));
    assert.equal(n, 1);
  });

  test('403 and registry error bodies', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
    };
    await assert.rejects(client().listTags('x/y'), (err: unknown) => {
      kindIs('Forbidden', /tags of 127\.0\.0\.1:\d+\/x\/y: denied: requested access to the resource is denied/)(err);
      assert.deepEqual((err as { errors: unknown }).errors, [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: undefined }]);
      return true;
    });
  });

  test('tags: Link pagination, relative and absolute; loops refused', async () => {
    fake.handler = (req, res) => {
      const u = new URL(req.url!, fake.origin);
      const last = u.searchParams.get('last');
      const page = (tags: string[], link?: string) => {
        res.writeHead(200, { 'Content-Type': 'application/json', ...(link ? { Link: link } : {}) });
        res.end(JSON.stringify({ name: 'x/y', tags }));
      };
      if (!last) return page(['a', 'b'], '</v2/x/y/tags/list?n=2&last=b>; rel="next"');
      if (last === 'b') return page(['c', 'd'], `<${fake.origin}/v2/x/y/tags/list?n=2&last=d>; rel="next"`);
      return page(['e']);
    };
    assert.deepEqual(await client().listTags('x/y'), ['a', 'b', 'c', 'd', 'e']);
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', Link: '</v2/x/y/tags/list?last=a>; rel="next"' });
      res.end(JSON.stringify({ name: 'x/y', tags: ['a'] }));
    };
    await assert.rejects(c.listTags('x/y'), /pagination loops/);
  });

  test('upload: relative and absolute Locations, a partial Range, a cut connection', async () => {
    const data = randomBytes(40_000);
    let stored = Buffer.alloc(0);
    let state = 0;
    let patches = 0;
    const hdr = () => ({ 'Docker-Upload-UUID': 'u-1', Range: `0-${Math.max(stored.length - 1, 0)}` });
    fake.handler = async (req, res, body) => {
      const u = new URL(req.url!, fake.origin);
      if (req.method === 'POST') {
        res.writeHead(202, { Location: `/uploads/u-1?_state=${state}`, 'Docker-Upload-UUID': 'u-1', Range: '0-0' });
        return res.end();
      }
      assert.equal(u.pathname, '/uploads/u-1');
      assert.equal(u.searchParams.get('_state'), String(state), 'the client uses the latest Location');
      if (req.method === 'GET') {
        res.writeHead(204, { ...hdr(), Location: `${fake.origin}/uploads/u-1?_state=${++state}` });
        return res.end();
      }
      if (req.method === 'PATCH') {
        const parts: Buffer[] = [];
        patches++;
        const [from, to] = String(req.headers['content-range']).split('-').map(Number);
        assert.equal(from, stored.length, 'Content-Range starts where the upload is');
        if (patches === 2) {
          // Take 1000 bytes, then cut the connection.
          for await (const c of req) {
            parts.push(c as Buffer);
            if (Buffer.concat(parts).length >= 1000) break;
          }
          stored = Buffer.concat([stored, Buffer.concat(parts).subarray(0, 1000)]);
          req.socket.destroy();
          return;
        }
        for await (const c of req) parts.push(c as Buffer);
        const got = Buffer.concat(parts);
        assert.equal(got.length, to - from + 1);
        // The first PATCH: keep only half, and say so in Range.
        stored = Buffer.concat([stored, patches === 1 ? got.subarray(0, got.length >> 1) : got]);
        res.writeHead(202, { ...hdr(), Location: patches % 2 ? `/uploads/u-1?_state=${++state}` : `${fake.origin}/uploads/u-1?_state=${++state}` });
        return res.end();
      }
      if (req.method === 'PUT') {
        stored = Buffer.concat([stored, body]);
        const digest = u.searchParams.get('digest');
        if (digest !== sha256(stored)) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
        }
        res.writeHead(201, { 'Docker-Content-Digest': digest, Location: `/v2/x/y/blobs/${digest}` });
        return res.end();
      }
      res.writeHead(405);
      res.end();
    };
    const r = await client().pushBlob('x/y', Readable.from([data]), { chunkSize: 10_000 });
    assert.deepEqual(r, { digest: sha256(data), size: data.length });
    assert.ok(stored.equals(data));
    assert.ok(fake.requests.some((q) => q.method === 'GET'), 'asked for the upload status after the cut');
  });

  test('upload: a registry that stores another digest is caught', async () => {
    fake.handler = (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(202, { Location: '/uploads/u-2' });
        return res.end();
      }
      if (req.method === 'PUT') {
        res.writeHead(201, { 'Docker-Content-Digest': sha256(Buffer.from('something else')) });
        return res.end();
      }
      res.writeHead(204);
      res.end();
    };
    await assert.rejects(client().pushBlob('x/y', Readable.from([Buffer.from('hello')])), kindIs('InvalidArgument', /the registry stored sha256:/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
    assert.ok(fake.requests.some((q) => q.method === 'DELETE' && q.url === '/uploads/u-2'), 'the upload is cancelled');
  });

  test('a registry that never answers times out', async () => {
    fake.handler = () => {
      /* never respond */
    };
    const t0 = Date.now();
    await assert.rejects(client({ timeoutMs: 300 }).ping(), kindIs('Unavailable', /no response for 300 ms/, 'ERR_REGISTRY_TIMEOUT'));
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a body that stalls midway times out', async () => {
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 1000)); // and then nothing
    };
    const s = await client({ timeoutMs: 300 }).fetchBlob('x/y', desc);
    await assert.rejects(readAll(s), kindIs('Unavailable', /the transfer stalled: no data for 300 ms/, 'ERR_REGISTRY_TIMEOUT'));
  });

  test('a slow reader is not a timeout', async () => {
    const big = randomBytes(2 * 1024 * 1024);
    fake.handler = (_q, res) => {
      res.writeHead(200, { 'Content-Length': big.length });
      res.end(big);
    };
    const s = await client({ timeoutMs: 200 }).fetchBlob('x/y', { mediaType: MEDIA_TYPES.ociLayerTar, digest: sha256(big), size: big.length });
    const parts: Buffer[] = [];
    let paused = false;
    for await (const chunk of s) {
      parts.push(chunk as Buffer);
      if (!paused) {
        paused = true;
        await new Promise((r) => setTimeout(r, 700));
      }
    }
    assert.ok(Buffer.concat(parts).equals(big));
  });

  test('a TLS handshake that never happens hits the connect timeout, once', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const d = new RegistryClient({ host, insecure: false, connectTimeoutMs: 300 });
    const t0 = Date.now();
    try {
      await assert.rejects(d.ping(), kindIs('Unavailable', /timed out connecting to 127\.0\.0\.1:\d+ after 300 ms/, 'ERR_REGISTRY_TIMEOUT'));
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      assert.equal(sockets.length, 1, 'a connect timeout is not retried');
    } finally {
      d.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('a connection refused is Unavailable, quickly', async () => {
    const dead = await fakeServer();
    await dead.close();
    const d = new RegistryClient({ host: dead.host, insecure: true, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      await assert.rejects(d.ping(), kindIs('Unavailable', /ECONNREFUSED/, 'ERR_REGISTRY_UNREACHABLE'));
    } finally {
      d.close();
    }
  });
});
