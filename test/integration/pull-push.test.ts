// docker pull and docker push end to end: the real docker CLI talks to a real
// berthd, which talks to real registries (Debian's docker-registry without
// auth, with htpasswd, over TLS with a test CA, behind a token server) and to
// a fake one written here that serves generated images, counts requests and
// lies on purpose. Everything listens on loopback; the only other address
// ever asked for is Docker Hub's, to see a short name fail fast.
// PP_DEBUG=1 prints the CLI's output for every failure the tests expect.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, docker, importBusybox, busyboxTarFile, run, sleep, startDaemon, type RunResult, type TestDaemon } from './harness';
import {
  FakeRegistry,
  MT,
  buildImage,
  buildIndex,
  endless,
  forwardTcp,
  hostArch,
  loopbackAlias,
  storeState,
  tarOf,
  trickle,
  type Image,
} from './pull-push-helpers';
import { haveHtpasswd, haveOpenssl, haveRegistry, htpasswdFile, makePki, startRegistry, startTokenServer, tmpDir, type RegistryProcess, type TokenServer } from './registry/helpers';

// Outside CI a missing tool skips with its reason; in CI it must not.
const orFail = (reason: string | false) => (process.env.CI ? false : reason);
const noRegistry = orFail(!haveRegistry && 'docker-registry is not installed (apt-get install docker-registry)');

const output = (r: RunResult) => r.stdout + r.stderr;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${output(r)}`);
  return r.stdout;
}

function failed(r: RunResult, what: string, re: RegExp): void {
  if (process.env.PP_DEBUG) console.log(`--- ${what}: ${output(r)}`);
  assert.notEqual(r.code, 0, `${what} should fail:\n${output(r)}`);
  assert.match(output(r), re, `${what}: unexpected message`);
}

// For commands that would hang if the CLI asked for a login on stdin.
const dockerQuick = (d: TestDaemon, ...args: string[]) => run('docker', args, d.env, undefined, 20_000);

const imageId = async (d: TestDaemon, name: string) => ok(await docker(d, 'image', 'inspect', '-f', '{{.Id}}', name), `inspect ${name}`).trim();
const pushDigest = (out: string, tag: string) => {
  const m = new RegExp(`${tag}: digest: (sha256:[a-f0-9]{64}) size: \\d+`).exec(out);
  assert.ok(m, `no "${tag}: digest: … size: …" line in:\n${out}`);
  return m[1];
};

// What the registry itself says a tag points at.
async function registryDigest(host: string, repo: string, tag: string, headers: Record<string, string> = {}): Promise<string | null> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: `${MT.dockerManifest}, ${MT.ociManifest}, ${MT.ociIndex}`, ...headers },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

let busyboxTar: Buffer;
async function busybox(): Promise<Buffer> {
  busyboxTar ??= fs.readFileSync(await busyboxTarFile());
  return busyboxTar;
}

// Removes every image (and so every layer) of a daemon.
async function removeAll(d: TestDaemon): Promise<void> {
  ok(await docker(d, 'image', 'prune', '-a', '-f'), 'image prune -a');
  assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');
  assert.deepEqual(storeState(d).layers, []);
}

// A small, unique layer.
const smallTar = (name = 'data') => tarOf({ [`${name}/${randomBytes(6).toString('hex')}`]: randomBytes(4096) });

// ---------------------------------------------------------------------------

describe('registry without auth', { skip: noRegistry }, () => {
  let reg: RegistryProcess;
  let fake: FakeRegistry;
  let d: TestDaemon;
  let R: string;
  let id: string;
  let digest: string;
  before(async () => {
    [reg, fake, d] = await Promise.all([startRegistry(), new FakeRegistry().start(), startDaemon()]);
    R = reg.host;
    await importBusybox(d, 'busybox');
  });
  after(async () => {
    await d?.stop();
    await reg?.stop();
    await fake?.close();
  });

  test('push: Pushed, then Layer already exists, then Mounted from another repository', async () => {
    ok(await docker(d, 'tag', 'busybox', `${R}/bb:v1`), 'tag');
    const first = ok(await docker(d, 'push', `${R}/bb:v1`), 'push');
    assert.match(first, new RegExp(`The push refers to repository \\[${R}/bb\\]`));
    assert.match(first, /: Pushed$/m);
    digest = pushDigest(first, 'v1');
    assert.equal(await registryDigest(R, 'bb', 'v1'), digest, 'the registry holds what the push reported');
    id = await imageId(d, `${R}/bb:v1`);

    const again = ok(await docker(d, 'push', `${R}/bb:v1`), 'second push');
    assert.match(again, /: Layer already exists$/m);
    assert.doesNotMatch(again, /Pushed/);
    assert.equal(pushDigest(again, 'v1'), digest, 'a second push sends the same manifest');

    ok(await docker(d, 'tag', 'busybox', `${R}/copy:v1`), 'tag copy');
    const mounted = ok(await docker(d, 'push', `${R}/copy:v1`), 'push to another repository');
    assert.match(mounted, new RegExp(`: Mounted from ${R}/bb$`, 'm'));
    assert.equal(pushDigest(mounted, 'v1'), digest);
    assert.equal(await registryDigest(R, 'copy', 'v1'), digest);
  });

  test('a push that compresses reports Pushing against the layer tar size, as docker does', async () => {
    ok(await docker(d, 'run', '--name', 'fresh', 'busybox', 'sh', '-c', 'head -c 700000 /dev/urandom > /noise'), 'run');
    ok(await docker(d, 'commit', 'fresh', `${R}/fresh:v1`), 'commit');
    ok(await docker(d, 'rm', 'fresh'), 'rm');
    const top = JSON.parse((await api(d, 'GET', `/images/${R}/fresh:v1/history`)).body)[0];
    const r = await api(d, 'POST', `/images/${R}/fresh/push?tag=v1`, undefined, { 'X-Registry-Auth': Buffer.from('{}').toString('base64') });
    assert.equal(r.status, 200, r.body);
    const lines = r.body.trim().split('\r\n').map((l) => JSON.parse(l));
    const pushing = lines.filter((l) => l.status === 'Pushing');
    assert.ok(pushing.length >= 2, `progress every 512 KiB of ${top.Size} bytes:\n${r.body}`);
    for (const l of pushing) assert.equal(l.progressDetail.total, top.Size);
    assert.equal(pushing.at(-1).progressDetail.current, top.Size);
    assert.ok(lines.some((l) => l.status === 'Pushed'), r.body);
    ok(await docker(d, 'rmi', `${R}/fresh:v1`), 'rmi');
  });

  test('rmi, then pull: progress, same image ID and manifest digest, and it runs', async () => {
    ok(await docker(d, 'rmi', `${R}/bb:v1`, `${R}/copy:v1`, 'busybox'), 'rmi');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '', 'the image is gone');
    assert.deepEqual(storeState(d).layers, [], 'its layer is gone');

    const pulled = ok(await docker(d, 'pull', `${R}/bb:v1`), 'pull');
    assert.match(pulled, /^v1: Pulling from bb$/m);
    assert.match(pulled, /^[0-9a-f]{12}: Pulling fs layer$/m);
    assert.match(pulled, /^[0-9a-f]{12}: Pull complete$/m);
    assert.match(pulled, new RegExp(`^Digest: ${digest}$`, 'm'));
    assert.match(pulled, new RegExp(`^Status: Downloaded newer image for ${R}/bb:v1$`, 'm'));
    assert.equal(await imageId(d, `${R}/bb:v1`), id, 'push → rmi → pull gives the same image ID');
    assert.match(ok(await docker(d, 'image', 'inspect', '-f', '{{json .RepoDigests}}', `${R}/bb:v1`), 'inspect'), new RegExp(`"${R}/bb@${digest}"`));
    assert.equal(ok(await docker(d, 'run', '--rm', `${R}/bb:v1`, 'echo', 'pulled and running'), 'run').trim(), 'pulled and running');

    const again = ok(await docker(d, 'pull', `${R}/bb:v1`), 'pull again');
    assert.match(again, new RegExp(`^Status: Image is up to date for ${R}/bb:v1$`, 'm'));

    // Pushing what was pulled sends the same bytes: same manifest digest.
    ok(await docker(d, 'tag', `${R}/bb:v1`, `${R}/fresh:v1`), 'tag');
    const pushed = ok(await docker(d, 'push', `${R}/fresh:v1`), 'push the pulled image');
    assert.equal(pushDigest(pushed, 'v1'), digest);
    ok(await docker(d, 'rmi', `${R}/fresh:v1`), 'rmi');
  });

  test('pull by digest', async () => {
    ok(await docker(d, 'rmi', `${R}/bb:v1`), 'rmi');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');
    const out = ok(await docker(d, 'pull', `${R}/bb@${digest}`), 'pull by digest');
    assert.match(out, new RegExp(`Digest: ${digest}`));
    assert.match(out, /Status: Downloaded newer image/);
    assert.equal(await imageId(d, `${R}/bb@${digest}`), id);
    const listed = ok(await docker(d, 'images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}'), 'images');
    assert.match(listed, new RegExp(`^${R}/bb <none> ${digest}$`, 'm'));
    assert.equal(ok(await docker(d, 'run', '--rm', `${R}/bb@${digest}`, 'echo', 'by digest'), 'run').trim(), 'by digest');
  });

  // dockerd deletes an image when the digest reference removed was its last
  // reference; ImageService.remove only untags it (left <none>, dangling).
  test('rmi by digest deletes an image with no other reference', async () => {
    try {
      assert.match(ok(await docker(d, 'rmi', `${R}/bb@${digest}`), 'rmi by digest'), new RegExp(`Deleted: ${id}`));
      assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');
    } finally {
      await docker(d, 'rmi', '-f', id);
    }
  });

  test('push -a pushes every tag, pull -a pulls every tag; images --digests shows the RepoDigests', async () => {
    // A second, different image under another tag of the same repository.
    const file = path.join(d.base, 'small.tar');
    fs.writeFileSync(file, await smallTar());
    ok(await docker(d, 'import', file, `${R}/multi:small`), 'import');
    const smallId = await imageId(d, `${R}/multi:small`);
    ok(await docker(d, 'pull', `${R}/bb:v1`), 'pull');
    ok(await docker(d, 'tag', `${R}/bb:v1`, `${R}/multi:bb`), 'tag');
    const pushed = ok(await docker(d, 'push', '-a', `${R}/multi`), 'push -a');
    const smallDigest = pushDigest(pushed, 'small');
    assert.equal(pushDigest(pushed, 'bb'), digest);
    assert.equal(await registryDigest(R, 'multi', 'small'), smallDigest);
    ok(await docker(d, 'rmi', `${R}/multi:small`, `${R}/multi:bb`, `${R}/bb:v1`), 'rmi');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');

    const out = ok(await docker(d, 'pull', '-a', `${R}/multi`), 'pull -a');
    assert.match(out, /^bb: Pulling from multi$/m);
    assert.match(out, /^small: Pulling from multi$/m);
    assert.equal(await imageId(d, `${R}/multi:bb`), id);
    assert.equal(await imageId(d, `${R}/multi:small`), smallId);
    const listed = ok(await docker(d, 'images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}'), 'images --digests');
    assert.match(listed, new RegExp(`^${R}/multi bb ${digest} ${id.slice(7, 19)}$`, 'm'));
    assert.match(listed, new RegExp(`^${R}/multi small ${smallDigest} ${smallId.slice(7, 19)}$`, 'm'));
    await removeAll(d);
  });

  test('an image that does not exist: 404 from the daemon', async () => {
    const r = await dockerQuick(d, 'pull', `${R}/nothing/here:v1`);
    failed(r, 'pull of a missing image', /^Error response from daemon: manifest .*nothing\/here:v1: not found/m);
    const run = await dockerQuick(d, 'run', '--rm', `${R}/nothing/here:v1`, 'true');
    failed(run, 'run of a missing image', /Unable to find image[^]*Error response from daemon: manifest .*not found/);
  });

  test('pushing a pulled image sends the very same blobs (zstd, gzip, plain tar)', async () => {
    const img = fake.addImage(
      'src/app',
      'v1',
      buildImage({
        layers: [
          { tar: await smallTar('z'), compression: 'zstd' },
          { tar: await smallTar('g'), compression: 'gzip' },
          { tar: await smallTar('t'), compression: 'none' },
        ],
      }),
    );
    ok(await docker(d, 'pull', `${fake.host}/src/app:v1`), 'pull from the fake registry');
    const pulledId = await imageId(d, `${fake.host}/src/app:v1`);
    assert.equal(pulledId, img.config.digest);
    ok(await docker(d, 'tag', `${fake.host}/src/app:v1`, `${R}/pulled/app:v1`), 'tag');
    const out = ok(await docker(d, 'push', `${R}/pulled/app:v1`), 'push');
    assert.equal(out.match(/: Pushed$/gm)?.length, 3, out);
    const res = await fetch(`http://${R}/v2/pulled/app/manifests/v1`, { headers: { Accept: MT.dockerManifest } });
    const m = (await res.json()) as { config: { digest: string }; layers: Array<{ digest: string; mediaType: string; size: number }> };
    assert.equal(m.config.digest, img.config.digest);
    assert.deepEqual(m.layers, img.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })));
    ok(await docker(d, 'rmi', `${fake.host}/src/app:v1`, `${R}/pulled/app:v1`), 'rmi');
    ok(await docker(d, 'pull', `${R}/pulled/app:v1`), 'pull back');
    assert.equal(await imageId(d, `${R}/pulled/app:v1`), pulledId);
    await removeAll(d);
  });
});

// ---------------------------------------------------------------------------

describe('registry with htpasswd Basic auth', { skip: noRegistry || orFail(!haveHtpasswd && 'htpasswd is not installed (apache2-utils)') }, () => {
  let reg: RegistryProcess;
  let d: TestDaemon;
  let dir: string;
  let R: string;
  before(async () => {
    dir = tmpDir('pp-htpasswd');
    [reg, d] = await Promise.all([startRegistry({ htpasswd: htpasswdFile(dir, 'alice', 's3cret') }), startDaemon()]);
    R = reg.host;
    await importBusybox(d, 'busybox');
  });
  after(async () => {
    await d?.stop();
    await reg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without login, pull and push fail with an auth error (and no login prompt)', async () => {
    failed(await dockerQuick(d, 'pull', `${R}/alice/app:v1`), 'pull without login', /unauthorized|authentication required/i);
    failed(await dockerQuick(d, 'pull', '-a', `${R}/alice/app`), 'pull -a without login', /unauthorized|authentication required/i);
    ok(await docker(d, 'tag', 'busybox', `${R}/alice/app:v1`), 'tag');
    failed(await dockerQuick(d, 'push', `${R}/alice/app:v1`), 'push without login', /unauthorized|authentication required/i);
  });

  test('login with a wrong password fails', async () => {
    const r = await run('docker', ['login', R, '-u', 'alice', '--password-stdin'], d.env, 'wrong\n');
    failed(r, 'login with a wrong password', /unauthorized|authentication required|incorrect/i);
  });

  test('login, then push and pull work', async () => {
    const r = await run('docker', ['login', R, '-u', 'alice', '--password-stdin'], d.env, 's3cret\n');
    assert.match(ok(r, 'login'), /Login Succeeded/);
    const id = await imageId(d, `${R}/alice/app:v1`);
    const digest = pushDigest(ok(await docker(d, 'push', `${R}/alice/app:v1`), 'push'), 'v1');
    assert.equal(await registryDigest(R, 'alice/app', 'v1', { Authorization: 'Basic ' + Buffer.from('alice:s3cret').toString('base64') }), digest);
    ok(await docker(d, 'rmi', `${R}/alice/app:v1`, 'busybox'), 'rmi');
    const out = ok(await docker(d, 'pull', `${R}/alice/app:v1`), 'pull');
    assert.match(out, /Status: Downloaded newer image/);
    assert.equal(await imageId(d, `${R}/alice/app:v1`), id);
    assert.equal(ok(await docker(d, 'run', '--rm', `${R}/alice/app:v1`, 'echo', 'authed'), 'run').trim(), 'authed');
  });
});

// ---------------------------------------------------------------------------

describe('registry over TLS with a test CA', { skip: noRegistry || orFail(!haveOpenssl && 'openssl is not installed') }, () => {
  let reg: RegistryProcess;
  let fake: FakeRegistry;
  let withCA: TestDaemon;
  let without: TestDaemon;
  let dir: string;
  let H: string; // name:port of the TLS registry
  let F: string; // name:port of the plain-HTTP fake
  const forwards: Array<{ close(): Promise<void> }> = [];
  const noAlias = 'needs a host name other than localhost that resolves to 127.x (as Debian puts the host name in /etc/hosts)';
  let alias: { name: string; address: string } | undefined;
  before(async () => {
    // 127.0.0.0/8 and localhost are insecure by default (no verification),
    // so the registry is addressed by another name for loopback.
    alias = await loopbackAlias();
    if (!alias) {
      if (process.env.CI) throw new Error(noAlias);
      return;
    }
    dir = tmpDir('pp-tls');
    const pki = makePki(dir);
    const server = pki.issue('server', { san: `DNS:${alias.name},IP:127.0.0.1`, eku: 'serverAuth' });
    [reg, fake] = await Promise.all([startRegistry({ tls: { certificate: server.cert, key: server.key } }), new FakeRegistry().start()]);
    if (alias.address !== '127.0.0.1') {
      forwards.push(await forwardTcp(alias.address, reg.port), await forwardTcp(alias.address, fake.port));
    }
    H = `${alias.name}:${reg.port}`;
    F = `${alias.name}:${fake.port}`;
    const certsDir = path.join(dir, 'certs.d');
    fs.mkdirSync(path.join(certsDir, H), { recursive: true });
    fs.copyFileSync(pki.caCert, path.join(certsDir, H, 'ca.crt'));
    const empty = path.join(dir, 'empty-certs.d');
    fs.mkdirSync(empty);
    [withCA, without] = await Promise.all([startDaemon(['--certs-dir', certsDir]), startDaemon(['--certs-dir', empty])]);
    await importBusybox(withCA, 'busybox');
    await importBusybox(without, 'busybox');
  });
  after(async () => {
    await withCA?.stop();
    await without?.stop();
    for (const f of forwards) await f.close();
    await reg?.stop();
    await fake?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with the CA in --certs-dir: push and pull over HTTPS', async (t) => {
    if (!alias) return t.skip(noAlias);
    ok(await docker(withCA, 'tag', 'busybox', `${H}/tls/bb:v1`), 'tag');
    const id = await imageId(withCA, `${H}/tls/bb:v1`);
    const pushed = ok(await docker(withCA, 'push', `${H}/tls/bb:v1`), 'push');
    assert.match(pushed, /: Pushed$/m);
    const digest = pushDigest(pushed, 'v1');
    ok(await docker(withCA, 'rmi', `${H}/tls/bb:v1`, 'busybox'), 'rmi');
    const out = ok(await docker(withCA, 'pull', `${H}/tls/bb:v1`), 'pull');
    assert.match(out, new RegExp(`Digest: ${digest}`));
    assert.equal(await imageId(withCA, `${H}/tls/bb:v1`), id);
    assert.equal(ok(await docker(withCA, 'run', '--rm', `${H}/tls/bb:v1`, 'echo', 'over tls'), 'run').trim(), 'over tls');
  });

  test('without the CA: a certificate error, for pull and push', async (t) => {
    if (!alias) return t.skip(noAlias);
    failed(await docker(without, 'pull', `${H}/tls/bb:v1`), 'pull without the CA', /x509|certificate/i);
    ok(await docker(without, 'tag', 'busybox', `${H}/tls/other:v1`), 'tag');
    failed(await docker(without, 'push', `${H}/tls/other:v1`), 'push without the CA', /x509|certificate/i);
    assert.equal(ok(await docker(without, 'images', '-q', `${H}/tls/bb`), 'images').trim(), '');
  });

  test('a secure registry never falls back to plain HTTP', async (t) => {
    if (!alias) return t.skip(noAlias);
    fake.addImage('plain/app', 'v1', buildImage({ layers: [{ tar: await smallTar(), compression: 'gzip' }] }));
    const before = fake.requests.length;
    const r = await docker(without, 'pull', `${F}/plain/app:v1`);
    assert.notEqual(r.code, 0, `pull over plain HTTP must not work:\n${output(r)}`);
    assert.match(output(r), /tls|ssl|https|handshake|wrong version|EPROTO/i);
    assert.deepEqual(fake.requests.slice(before), [], 'no HTTP request reached the plain-HTTP server');
  });
});

// ---------------------------------------------------------------------------

describe('registry with token auth', { skip: noRegistry || orFail(!haveOpenssl && 'openssl is not installed') }, () => {
  let reg: RegistryProcess;
  let tokens: TokenServer;
  let d: TestDaemon;
  let dir: string;
  let R: string;
  before(async () => {
    dir = tmpDir('pp-token');
    const pki = makePki(dir, 'berth token CA');
    const signer = pki.issue('token-signer', { rsa: true });
    const service = 'berth-registry';
    tokens = await startTokenServer({ signingCert: signer.cert, signingKey: signer.key, issuer: 'berth-test-issuer', service, users: { bob: 'hunter2' }, refreshTokens: {} });
    [reg, d] = await Promise.all([startRegistry({ token: { realm: tokens.url, service, issuer: 'berth-test-issuer', rootcertbundle: pki.caCert } }), startDaemon()]);
    R = reg.host;
    await importBusybox(d, 'busybox');
  });
  after(async () => {
    await d?.stop();
    await reg?.stop();
    await tokens?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('anonymous pull fails; a wrong password cannot log in', async () => {
    failed(await dockerQuick(d, 'pull', `${R}/bob/app:v1`), 'anonymous pull', /unauthorized|authentication required/i);
    failed(await run('docker', ['login', R, '-u', 'bob', '--password-stdin'], d.env, 'nope\n'), 'login with a wrong password', /unauthorized|incorrect username or password/i);
  });

  test('login, push and pull with tokens', async () => {
    assert.match(ok(await run('docker', ['login', R, '-u', 'bob', '--password-stdin'], d.env, 'hunter2\n'), 'login'), /Login Succeeded/);
    ok(await docker(d, 'tag', 'busybox', `${R}/bob/app:v1`), 'tag');
    const id = await imageId(d, `${R}/bob/app:v1`);
    const digest = pushDigest(ok(await docker(d, 'push', `${R}/bob/app:v1`), 'push'), 'v1');
    const pushScopes = tokens.requests.filter((t) => t.account === 'bob').flatMap((t) => t.scopes);
    assert.ok(pushScopes.some((s) => /^repository:bob\/app:.*push/.test(s)), `a push token was asked for: ${JSON.stringify(pushScopes)}`);
    ok(await docker(d, 'rmi', `${R}/bob/app:v1`, 'busybox'), 'rmi');
    const out = ok(await docker(d, 'pull', `${R}/bob/app:v1`), 'pull');
    assert.match(out, new RegExp(`Digest: ${digest}`));
    assert.equal(await imageId(d, `${R}/bob/app:v1`), id);
    assert.equal(ok(await docker(d, 'run', '--rm', `${R}/bob/app:v1`, 'echo', 'tokens'), 'run').trim(), 'tokens');
  });
});

// ---------------------------------------------------------------------------

describe('a lying registry: clear errors, nothing stored', () => {
  let fake: FakeRegistry;
  let d: TestDaemon;
  before(async () => {
    [fake, d] = await Promise.all([new FakeRegistry().start(), startDaemon()]);
  });
  after(async () => {
    await d?.stop();
    await fake?.close();
  });

  // Pulls `repo:v1`, expects it to fail with `re`, and the store to be as before.
  async function pullFails(repo: string, re: RegExp, times = 1): Promise<void> {
    const before = storeState(d);
    const results = await Promise.all(Array.from({ length: times }, () => docker(d, 'pull', `${fake.host}/${repo}:v1`)));
    for (const r of results) failed(r, `pull of ${repo}`, re);
    const now = storeState(d);
    assert.deepEqual(now.blobs, before.blobs, 'no new blobs');
    assert.deepEqual(now.layers, before.layers, 'no new layers');
    assert.deepEqual(now.ingest, [], 'content/ingest is empty');
    assert.deepEqual(now.tmp, [], 'overlay/tmp is empty');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '', 'no image');
  }

  const image = async (repo: string, extra: Partial<Parameters<typeof buildImage>[0]> = {}): Promise<Image> =>
    fake.addImage(repo, 'v1', buildImage({ layers: [{ tar: await smallTar(), compression: 'gzip' }], ...extra }));

  test('a layer blob with wrong bytes: digest mismatch', async () => {
    const img = await image('lie/wrong-bytes');
    fake.blobHooks.set(img.layers[0].digest, (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(randomBytes(data.length));
    });
    await pullFails('lie/wrong-bytes', /digest mismatch/i);
  });

  test('a truncated layer blob: short read', async () => {
    const img = await image('lie/truncated');
    fake.blobHooks.set(img.layers[0].digest, (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, data.length >> 1));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await pullFails('lie/truncated', /bytes|closed|aborted|reset|terminated/i);
    // Without a Content-Length, the end of the body comes too early.
    const img2 = await image('lie/short');
    fake.blobHooks.set(img2.layers[0].digest, (_q, res, data) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(data.subarray(0, data.length - 100));
    });
    await pullFails('lie/short', new RegExp(`got ${img2.layers[0].size - 100} of ${img2.layers[0].size} bytes`));
  });

  test('an endless layer blob: refused at size + 1, and reading stops', async () => {
    const img = await image('lie/endless');
    let sent = Promise.resolve(0);
    fake.blobHooks.set(img.layers[0].digest, (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      sent = endless(res, randomBytes(64 * 1024), 1 << 30);
    });
    await pullFails('lie/endless', /more data than the expected \d+ bytes/);
    assert.ok((await sent) < 64 << 20, `the server sent ${await sent} bytes before the client stopped`);
  });

  test('a manifest larger than 4 MiB, announced or not', async () => {
    const big = Buffer.alloc(5 << 20, 0x20);
    fake.manifestHooks.set('lie/big:v1', (_q, res) => {
      res.writeHead(200, { 'Content-Type': MT.ociManifest, 'Content-Length': big.length });
      res.end(big);
    });
    await pullFails('lie/big', /larger than the 4194304 byte limit/);
    let sent = Promise.resolve(0);
    fake.manifestHooks.set('lie/bigger:v1', (_q, res) => {
      res.writeHead(200, { 'Content-Type': MT.ociManifest });
      sent = endless(res, Buffer.alloc(64 * 1024, 0x20), 1 << 30);
    });
    await pullFails('lie/bigger', /larger than the 4194304 byte limit/);
    assert.ok((await sent) < 64 << 20, `the server sent ${await sent} bytes`);
  });

  test('a manifest with the wrong Content-Type', async () => {
    const img = buildImage({ layers: [{ tar: await smallTar(), compression: 'gzip' }], oci: false });
    fake.addImage('lie/ctype', 'v1', img);
    fake.manifestHooks.set('lie/ctype:v1', (_q, res) => {
      res.writeHead(200, { 'Content-Type': MT.ociManifest });
      res.end(img.manifest);
    });
    await pullFails('lie/ctype', /media type .*does not match the content type/);
    fake.addImage('lie/html', 'v1', img);
    fake.manifestHooks.set('lie/html:v1', (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(img.manifest);
    });
    await pullFails('lie/html', /unexpected content type "text\/html"/);
  });

  test('a config blob with wrong bytes', async () => {
    const img = await image('lie/config');
    fake.blobHooks.set(img.config.digest, (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(Buffer.from(data.toString().replace('linux', 'LINUX')));
    });
    await pullFails('lie/config', /digest mismatch/i);
  });

  test('a layer whose content is not what the config says (diffID)', async () => {
    const tar = await smallTar();
    const img = buildImage({ layers: [{ tar, compression: 'gzip' }] });
    // Same config, but the layer blob (consistent with the manifest) holds another tar.
    const other = buildImage({ layers: [{ tar: await smallTar(), compression: 'gzip' }] });
    const manifest = Buffer.from(img.manifest.toString().replace(img.layers[0].digest, other.layers[0].digest).replace(`"size":${img.layers[0].size}`, `"size":${other.layers[0].size}`));
    fake.addBlob(img.config);
    fake.addBlob(other.layers[0]);
    fake.addManifest('lie/diffid', 'v1', manifest, MT.ociManifest);
    await pullFails('lie/diffid', /hashes to sha256:[a-f0-9]{64}, but the image config says/);
  });

  test('a layer blob that is not gzip', async () => {
    const garbage = randomBytes(3000);
    const img = buildImage({ layers: [{ tar: garbage, compression: 'none', mediaType: MT.ociGzip }] });
    fake.addImage('lie/notgzip', 'v1', img);
    await pullFails('lie/notgzip', /gzip|header/i);
  });

  test('two layers: the lower one lies after the upper one is done', async () => {
    const img = buildImage({ layers: [{ tar: await smallTar('lower'), compression: 'gzip' }, { tar: await smallTar('upper'), compression: 'gzip' }] });
    fake.addImage('lie/lower', 'v1', img);
    fake.blobHooks.set(img.layers[0].digest, async (_q, res, data) => {
      await sleep(500);
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(randomBytes(data.length));
    });
    await pullFails('lie/lower', /digest mismatch/i);
    assert.equal(fake.blobGets(img.layers[1].digest), 1, 'the upper layer was downloaded');
  });

  test('two pulls of one image whose upper layer lies: both fail, nothing stays', async () => {
    const img = buildImage({ layers: [{ tar: await smallTar('lower'), compression: 'gzip' }, { tar: await smallTar('upper'), compression: 'gzip' }] });
    fake.addImage('lie/twice', 'v1', img);
    fake.blobHooks.set(img.layers[1].digest, async (_q, res, data) => {
      await sleep(300);
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(randomBytes(data.length));
    });
    await pullFails('lie/twice', /digest mismatch/i, 2);
    assert.equal(fake.blobGets(img.layers[1].digest), 1, 'the second pull waited for the first one');
  });

  test('a lying image and a good one sharing the base, pulled at once: the good one stays whole', async () => {
    const base = { tar: await smallTar('base'), compression: 'gzip' as const };
    const bad = fake.addImage('lie/bad', 'v1', buildImage({ layers: [base, { tar: await smallTar('bad'), compression: 'gzip' }] }));
    const good = fake.addImage('lie/good', 'v1', buildImage({ layers: [base, { tar: await smallTar('good'), compression: 'gzip' }] }));
    let baseAsked!: () => void;
    const baseStarted = new Promise<void>((r) => (baseAsked = r));
    fake.blobHooks.set(bad.layers[0].digest, (_q, res, data) => {
      baseAsked();
      res.writeHead(200, { 'Content-Length': data.length });
      return trickle(res, data, 1024, 30);
    });
    fake.blobHooks.set(bad.layers[1].digest, (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(randomBytes(data.length));
    });
    // The good pull finishes after the bad one failed and cleaned up.
    fake.blobHooks.set(good.layers[1].digest, async (_q, res, data) => {
      await sleep(800);
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(data);
    });
    const before = storeState(d);
    // The lying pull fetches the base; the good one waits for it.
    const p1 = docker(d, 'pull', `${fake.host}/lie/bad:v1`);
    await baseStarted;
    const [r1, r2] = await Promise.all([p1, docker(d, 'pull', `${fake.host}/lie/good:v1`)]);
    failed(r1, 'pull of the lying image', /digest mismatch/);
    ok(r2, 'pull of the good image');
    const now = storeState(d);
    const added = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).sort();
    assert.deepEqual(added(now.blobs, before.blobs), [good.layers[0].digest, good.layers[1].digest, good.config.digest, good.digest].map((x) => x.slice(7)).sort());
    assert.equal(added(now.layers, before.layers).length, 2);
    assert.deepEqual(now.ingest, []);
    assert.deepEqual(now.tmp, []);
    assert.equal(fake.blobGets(bad.layers[0].digest), 1, 'the base was fetched once');
    assert.equal(ok(await docker(d, 'images', '-q', '--no-trunc'), 'images').trim(), good.config.digest);
    await removeAll(d);
  });

  test('two layers: the upper one lies after the lower one is done', async () => {
    const img = buildImage({ layers: [{ tar: await smallTar('lower'), compression: 'gzip' }, { tar: await smallTar('upper'), compression: 'gzip' }] });
    fake.addImage('lie/upper', 'v1', img);
    fake.blobHooks.set(img.layers[1].digest, async (_q, res, data) => {
      await sleep(500);
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(randomBytes(data.length));
    });
    await pullFails('lie/upper', /digest mismatch/i);
  });
});

// ---------------------------------------------------------------------------

describe('pulls from a fake registry', () => {
  let fake: FakeRegistry;
  let d: TestDaemon;
  before(async () => {
    [fake, d] = await Promise.all([new FakeRegistry().start(), startDaemon()]);
  });
  after(async () => {
    await d?.stop();
    await fake?.close();
  });

  test('concurrent pulls download each blob once', async () => {
    const base = { tar: await busybox(), compression: 'gzip' as const };
    const a = fake.addImage('con/a', 'v1', buildImage({ layers: [base, { tar: await smallTar('a'), compression: 'gzip' }] }));
    const b = fake.addImage('con/b', 'v1', buildImage({ layers: [base, { tar: await smallTar('b'), compression: 'gzip' }] }));
    assert.equal(a.layers[0].digest, b.layers[0].digest);
    // The shared base comes slowly, so all three pulls want it at once.
    let manifestsBeforeBase = 0;
    fake.blobHooks.set(a.layers[0].digest, async (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      // Counted as the last piece goes out: with Content-Length the pull may
      // finish before trickle() returns.
      await trickle(res, data, 64 * 1024, 40, (n) => {
        if (n === data.length) manifestsBeforeBase = fake.requests.filter((r) => /^GET \/v2\/con\/[ab]\/manifests\/v1$/.test(r)).length;
      });
    });
    const pulls = await Promise.all([docker(d, 'pull', `${fake.host}/con/a:v1`), docker(d, 'pull', `${fake.host}/con/a:v1`), docker(d, 'pull', `${fake.host}/con/b:v1`)]);
    pulls.forEach((r, i) => ok(r, `pull ${i}`));
    assert.equal(manifestsBeforeBase, 3, 'all three pulls were under way while the base layer came:\n' + fake.requests.join('\n'));
    for (const l of [a.layers[0], a.layers[1], b.layers[1]]) assert.equal(fake.blobGets(l.digest), 1, `GETs of ${l.digest}:\n${fake.requests.join('\n')}`);
    assert.equal(ok(await docker(d, 'run', '--rm', `${fake.host}/con/a:v1`, 'ls', '/a'), 'run a').split('\n').filter(Boolean).length, 1);
    assert.equal(ok(await docker(d, 'run', '--rm', `${fake.host}/con/b:v1`, 'ls', '/b'), 'run b').split('\n').filter(Boolean).length, 1);
    await removeAll(d);
  });

  test('a layer download whose connection drops is resumed with Range, and the pull completes', async () => {
    const img = fake.addImage('drop/once', 'v1', buildImage({ layers: [{ tar: await busybox(), compression: 'gzip' }] }));
    const ranges: Array<string | undefined> = [];
    fake.blobHooks.set(img.layers[0].digest, (q, res, data) => {
      const range = q.headers.range as string | undefined;
      ranges.push(range);
      const from = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0);
      if (!range) {
        res.writeHead(200, { 'Content-Length': data.length });
        res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      res.writeHead(206, { 'Content-Length': data.length - from, 'Content-Range': `bytes ${from}-${data.length - 1}/${data.length}` });
      res.end(data.subarray(from));
    });
    try {
      ok(await docker(d, 'pull', `${fake.host}/drop/once:v1`), 'pull');
    } finally {
      fake.blobHooks.delete(img.layers[0].digest); // other tests serve the same busybox layer
    }
    assert.equal(ranges.length, 2, `requests: ${JSON.stringify(ranges)}`);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1]!, /^bytes=[1-9]\d*-$/);
    assert.equal(ok(await docker(d, 'run', '--rm', `${fake.host}/drop/once:v1`, 'echo', 'whole'), 'run'), 'whole\n');
    await removeAll(d);
  });

  test('platform selection from an OCI index', async () => {
    const mine = hostArch();
    const otherArch = mine === 'arm64' ? 'amd64' : 'arm64';
    const native = buildImage({ layers: [{ tar: await busybox(), compression: 'gzip' }], arch: mine });
    const foreign = buildImage({ layers: [{ tar: await smallTar('foreign'), compression: 'gzip' }], arch: otherArch });
    for (const img of [native, foreign]) {
      for (const l of [...img.layers, img.config]) fake.addBlob(l);
      fake.addManifest('multi/app', img.digest, img.manifest, img.mediaType);
    }
    const index = buildIndex([
      { image: native, os: 'linux', architecture: mine },
      { image: foreign, os: 'linux', architecture: otherArch },
    ]);
    fake.addManifest('multi/app', 'v1', index.bytes, MT.ociIndex);
    const name = `${fake.host}/multi/app:v1`;

    const out = ok(await docker(d, 'pull', name), 'default pull');
    assert.match(out, new RegExp(`Digest: ${index.digest}`), 'the RepoDigest names the index');
    assert.equal(ok(await docker(d, 'image', 'inspect', '-f', '{{.Architecture}}', name), 'inspect').trim(), mine);
    assert.equal(ok(await docker(d, 'run', '--rm', name, 'echo', 'native'), 'run').trim(), 'native');
    const nativeId = await imageId(d, name);
    assert.equal(fake.blobGets(foreign.layers[0].digest), 0, 'nothing of the other platform was fetched');

    ok(await docker(d, 'pull', '--platform', `linux/${otherArch}`, name), `pull --platform linux/${otherArch}`);
    assert.equal(ok(await docker(d, 'image', 'inspect', '-f', '{{.Architecture}}', name), 'inspect').trim(), otherArch);

    failed(await docker(d, 'pull', '--platform', 'linux/s390x', name), 'pull of a missing platform', /no matching manifest for linux\/s390x.*available: linux\/(amd64|arm64), linux\/(amd64|arm64)/);
    assert.equal(ok(await docker(d, 'image', 'inspect', '-f', '{{.Architecture}}', name), 'inspect').trim(), otherArch, 'the tag is unchanged');
    ok(await docker(d, 'rmi', name, nativeId), 'rmi');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');
  });

  test('layer formats: gzip, zstd and plain tar, Docker and OCI media types', async () => {
    const tar = await busybox();
    const cases: Array<{ tag: string; compression: 'gzip' | 'zstd' | 'none'; oci: boolean; mediaType?: string }> = [
      { tag: 'docker-gzip', compression: 'gzip', oci: false },
      { tag: 'oci-gzip', compression: 'gzip', oci: true },
      { tag: 'oci-zstd', compression: 'zstd', oci: true },
      { tag: 'oci-tar', compression: 'none', oci: true },
      // Docker's own layer type with uncompressed bytes (dockerd sniffs them).
      { tag: 'docker-plain', compression: 'none', oci: false, mediaType: MT.dockerLayer },
    ];
    for (const c of cases) {
      const img = fake.addImage('formats/bb', c.tag, buildImage({ layers: [{ tar, compression: c.compression, mediaType: c.mediaType }], oci: c.oci, label: c.tag }));
      const name = `${fake.host}/formats/bb:${c.tag}`;
      const gets = fake.blobGets(img.layers[0].digest);
      ok(await docker(d, 'pull', name), `pull ${c.tag}`);
      assert.equal(fake.blobGets(img.layers[0].digest), gets + 1, `${c.tag}: the layer was downloaded`);
      assert.equal(ok(await docker(d, 'run', '--rm', name, 'echo', c.tag), `run ${c.tag}`).trim(), c.tag);
      // Gone again, so the next format is really downloaded and extracted.
      ok(await docker(d, 'rmi', name), `rmi ${c.tag}`);
      assert.deepEqual(storeState(d).layers, []);
    }
  });

  // Layer GC on rmi keeps only what images name, but a pull commits its
  // layers before its image exists: an rmi of anything else in between
  // removes them, and the pull fails with "parent layer … not found".
  test('rmi during a pull leaves the layers the pull has made', async () => {
    await importBusybox(d, 'victim');
    const img = fake.addImage('race/app', 'v1', buildImage({ layers: [{ tar: await smallTar('lower'), compression: 'gzip' }, { tar: await smallTar('upper'), compression: 'gzip' }] }));
    let upperAsked!: () => void;
    const asked = new Promise<void>((r) => (upperAsked = r));
    fake.blobHooks.set(img.layers[1].digest, async (_q, res, data) => {
      upperAsked();
      await sleep(1000);
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(data);
    });
    try {
      const pull = docker(d, 'pull', `${fake.host}/race/app:v1`);
      await asked;
      for (const t = Date.now(); storeState(d).layers.length < 2 && Date.now() - t < 5000; ) await sleep(20);
      ok(await docker(d, 'rmi', 'victim'), 'rmi');
      ok(await pull, 'pull');
    } finally {
      await docker(d, 'image', 'prune', '-a', '-f');
    }
  });

  test('a short name fails fast and names docker.io', async () => {
    const t = Date.now();
    const r = await docker(d, 'pull', 'alpine');
    failed(r, 'docker pull alpine', /docker\.io/);
    assert.ok(Date.now() - t < 10_000, `took ${Date.now() - t} ms`);
  });
});

// ---------------------------------------------------------------------------

describe('berthd killed in the middle of a pull', () => {
  let fake: FakeRegistry;
  let d: TestDaemon;
  before(async () => {
    [fake, d] = await Promise.all([new FakeRegistry().start(), startDaemon()]);
  });
  after(async () => {
    await d?.stop();
    await fake?.close();
  });

  test('no partial blob, no image, and the next pull completes', async () => {
    const img = fake.addImage('slow/app', 'v1', buildImage({ layers: [{ tar: await busybox(), compression: 'gzip' }] }));
    const layer = img.layers[0];
    const half = layer.size >> 1;
    fake.blobHooks.set(layer.digest, async (_q, res, data) => {
      res.writeHead(200, { 'Content-Length': data.length });
      // Half the layer, then nothing until berthd is gone.
      await trickle(res, data.subarray(0, half), 64 * 1024, 5, () => {}, false);
    });
    let done = false;
    const pull = docker(d, 'pull', `${fake.host}/slow/app:v1`).finally(() => (done = true));
    // Wait until the half that came is in content/ingest.
    const ingestDir = path.join(d.dataRoot, 'content', 'ingest');
    const ingested = () => storeState(d).ingest.reduce((n, f) => n + fs.statSync(path.join(ingestDir, f)).size, 0);
    for (const t = Date.now(); ingested() < half; await sleep(20)) {
      if (done) assert.fail(`pull ended early:\n${output(await pull)}`);
      assert.ok(Date.now() - t < 15_000, `only ${ingested()} of ${half} bytes reached content/ingest`);
    }
    assert.equal(storeState(d).ingest.length, 1);
    await d.kill9();
    assert.notEqual((await pull).code, 0, 'the client sees the daemon go');
    assert.ok(!storeState(d).blobs.includes(layer.digest.slice(7)), 'no blob under the layer digest');

    await d.restart();
    const s = storeState(d);
    assert.deepEqual(s.ingest, [], 'content/ingest wiped at start');
    assert.deepEqual(s.tmp, [], 'overlay/tmp wiped at start');
    assert.deepEqual(s.blobs, [], 'no blob at all');
    assert.deepEqual(s.layers, [], 'no layer');
    assert.equal(ok(await docker(d, 'images', '-a', '-q'), 'images').trim(), '');

    fake.blobHooks.delete(layer.digest);
    const out = ok(await docker(d, 'pull', `${fake.host}/slow/app:v1`), 'pull after restart');
    assert.match(out, /Status: Downloaded newer image/);
    assert.ok(storeState(d).blobs.includes(layer.digest.slice(7)), 'the compressed layer is kept');
    assert.equal(ok(await docker(d, 'run', '--rm', `${fake.host}/slow/app:v1`, 'echo', 'resumed'), 'run').trim(), 'resumed');
  });
});
