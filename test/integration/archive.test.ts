// `docker cp` (the archive API), `docker diff` and `docker export` against a
// real berthd, with the docker CLI, dockerode and raw requests: both ways,
// on running and stopped containers, Docker's stat header and errors, and
// the confinement of every path to the container's root (hostile tars, "..",
// and a container racing symlink swaps against cp, the CVE-2018-15664 class).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { api, docker, importBusybox, run, sleep, startDaemon, type TestDaemon } from './harness';

interface Entry {
  name: string;
  type: string;
  uid: number;
  gid: number;
  mode: number;
  linkname?: string | null;
  body: string;
}

async function untar(buf: Buffer): Promise<Entry[]> {
  const ex = tar.extract();
  const out: Entry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({ name: h.name, type: h.type ?? 'file', uid: h.uid ?? 0, gid: h.gid ?? 0, mode: h.mode ?? 0, linkname: h.linkname, body: Buffer.concat(chunks).toString() });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}

type TarItem = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; uid?: number; gid?: number; mode?: number };

async function mkTar(items: TarItem[]): Promise<Buffer> {
  const p = tar.pack();
  for (const it of items) {
    const h = { name: it.name, type: it.type ?? 'file', linkname: it.linkname, uid: it.uid ?? 0, gid: it.gid ?? 0, mode: it.mode ?? (it.type === 'directory' ? 0o755 : 0o644) };
    if ((it.type ?? 'file') === 'file') p.entry(h, it.body ?? '');
    else p.entry(h);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// A raw request whose body is kept as bytes (the tar of a GET).
// cut: the daemon cut the body short (a failure after the headers).
function request(d: TestDaemon, method: string, p: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; cut?: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, path: p, method, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut });
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done(!res.complete));
      res.on('error', () => done(true));
    });
    // Hung up before any answer: a failure after the headers were queued.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve({ status: 0, headers: {}, body: Buffer.alloc(0), cut: true }) : reject(err)));
    req.end(body);
  });
}

const q = (p: string) => encodeURIComponent(p);
const statOf = (h: http.IncomingHttpHeaders) => JSON.parse(Buffer.from(String(h['x-docker-container-path-stat']), 'base64').toString());

describe('docker cp, docker diff and docker export', { timeout: 240_000 }, () => {
  let d: TestDaemon;
  let work: string;
  const ok = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // The file at p in container c, read back through the archive API.
  const readFile = async (c: string, p: string): Promise<Entry> => {
    const r = await request(d, 'GET', `/containers/${c}/archive?path=${q(p)}`);
    assert.equal(r.status, 200, r.body.toString());
    const entries = await untar(r.body);
    assert.equal(entries.length, 1);
    return entries[0];
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    work = fs.mkdtempSync(path.join(d.base, 'work-'));
  });
  after(async () => {
    await d?.stop();
  });

  it('copies a file and a directory into a running container and back with the docker CLI', async () => {
    await ok('run', '-d', '--name', 'run1', 'busybox', 'sleep', '1000');
    fs.writeFileSync(path.join(work, 'hello.txt'), 'hello\n');
    fs.mkdirSync(path.join(work, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(work, 'tree/a'), 'A');
    fs.writeFileSync(path.join(work, 'tree/sub/b'), 'B');
    fs.symlinkSync('sub/b', path.join(work, 'tree/link'));
    await ok('cp', path.join(work, 'hello.txt'), 'run1:/tmp/');
    await ok('cp', path.join(work, 'tree'), 'run1:/opt');
    assert.equal((await readFile('run1', '/tmp/hello.txt')).body, 'hello\n');
    assert.equal((await readFile('run1', '/opt/sub/b')).body, 'B');
    const link = await readFile('run1', '/opt/link');
    assert.equal(link.type, 'symlink');
    assert.equal(link.linkname, 'sub/b');

    const back = path.join(work, 'back');
    await ok('cp', 'run1:/opt', back);
    assert.equal(fs.readFileSync(path.join(back, 'a'), 'utf8'), 'A');
    assert.equal(fs.readFileSync(path.join(back, 'sub/b'), 'utf8'), 'B');
    assert.equal(fs.readlinkSync(path.join(back, 'link')), 'sub/b');
    // "dir/." copies the contents; -L follows a link the CLI stats first.
    const contents = path.join(work, 'contents');
    fs.mkdirSync(contents);
    await ok('cp', 'run1:/opt/.', contents);
    assert.deepEqual(fs.readdirSync(contents).sort(), ['a', 'link', 'sub']);
    await ok('cp', '-L', 'run1:/opt/link', path.join(work, 'followed'));
    assert.equal(fs.readFileSync(path.join(work, 'followed'), 'utf8'), 'B');
    // To stdout: a tar named by the path's base name.
    const r = await run('docker', ['cp', 'run1:/tmp/hello.txt', '-'], d.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello\.txt\0/);
  });

  it('sees the files runc binds in (/etc/hostname, /etc/hosts), running or stopped', async () => {
    await ok('create', '--name', 'named', '--hostname', 'boxname', 'busybox', 'true');
    for (const c of ['run1', 'named']) {
      const hostname = (await ok('inspect', '-f', '{{.Config.Hostname}}', c)).trim();
      assert.equal((await readFile(c, '/etc/hostname')).body.trim(), hostname);
      assert.match((await readFile(c, '/etc/hosts')).body, /localhost/);
    }
    const r = await run('docker', ['cp', 'named:/etc/hostname', '-'], d.env);
    assert.match(r.stdout, /boxname/);
  });

  it('keeps the tar\'s owner without -a and gives the container user\'s with -a, as dockerd does', async () => {
    const f = path.join(work, 'owned.txt');
    fs.writeFileSync(f, 'x');
    fs.chownSync(f, 4321, 4322);
    await ok('create', '--name', 'usr', '--user', '1234:1235', 'busybox', 'true');
    await ok('cp', f, 'usr:/tmp/plain.txt');
    await ok('cp', '-a', f, 'usr:/tmp/archive.txt');
    const plain = await readFile('usr', '/tmp/plain.txt');
    assert.deepEqual([plain.uid, plain.gid], [4321, 4322]);
    const archived = await readFile('usr', '/tmp/archive.txt');
    assert.deepEqual([archived.uid, archived.gid], [1234, 1235]);
    // A user the container's /etc/passwd does not know is refused by name.
    await ok('create', '--name', 'nouser', '--user', 'nobody-here', 'busybox', 'true');
    const bad = await docker(d, 'cp', '-a', f, 'nouser:/tmp/');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /nobody-here/);
  });

  it('copies to and from created and exited containers, mounting their root for the operation', async () => {
    await ok('create', '--name', 'made', 'busybox', 'cat', '/data/in.txt');
    fs.writeFileSync(path.join(work, 'in.txt'), 'from the host\n');
    await ok('cp', path.join(work, 'in.txt'), 'made:/');
    const mk = await request(d, 'PUT', `/containers/made/archive?path=/`, await mkTar([{ name: 'data/', type: 'directory' }, { name: 'data/in.txt', body: 'from the host\n' }]));
    assert.equal(mk.status, 200, mk.body.toString());
    assert.equal((await readFile('made', '/in.txt')).body, 'from the host\n');
    // Nothing stays mounted for a stopped container.
    const id = (await ok('inspect', '-f', '{{.Id}}', 'made')).trim();
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(id));
    await ok('start', '-a', 'made');
    assert.equal((await ok('logs', 'made')), 'from the host\n');
    await ok('cp', 'made:/data/in.txt', path.join(work, 'out.txt'));
    assert.equal(fs.readFileSync(path.join(work, 'out.txt'), 'utf8'), 'from the host\n');
    assert.equal((await ok('inspect', '-f', '{{.State.Status}}', 'made')).trim(), 'exited');
  });

  it('answers HEAD with Docker\'s stat header: Go FileMode bits, RFC 3339 mtime, link target inside the root', async () => {
    const put = await request(d, 'PUT', '/containers/run1/archive?path=/tmp', await mkTar([{ name: 'abs', type: 'symlink', linkname: '/etc/../bin' }, { name: 'exe', body: '#!', mode: 0o4755 }]));
    assert.equal(put.status, 200);
    const dir = await request(d, 'HEAD', '/containers/run1/archive?path=/bin');
    assert.equal(dir.status, 200);
    const st = statOf(dir.headers);
    assert.equal(st.name, 'bin');
    assert.equal(st.mode, 2 ** 31 + 0o755); // os.ModeDir | 0755
    assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(st.linkTarget, '');
    const link = statOf((await request(d, 'HEAD', '/containers/run1/archive?path=/tmp/abs')).headers);
    assert.equal(link.mode, 2 ** 27 + 0o777); // os.ModeSymlink | 0777
    assert.equal(link.linkTarget, '/bin');
    const exe = statOf((await request(d, 'HEAD', '/containers/run1/archive?path=/tmp/exe')).headers);
    assert.equal(exe.mode, 2 ** 23 + 0o755); // os.ModeSetuid | 0755
    assert.equal(exe.size, 2);
    const root = statOf((await request(d, 'HEAD', '/containers/run1/archive?path=/')).headers);
    assert.equal(root.name, '/');
    // The tar of "/" names entries "/bin/…", as moby's rebase does.
    const all = await request(d, 'GET', '/containers/run1/archive?path=/tmp');
    assert.equal(statOf(all.headers).name, 'tmp');
    const names = (await untar(all.body)).map((e) => e.name);
    assert.ok(names.includes('tmp/') && names.includes('tmp/exe') && names.includes('tmp/hello.txt'), names.join(' '));
  });

  it('answers bad paths as dockerd does', async () => {
    const missing = await api(d, 'GET', '/containers/run1/archive?path=/no/such');
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).message, 'Could not find the file /no/such in container run1');
    assert.equal((await api(d, 'HEAD', '/containers/run1/archive?path=/no/such')).status, 404);
    const empty = await api(d, 'GET', '/containers/run1/archive?path=');
    assert.equal(empty.status, 400);
    assert.match(JSON.parse(empty.body).message, /path cannot be empty/);
    const nul = await api(d, 'GET', '/containers/run1/archive?path=%2Fetc%00passwd');
    assert.equal(nul.status, 400);
    const putMissing = await request(d, 'PUT', '/containers/run1/archive?path=/no/such', await mkTar([{ name: 'x', body: 'x' }]));
    assert.equal(putMissing.status, 404);
    const notDir = await request(d, 'PUT', '/containers/run1/archive?path=/tmp/hello.txt', await mkTar([{ name: 'x', body: 'x' }]));
    assert.equal(notDir.status, 400);
    assert.match(JSON.parse(notDir.body.toString()).message, /extraction point is not a directory/);
    const noCtr = await api(d, 'HEAD', '/containers/nope/archive?path=/');
    assert.equal(noCtr.status, 404);
    // The CLI refuses to copy a file over a directory (noOverwriteDirNonDir).
    const over = await request(d, 'PUT', '/containers/run1/archive?path=/&noOverwriteDirNonDir=true', await mkTar([{ name: 'tmp', body: 'x' }]));
    assert.equal(over.status, 400);
    assert.match(JSON.parse(over.body.toString()).message, /cannot overwrite directory/);
    assert.equal(statOf((await request(d, 'HEAD', '/containers/run1/archive?path=/tmp')).headers).mode >= 2 ** 31, true);
    // Without it, a directory is replaced, as moby's Untar does.
    await ok('run', '-d', '--name', 'over', 'busybox', 'sleep', '1000');
    const replaced = await request(d, 'PUT', '/containers/over/archive?path=/', await mkTar([{ name: 'home', body: 'now a file' }]));
    assert.equal(replaced.status, 200);
    assert.equal((await readFile('over', '/home')).body, 'now a file');
    // The daemon still serves.
    assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  });

  it('refuses writes to a --read-only container, as dockerd does', async () => {
    await ok('create', '--name', 'ro', '--read-only', 'busybox', 'true');
    const r = await request(d, 'PUT', '/containers/ro/archive?path=/tmp', await mkTar([{ name: 'x', body: 'x' }]));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body.toString()).message, 'container rootfs is marked read-only');
    const cli = await docker(d, 'cp', path.join(work, 'hello.txt'), 'ro:/tmp/');
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /read-only/);
    // Reading is fine.
    assert.equal((await request(d, 'HEAD', '/containers/ro/archive?path=/etc/passwd')).status, 200);
  });

  it('keeps every path inside the root: "..", absolute links, hostile tars', async () => {
    const canary = path.join(d.base, 'canary');
    fs.mkdirSync(path.join(canary, 'wdir'), { recursive: true });
    fs.writeFileSync(path.join(canary, 'secret'), 'HOST-SECRET\n');
    // "/../../etc/passwd" is the container's /etc/passwd.
    const mine = (await readFile('run1', '/etc/passwd')).body;
    const up = await readFile('run1', '/../../etc/passwd');
    assert.equal(up.body, mine);
    assert.notEqual(up.body, fs.readFileSync('/etc/passwd', 'utf8'));
    // A link to "/" inside the container leads to the container's root.
    await request(d, 'PUT', '/containers/run1/archive?path=/', await mkTar([{ name: 'toroot', type: 'symlink', linkname: '/' }]));
    assert.equal((await api(d, 'GET', `/containers/run1/archive?path=${q('/toroot' + canary + '/secret')}`)).status, 404);
    assert.equal((await readFile('run1', '/toroot/etc/passwd')).body, mine);

    const hostile: Array<[string, TarItem[]]> = [
      ['a name climbing out', [{ name: '../../../../../../' + canary.slice(1) + '/wdir/climbed', body: 'pwned' }]],
      ['a relative link climbing out', [{ name: 'up', type: 'symlink', linkname: '../../../../../../../../' }]],
      ['a hardlink to a host file', [{ name: 'hl', type: 'link', linkname: '../../../../../../' + canary.slice(1) + '/secret' }]],
    ];
    for (const [what, items] of hostile) {
      const r = await request(d, 'PUT', '/containers/run1/archive?path=/tmp', await mkTar(items));
      assert.equal(r.status, 400, `${what}: ${r.body}`);
    }
    // An absolute link followed by a write through it, and a hardlink to an
    // absolute path: both land in the container's own tree (as in dockerd,
    // which also chroots), here at the host canary's path inside it.
    const made = await request(d, 'PUT', '/containers/run1/archive?path=/', await mkTar([
      { name: canary.slice(1) + '/wdir/', type: 'directory' },
      { name: canary.slice(1) + '/secret', body: 'decoy\n' },
    ]));
    assert.equal(made.status, 200, made.body.toString());
    const through = await request(d, 'PUT', '/containers/run1/archive?path=/tmp', await mkTar([
      { name: 'abs', type: 'symlink', linkname: canary + '/wdir' },
      { name: 'abs/through', body: 'pwned' },
    ]));
    assert.equal(through.status, 200, through.body.toString());
    assert.equal((await readFile('run1', canary + '/wdir/through')).body, 'pwned');
    // A hardlink's target is taken from the extraction directory, as moby does.
    const hard = await request(d, 'PUT', '/containers/run1/archive?path=/', await mkTar([{ name: 'tmp/hl2', type: 'link', linkname: canary + '/secret' }]));
    assert.equal(hard.status, 200, hard.body.toString());
    assert.equal((await readFile('run1', '/tmp/hl2')).body, 'decoy\n');
    assert.deepEqual(fs.readdirSync(path.join(canary, 'wdir')), []);
    assert.equal(fs.readFileSync(path.join(canary, 'secret'), 'utf8'), 'HOST-SECRET\n');
    assert.equal(fs.statSync(path.join(canary, 'secret')).nlink, 1);
  });

  it('never reads or writes the host when the container races symlink swaps against cp (CVE-2018-15664)', async () => {
    const canary = path.join(d.base, 'race');
    fs.mkdirSync(path.join(canary, 'wdir'), { recursive: true });
    fs.writeFileSync(path.join(canary, 'secret'), 'HOST-SECRET\n');
    // /w is in turn a real directory holding the canary's path (with a
    // decoy) and a symlink to "/" (where the same path holds a decoy too),
    // made afresh each round: a write that lands mid-swap cannot upset it.
    const script = [
      `mkdir -p ${canary}/wdir`,
      `echo decoy > ${canary}/secret`,
      `while :; do rm -rf /w; mkdir -p /w${canary}/wdir; echo decoy > /w${canary}/secret; rm -rf /w; ln -s / /w; done`,
    ].join('; ');
    await ok('run', '-d', '--name', 'racer', 'busybox', 'sh', '-c', script);
    await sleep(200);
    const body = await mkTar([{ name: 'pwned', body: 'pwned' }]);
    const seen = { read: 0, wrote: 0, missing: 0, cut: 0 };
    const rounds = 75;
    const worker = async (n: number) => {
      for (let i = n; i < rounds; i += 3) {
        const get = await request(d, 'GET', `/containers/racer/archive?path=${q('/w' + canary + '/secret')}`);
        assert.ok(!get.body.includes('HOST-SECRET'));
        if (get.status === 200 && !get.cut) {
          // The decoy, or caught between its creation and its write.
          const [e] = await untar(get.body);
          assert.ok(e.body === 'decoy\n' || e.body === '', e.body);
          seen.read++;
        } else {
          // Gone, or swapped between the stat and the read (the tar is cut).
          assert.ok(get.status === 404 || get.cut, `${get.status} ${get.body}`);
          seen.missing++;
          if (get.cut) seen.cut++;
        }
        const head = await request(d, 'HEAD', `/containers/racer/archive?path=${q('/w' + canary + '/secret')}`);
        assert.ok(head.status === 200 || head.status === 404);
        const put = await request(d, 'PUT', `/containers/racer/archive?path=${q('/w' + canary + '/wdir')}`, body);
        // Swapped between resolving the directory and writing: a 400.
        if (put.status === 200) seen.wrote++;
        else assert.ok(put.status === 404 || put.status === 400, `${put.status} ${put.body}`);
        const dir = await request(d, 'GET', `/containers/racer/archive?path=${q('/w' + canary)}`);
        assert.ok(!dir.body.includes('HOST-SECRET'));
      }
    };
    await Promise.all([worker(0), worker(1), worker(2)]);
    assert.ok(seen.read + seen.missing === rounds);
    assert.deepEqual(fs.readdirSync(path.join(canary, 'wdir')), [], 'nothing was written to the host');
    assert.equal(fs.readFileSync(path.join(canary, 'secret'), 'utf8'), 'HOST-SECRET\n');
    // The race was real: both states were hit.
    assert.ok(seen.read > 0 && seen.wrote > 0, JSON.stringify(seen));
    await ok('rm', '-f', 'racer');
  });

  it('docker diff lists what dockerd would, on running and stopped containers', async () => {
    await ok('run', '-d', '--name', 'differ', 'busybox', 'sh', '-c', 'touch /a; rm /etc/passwd; mkdir -p /x/y; echo > /bin/newfile; echo done; sleep 1000');
    for (let i = 0; i < 100 && !(await ok('logs', 'differ')).includes('done'); i++) await sleep(50);
    const expected = ['A /a', 'C /bin', 'A /bin/newfile', 'C /etc', 'D /etc/passwd', 'A /x', 'A /x/y'].join('\n') + '\n';
    assert.equal(await ok('diff', 'differ'), expected);
    await ok('stop', '-t', '0', 'differ');
    assert.equal(await ok('diff', 'differ'), expected);
    // A container that changed nothing has no changes: the init layer's
    // mount points (/etc/hosts, /proc, …) do not show.
    await ok('run', '--name', 'quiet', 'busybox', 'true');
    assert.equal(await ok('diff', 'quiet'), '');
    // An opaque directory (rm -rf and mkdir again) is deleted, as moby says.
    await ok('run', '--name', 'opaque', 'busybox', 'sh', '-c', 'rm -rf /var/spool && mkdir /var/spool && touch /var/spool/new');
    const lines = (await ok('diff', 'opaque')).trim().split('\n');
    assert.deepEqual(lines, ['C /var', 'D /var/spool', 'A /var/spool/new']);
    const missing = await docker(d, 'diff', 'nope');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such container: nope/);
  });

  it('docker export is the merged root, running or stopped', async () => {
    for (const c of ['run1', 'made']) {
      const out = path.join(work, `${c}.tar`);
      await ok('export', '-o', out, c);
      const list = await run('tar', ['tf', out], {});
      assert.equal(list.code, 0, list.stderr);
      const names = list.stdout.split('\n');
      assert.ok(names.includes('bin/busybox') || names.includes('bin/sh'), c);
      assert.ok(names.includes('etc/passwd'), c);
    }
    // What cp put in shows in the export.
    const made = (await run('tar', ['tf', path.join(work, 'made.tar')], {})).stdout.split('\n');
    assert.ok(made.includes('data/in.txt') && made.includes('in.txt'), made.join(' '));
    const running = (await run('tar', ['tf', path.join(work, 'run1.tar')], {})).stdout.split('\n');
    assert.ok(running.includes('opt/sub/b') && running.includes('tmp/hello.txt'));
  });

  it('serves dockerode\'s getArchive, putArchive, infoArchive and changes', async () => {
    const client = new Docker({ socketPath: d.socket });
    const c = client.getContainer('run1');
    await c.putArchive(await mkTar([{ name: 'node.txt', body: 'from dockerode' }]), { path: '/tmp' });
    const info = (await c.infoArchive({ path: '/tmp/node.txt' })) as unknown as { headers?: http.IncomingHttpHeaders };
    const header = info?.headers?.['x-docker-container-path-stat'] ?? (info as any)?.['x-docker-container-path-stat'];
    assert.ok(header, 'infoArchive carries the stat header');
    assert.equal(JSON.parse(Buffer.from(String(header), 'base64').toString()).size, 'from dockerode'.length);
    const stream = (await c.getArchive({ path: '/tmp/node.txt' })) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.equal((await untar(Buffer.concat(chunks)))[0].body, 'from dockerode');
    const changes = (await client.getContainer('differ').changes()) as Array<{ Path: string; Kind: number }>;
    assert.deepEqual(changes.slice(0, 3), [
      { Path: '/a', Kind: 1 },
      { Path: '/bin', Kind: 0 },
      { Path: '/bin/newfile', Kind: 1 },
    ]);
    assert.ok(changes.some((x) => x.Path === '/etc/passwd' && x.Kind === 2));
    await assert.rejects(c.getArchive({ path: '/no/such' }), (err: any) => err.statusCode === 404);
  });
});
