// Round trips against Debian's docker-registry (distribution 2.8) on
// 127.0.0.1: without auth, with htpasswd Basic auth, with TLS (certs.d CA
// and a client certificate), and with token auth behind a token server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { RegistryClient, decompressStream, type RegistryOptions } from '../../../src/engine/registry';
import { isIndex } from '../../../src/oci/descriptor';
import { MEDIA_TYPES } from '../../../src/oci/mediatypes';
import { selectPlatform } from '../../../src/oci/platform';
import { BerthError } from '../../../src/errors';
import {
  haveHtpasswd,
  haveOpenssl,
  haveRegistry,
  htpasswdFile,
  makePki,
  readAll,
  sha256,
  startRegistry,
  startTokenServer,
  tmpDir,
  unevenStream,
  type RegistryProcess,
  type TokenServer,
} from './helpers';

// Outside CI a missing tool skips with its reason; in CI (which installs
// them through scripts/setup.sh) it must not: the tests then fail loudly.
const orFail = (reason: string | false) => (process.env.CI ? false : reason);
const skip = orFail(!haveRegistry && 'docker-registry is not installed (apt-get install docker-registry)');

const kindIs = (kind: string, re?: RegExp, code?: string) => (err: unknown) => {
  assert.ok(err instanceof BerthError, `not a BerthError: ${err}`);
  assert.equal(err.kind, kind, err.message);
  if (re) assert.match(err.message, re);
  if (code) assert.equal((err as BerthError & { code: string }).code, code);
  return true;
};

// Pushes config + one layer and a manifest of the given type; returns what it made.
async function pushImage(c: RegistryClient, repo: string, tag: string, mediaType: string, layerData = randomBytes(2048)) {
  const oci = mediaType === MEDIA_TYPES.ociManifest;
  const layer = gzipSync(layerData);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layerData)] }, tag }));
  const l = await c.pushBlob(repo, Readable.from([layer]));
  const cf = await c.pushBlob(repo, Readable.from([config]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: oci ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig, digest: cf.digest, size: cf.size },
      layers: [{ mediaType: oci ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.dockerLayerGzip, digest: l.digest, size: l.size }],
    }),
  );
  const digest = await c.putManifest(repo, tag, mediaType, manifest);
  return { digest, manifest, layer, layerData, config };
}

describe('registry without auth', { skip }, () => {
  let reg: RegistryProcess;
  let c: RegistryClient;
  const opts = (): RegistryOptions => ({ host: reg.host, insecure: true });
  before(async () => {
    reg = await startRegistry();
    c = new RegistryClient(opts());
  });
  after(async () => {
    c?.close();
    await reg?.stop();
  });

  test('ping', async () => {
    await c.ping();
  });

  test('monolithic push: one PUT, digest computed while reading', async () => {
    const data = randomBytes(5000);
    const progress: number[] = [];
    const r = await c.pushBlob('berth/mono', unevenStream(data), { onProgress: (n) => progress.push(n) });
    assert.deepEqual(r, { digest: sha256(data), size: data.length });
    assert.deepEqual(progress, [data.length]);
    assert.equal(await c.blobSize('berth/mono', r.digest), data.length);
    const got = await readAll(await c.fetchBlob('berth/mono', { mediaType: MEDIA_TYPES.ociLayerTar, digest: r.digest, size: r.size }));
    assert.ok(got.equals(data));
  });

  test('chunked push: PATCH with Content-Range, then PUT ?digest=', async () => {
    const data = randomBytes(300 * 1024 + 17);
    const progress: number[] = [];
    const r = await c.pushBlob('berth/chunked', unevenStream(data), { chunkSize: 64 * 1024, onProgress: (n) => progress.push(n) });
    assert.deepEqual(r, { digest: sha256(data), size: data.length });
    assert.deepEqual(progress, [1, 2, 3, 4, 5].map((k) => Math.min(k * 65536, data.length)));
    assert.equal(await c.blobSize('berth/chunked', r.digest), data.length);
    const got = await readAll(await c.fetchBlob('berth/chunked', { mediaType: MEDIA_TYPES.ociLayerTar, digest: r.digest, size: r.size }));
    assert.ok(got.equals(data));
  });

  test('chunked push of exactly one chunk, and of an empty blob', async () => {
    const data = randomBytes(4096);
    assert.equal((await c.pushBlob('berth/edge', Readable.from([data]), { chunkSize: 4096 })).digest, sha256(data));
    const empty = await c.pushBlob('berth/edge', Readable.from([]));
    assert.deepEqual(empty, { digest: sha256(Buffer.alloc(0)), size: 0 });
    assert.equal(await c.blobSize('berth/edge', empty.digest), 0);
  });

  test('push with a known digest that exists: nothing uploaded', async () => {
    const data = randomBytes(1000);
    await c.pushBlob('berth/known', Readable.from([data]));
    const src = Readable.from([data]);
    const r = await c.pushBlob('berth/known', src, { digest: sha256(data), size: data.length });
    assert.deepEqual(r, { digest: sha256(data), size: 1000 });
    assert.ok(src.destroyed);
  });

  test('push whose data does not match the declared digest or size fails, and nothing lands', async () => {
    const data = randomBytes(1000);
    const wrong = sha256(Buffer.from('other'));
    await assert.rejects(c.pushBlob('berth/bad', Readable.from([data]), { digest: wrong }), kindIs('InvalidArgument', /digest/, 'ERR_REGISTRY_DIGEST_MISMATCH'));
    assert.equal(await c.blobSize('berth/bad', wrong), undefined);
    assert.equal(await c.blobSize('berth/bad', sha256(data)), undefined);
    await assert.rejects(c.pushBlob('berth/bad', Readable.from([data]), { size: 999, chunkSize: 100 }), kindIs('InvalidArgument', /larger than the declared 999/));
    await assert.rejects(c.pushBlob('berth/bad', Readable.from([data]), { size: 1001 }), kindIs('InvalidArgument', /1000 bytes, not the declared 1001/));
    assert.equal(await c.blobSize('berth/bad', sha256(data)), undefined);
  });

  test('cross-repository mount', async () => {
    const data = randomBytes(3000);
    const r = await c.pushBlob('berth/src', Readable.from([data]));
    assert.equal(await c.mountBlob('berth/dst', r.digest, 'berth/src'), true);
    assert.equal(await c.blobSize('berth/dst', r.digest), 3000);
    // Unknown blob: the registry starts an upload instead; no mount.
    assert.equal(await c.mountBlob('berth/dst', sha256(Buffer.from('nope')), 'berth/src'), false);
  });

  test('manifests: OCI and Docker types, by tag and by digest; HEAD; tags', async () => {
    const oci = await pushImage(c, 'berth/img', 'oci', MEDIA_TYPES.ociManifest);
    const dock = await pushImage(c, 'berth/img', 'docker', MEDIA_TYPES.dockerManifest);
    assert.equal(oci.digest, sha256(oci.manifest));

    const byTag = await c.getManifest('berth/img', 'oci');
    assert.ok(byTag.bytes.equals(oci.manifest));
    assert.deepEqual(byTag.descriptor, { mediaType: MEDIA_TYPES.ociManifest, digest: oci.digest, size: oci.manifest.length });
    const byDigest = await c.getManifest('berth/img', oci.digest);
    assert.deepEqual(byDigest.descriptor, byTag.descriptor);
    assert.deepEqual(await c.headManifest('berth/img', 'oci'), byTag.descriptor);
    assert.deepEqual(await c.headManifest('berth/img', oci.digest), byTag.descriptor);

    const d = await c.getManifest('berth/img', 'docker');
    assert.equal(d.descriptor.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(d.descriptor.digest, dock.digest);

    // An index over both; the platform picks one, whose layer decompresses.
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          { mediaType: MEDIA_TYPES.ociManifest, digest: oci.digest, size: oci.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: MEDIA_TYPES.dockerManifest, digest: dock.digest, size: d.bytes.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        ],
      }),
    );
    const idxDigest = await c.putManifest('berth/img', 'multi', MEDIA_TYPES.ociIndex, index);
    const idx = await c.getManifest('berth/img', 'multi');
    assert.equal(idx.descriptor.digest, idxDigest);
    assert.ok(isIndex(idx.manifest));
    const arm = selectPlatform(idx.manifest, { os: 'linux', architecture: 'arm64' });
    assert.equal(arm.digest, dock.digest);
    const m = (await c.getManifest('berth/img', arm.digest)).manifest;
    assert.ok(!isIndex(m));
    const tar = await readAll(decompressStream(m.layers[0].mediaType, await c.fetchBlob('berth/img', m.layers[0])));
    assert.ok(tar.equals(dock.layerData));

    // Push by digest too.
    assert.equal(await c.putManifest('berth/img', oci.digest, MEDIA_TYPES.ociManifest, oci.manifest), oci.digest);

    assert.deepEqual((await c.listTags('berth/img')).sort(), ['docker', 'multi', 'oci']);
    assert.deepEqual((await c.listTags('berth/img', { pageSize: 1 })).sort(), ['docker', 'multi', 'oci']);
  });

  test('a manifest naming blobs the registry lacks is refused with its message', async () => {
    const bogus = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(Buffer.from('x')), size: 1 }, layers: [] }),
    );
    await assert.rejects(c.putManifest('berth/img', 'bogus', MEDIA_TYPES.ociManifest, bogus), kindIs('InvalidArgument', /blob unknown/));
  });

  test('unknown things: NotFound or undefined', async () => {
    await assert.rejects(c.getManifest('berth/img', 'nope'), kindIs('NotFound', /manifest unknown/));
    await assert.rejects(c.getManifest('berth/none', 'latest'), kindIs('NotFound', /unknown/));
    assert.equal(await c.headManifest('berth/img', 'nope'), undefined);
    const d = sha256(Buffer.from('missing'));
    assert.equal(await c.blobSize('berth/img', d), undefined);
    await assert.rejects(c.fetchBlob('berth/img', { mediaType: MEDIA_TYPES.ociLayerGzip, digest: d, size: 7 }), kindIs('NotFound', /blob unknown/));
    await assert.rejects(c.listTags('berth/none'), kindIs('NotFound', /name unknown|not known/));
  });

  test('bad names are refused before any request', async () => {
    await assert.rejects(c.getManifest('../etc', 'latest'), kindIs('InvalidArgument', /invalid repository name/));
    await assert.rejects(c.getManifest('berth/img', 'bad/tag'), kindIs('InvalidArgument', /invalid tag or digest/));
    await assert.rejects(c.getManifest('berth/img', 'sha256:1234'), kindIs('InvalidArgument', /invalid reference/));
  });

  test('without insecure there is no fallback to plain HTTP', async () => {
    const strict = new RegistryClient({ host: reg.host, insecure: false });
    try {
      await assert.rejects(strict.ping(), kindIs('Unavailable', /https:\/\/127\.0\.0\.1:\d+\/v2\/: tls/, 'ERR_REGISTRY_TLS'));
    } finally {
      strict.close();
    }
  });
});

describe('registry with htpasswd Basic auth', { skip: skip || orFail(!haveHtpasswd && 'htpasswd is not installed (apache2-utils)') }, () => {
  let reg: RegistryProcess;
  let dir: string;
  before(async () => {
    dir = tmpDir('htpasswd');
    reg = await startRegistry({ htpasswd: htpasswdFile(dir, 'alice', 's3cret') });
  });
  after(async () => {
    await reg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('round trip with the right credentials', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true, auth: { username: 'alice', password: 's3cret' } });
    try {
      await c.ping();
      const img = await pushImage(c, 'alice/app', 'v1', MEDIA_TYPES.ociManifest);
      const got = await c.getManifest('alice/app', 'v1');
      assert.equal(got.descriptor.digest, img.digest);
      const data = randomBytes(200 * 1024);
      const r = await c.pushBlob('alice/app', Readable.from([data]), { chunkSize: 100 * 1024 });
      assert.ok((await readAll(await c.fetchBlob('alice/app', { mediaType: 'application/octet-stream', digest: r.digest, size: r.size }))).equals(data));
      assert.equal(await c.mountBlob('alice/other', r.digest, 'alice/app'), true);
      assert.deepEqual(await c.listTags('alice/app'), ['v1']);
    } finally {
      c.close();
    }
  });

  test('no credentials: Unauthorized with the registry message', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true });
    try {
      await assert.rejects(c.ping(), kindIs('Unauthorized', /authentication required/));
      await assert.rejects(c.getManifest('alice/app', 'v1'), kindIs('Unauthorized', /manifest 127\.0\.0\.1:\d+\/alice\/app:v1: unauthorized: authentication required/));
    } finally {
      c.close();
    }
  });

  test('wrong password: Unauthorized', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true, auth: { username: 'alice', password: 'nope' } });
    try {
      await assert.rejects(c.listTags('alice/app'), kindIs('Unauthorized'));
    } finally {
      c.close();
    }
  });
});

describe('registry over TLS', { skip: skip || orFail(!haveOpenssl && 'openssl is not installed') }, () => {
  let reg: RegistryProcess;
  let mtls: RegistryProcess;
  let dir: string;
  let certsDir: string;
  before(async () => {
    dir = tmpDir('tls');
    const pki = makePki(dir);
    const server = pki.issue('server', { san: 'IP:127.0.0.1,DNS:localhost', eku: 'serverAuth' });
    const client = pki.issue('client', { eku: 'clientAuth' });
    reg = await startRegistry({ tls: { certificate: server.cert, key: server.key } });
    mtls = await startRegistry({ tls: { certificate: server.cert, key: server.key, clientcas: [pki.caCert] } });
    certsDir = path.join(dir, 'certs.d');
    for (const r of [reg, mtls]) {
      fs.mkdirSync(path.join(certsDir, r.host), { recursive: true });
      fs.copyFileSync(pki.caCert, path.join(certsDir, r.host, 'ca.crt'));
    }
    fs.copyFileSync(client.cert, path.join(certsDir, mtls.host, 'client.cert'));
    fs.copyFileSync(client.key, path.join(certsDir, mtls.host, 'client.key'));
  });
  after(async () => {
    await reg?.stop();
    await mtls?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the CA from certs.d/<host>/ca.crt is trusted', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: false, certsDir });
    try {
      await c.ping();
      const img = await pushImage(c, 'tls/app', 'v1', MEDIA_TYPES.dockerManifest);
      assert.equal((await c.getManifest('tls/app', 'v1')).descriptor.digest, img.digest);
    } finally {
      c.close();
    }
  });

  test('an unknown CA is a TLS error, not a fallback', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: false });
    try {
      await assert.rejects(c.ping(), kindIs('Unavailable', /tls: .*(self-signed|unable to verify|local issuer)/i, 'ERR_REGISTRY_TLS'));
    } finally {
      c.close();
    }
  });

  test('insecure: HTTPS without verification', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true });
    try {
      await c.ping();
      assert.deepEqual(await c.listTags('tls/app'), ['v1']);
    } finally {
      c.close();
    }
  });

  test('client certificate from certs.d/<host>/client.cert and client.key', async () => {
    const c = new RegistryClient({ host: mtls.host, insecure: false, certsDir });
    try {
      await c.ping();
    } finally {
      c.close();
    }
    // Without the client certificate the handshake is refused.
    const bare = path.join(dir, 'bare.d');
    fs.mkdirSync(path.join(bare, mtls.host), { recursive: true });
    fs.copyFileSync(path.join(certsDir, mtls.host, 'ca.crt'), path.join(bare, mtls.host, 'ca.crt'));
    const n = new RegistryClient({ host: mtls.host, insecure: false, certsDir: bare });
    try {
      await assert.rejects(n.ping(), kindIs('Unavailable'));
    } finally {
      n.close();
    }
  });
});

describe('registry with token auth', { skip: skip || orFail(!haveOpenssl && 'openssl is not installed') }, () => {
  let reg: RegistryProcess;
  let tokens: TokenServer;
  let dir: string;
  const service = 'berth-test-registry';
  before(async () => {
    dir = tmpDir('token');
    const pki = makePki(dir, 'berth token CA');
    const signer = pki.issue('token-signer', { rsa: true });
    tokens = await startTokenServer({
      signingCert: signer.cert,
      signingKey: signer.key,
      issuer: 'berth-test-issuer',
      service,
      users: { bob: 'hunter2' },
      refreshTokens: { 'refresh-bob': 'bob' },
    });
    reg = await startRegistry({ token: { realm: tokens.url, service, issuer: 'berth-test-issuer', rootcertbundle: pki.caCert } });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('push and pull with a token per scope, cached', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true, auth: { username: 'bob', password: 'hunter2' } });
    try {
      await c.ping();
      const img = await pushImage(c, 'bob/app', 'v1', MEDIA_TYPES.ociManifest);
      const before = tokens.requests.length;
      const data = randomBytes(150 * 1024);
      const r = await c.pushBlob('bob/app', Readable.from([data]), { chunkSize: 50 * 1024 });
      assert.equal(tokens.requests.length, before, 'push token reused across the upload');
      assert.equal(await c.mountBlob('bob/copy', r.digest, 'bob/app'), true);
      const mountReq = tokens.requests[tokens.requests.length - 1];
      assert.deepEqual(mountReq.scopes, ['repository:bob/app:pull', 'repository:bob/copy:pull,push']);
      assert.equal(mountReq.account, 'bob');
      const got = await c.getManifest('bob/app', 'v1');
      assert.equal(got.descriptor.digest, img.digest);
      assert.ok((await readAll(await c.fetchBlob('bob/copy', { mediaType: 'application/octet-stream', digest: r.digest, size: r.size }))).equals(data));
      assert.deepEqual(await c.listTags('bob/app'), ['v1']);
      // One token each for: ping (no scope), push bob/app, mount, pull bob/app, pull bob/copy.
      assert.equal(c.tokenRequests, 5);
    } finally {
      c.close();
    }
  });

  test('identity token: OAuth2 refresh-token POST', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true, auth: { identitytoken: 'refresh-bob' } });
    try {
      assert.deepEqual(await c.listTags('bob/app'), ['v1']);
      const last = tokens.requests[tokens.requests.length - 1];
      assert.equal(last.method, 'POST');
      assert.equal(last.grant, 'refresh_token');
    } finally {
      c.close();
    }
  });

  test('anonymous: the token grants nothing, the registry says Unauthorized', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true });
    try {
      await assert.rejects(c.getManifest('bob/app', 'v1'), kindIs('Unauthorized', /unauthorized/));
    } finally {
      c.close();
    }
  });

  test('wrong password: the token server says Unauthorized', async () => {
    const c = new RegistryClient({ host: reg.host, insecure: true, auth: { username: 'bob', password: 'wrong' } });
    try {
      await assert.rejects(c.listTags('bob/app'), kindIs('Unauthorized', /token request to 127\.0\.0\.1:\d+\/token: unauthorized.*incorrect username or password/));
    } finally {
      c.close();
    }
  });
});

describe('Docker Hub is unreachable here', () => {
  test('docker.io fails fast with Unavailable', async () => {
    const c = new RegistryClient({ host: 'docker.io', insecure: false });
    const t0 = Date.now();
    try {
      await assert.rejects(c.getManifest('library/busybox', 'latest'), kindIs('Unavailable', /registry-1\.docker\.io/));
    } finally {
      c.close();
    }
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  });
});
