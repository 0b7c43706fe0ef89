// Terminal-dependent behaviour of the image commands, in process against a
// canned daemon: progress bars on a TTY, refusing to write a tar to a
// terminal, interactive login prompts, and prune's confirmation.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/cli';

function collector(tty = false): Writable & { text: () => string; isTTY?: boolean; columns?: number } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  }) as Writable & { text: () => string; isTTY?: boolean; columns?: number };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  if (tty) {
    w.isTTY = true;
    w.columns = 120;
  }
  return w;
}

describe('image commands on a terminal', () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  const requests: { path: string; body: string; auth?: string }[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tty-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const p = new URL(req.url!, 'http://x').pathname.replace(/^\/v[\d.]+/, '');
        requests.push({ path: p, body: Buffer.concat(chunks).toString(), auth: req.headers['x-registry-auth'] as string });
        res.setHeader('Content-Type', 'application/json');
        if (p === '/images/create') {
          res.write('{"status":"Pulling from library/busybox","id":"latest"}\r\n');
          res.write('{"status":"Pulling fs layer","progressDetail":{},"id":"abc"}\r\n');
          res.write('{"status":"Downloading","progressDetail":{"current":500,"total":1000},"id":"abc"}\r\n');
          res.write('{"status":"Pull complete","progressDetail":{},"id":"abc"}\r\n');
          res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\r\n');
        } else if (p === '/auth') {
          if (JSON.parse(Buffer.concat(chunks).toString()).password === 'expired') {
            res.statusCode = 401;
            res.end('{"message":"unauthorized: authentication required"}');
          } else res.end('{"Status":"Login Succeeded"}');
        } else if (p === '/images/prune') {
          res.end('{"ImagesDeleted":null,"SpaceReclaimed":0}');
        } else {
          res.statusCode = 404;
          res.end('{"message":"not found"}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const berth = async (args: string[], opts: { ttyOut?: boolean; stdin?: PassThrough & { isTTY?: boolean; setRawMode?: (b: boolean) => void } } = {}) => {
    const out = collector(opts.ttyOut);
    const err = collector();
    const stdin = opts.stdin ?? new PassThrough();
    if (!opts.stdin) stdin.end();
    const code = await runCli(args, { out, err, in: stdin, env: { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'cfg') } });
    return { code, out: out.text(), err: err.text() };
  };

  it('draws progress bars in place on a terminal', async () => {
    const r = await berth(['pull', 'busybox'], { ttyOut: true });
    assert.equal(r.code, 0, r.err);
    const E = '\x1b[';
    assert.equal(r.out, [
      'Using default tag: latest\n',
      'latest: Pulling from library/busybox\n',
      `\n${E}1A${E}2K\rabc: Pulling fs layer \r${E}1B`,
      `${E}1A${E}2K\rabc: Downloading [=========================>                         ]     500B/1kB\r${E}1B`,
      `${E}1A${E}2K\rabc: Pull complete \r${E}1B`,
      'Status: Downloaded newer image for busybox:latest\n',
      'docker.io/library/busybox:latest\n',
    ].join(''));
  });

  it('refuses to write an archive to a terminal', async () => {
    for (const args of [['save', 'busybox'], ['export', 'c1'], ['image', 'save', 'busybox']]) {
      const r = await berth(args, { ttyOut: true });
      assert.deepEqual(r, { code: 1, out: '', err: 'cowardly refusing to save to a terminal. Use the -o flag or redirect\n' });
    }
  });

  it('refuses to load from a terminal', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const r = await berth(['load'], { stdin });
    assert.deepEqual(r, { code: 1, out: '', err: 'requested load from stdin, but stdin is empty\n' });
  });

  it('prompts for a username and a password (without echo) on a terminal', async () => {
    const modes: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (b: boolean) => modes.push(b) });
    stdin.write('alice\n');
    setTimeout(() => stdin.write('s3cret\r'), 50);
    requests.length = 0;
    const r = await berth(['login', 'localhost:5000'], { stdin });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'Username: Password: \nLogin Succeeded\n');
    assert.deepEqual(modes, [true, false]);
    assert.deepEqual(JSON.parse(requests[0].body), { username: 'alice', password: 's3cret', serveraddress: 'localhost:5000' });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'cfg', 'config.json'), 'utf8'));
    assert.equal(cfg.auths['localhost:5000'].auth, Buffer.from('alice:s3cret').toString('base64'));
  });

  it('tries stored credentials first, then prompts with the stored username as the default', async () => {
    const file = path.join(dir, 'cfg', 'config.json');
    fs.writeFileSync(file, JSON.stringify({ auths: { 'localhost:5000': { auth: Buffer.from('alice:expired').toString('base64') } } }));
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
    stdin.write('\n');
    setTimeout(() => stdin.write('fresh\n'), 50);
    requests.length = 0;
    const r = await berth(['login', 'localhost:5000'], { stdin });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'Username (alice): Password: \nLogin Succeeded\n');
    assert.equal(r.err, "Authenticating with existing credentials... [Username: alice]\n\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\nStored credentials invalid or expired\n\nWARNING! Your credentials are stored unencrypted in '" + file + "'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n");
    assert.deepEqual(requests.map((q) => JSON.parse(q.body).password), ['expired', 'fresh']);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).auths['localhost:5000'].auth, Buffer.from('alice:fresh').toString('base64'));
  });

  it('asks before pruning, and does nothing on "no"', async () => {
    requests.length = 0;
    const no = new PassThrough();
    no.end('N\n');
    const r = await berth(['image', 'prune'], { stdin: no });
    assert.deepEqual(r, { code: 0, out: 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ', err: '' });
    assert.equal(requests.length, 0);
    const yes = new PassThrough();
    yes.end('y\n');
    const y = await berth(['image', 'prune', '-a'], { stdin: yes });
    assert.equal(y.out, 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n');
    assert.equal(requests[0].path, '/images/prune');
  });
});
