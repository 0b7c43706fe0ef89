// The image and distribution commands, berth against the real docker CLI:
// both talk to the same canned Engine API server, and must print the same
// bytes, exit with the same status, send the same requests (query,
// X-Registry-Auth) and write the same config.json. Skipped without `docker`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/cli';
import { collector } from './berth';

const haveDocker = spawnSync('docker', ['--version']).status === 0;
const now = Math.floor(Date.now() / 1000);
const h = (c: string) => c.repeat(64);

const IMAGES = [
  { Id: `sha256:${h('1')}`, RepoTags: ['busybox:latest', 'busybox:1.36'], RepoDigests: [`busybox@sha256:${h('9')}`], Created: now - 3 * 3600, Size: 4260000, SharedSize: -1, Containers: 2, Labels: { a: '<b>' } },
  { Id: `sha256:${h('2')}`, RepoTags: [], RepoDigests: [], Created: now - 3 * 86400, Size: 0, SharedSize: 0, Containers: -1 },
  { Id: `sha256:${h('3')}`, RepoTags: [], RepoDigests: [`foo/bar@sha256:${h('8')}`], Created: now - 30 * 86400, Size: 999500, SharedSize: 1000 },
  { Id: `sha256:${h('5')}`, RepoTags: ['localhost:5000/x/y:dev'], RepoDigests: [], Created: now - 600 * 86400, Size: 4125 },
];

const CONTAINERS = [
  {
    Id: h('a'), Names: ['/web'], Image: 'busybox', ImageID: `sha256:${h('1')}`, Command: 'sleep 1000', Created: now - 3600,
    Ports: [{ PrivatePort: 80, Type: 'tcp' }], Labels: { 'com.example.x-y': 'v1', z: '<&>' }, State: 'running', Status: 'Up 1 hour',
    SizeRw: 12, SizeRootFs: 4260012,
    Mounts: [{ Name: 'data', Source: '/var/lib/x', Driver: 'local' }, { Name: '', Source: '/a/very/long/host/path/here', Driver: '' }],
    NetworkSettings: { Networks: { bridge: {} } }, // one: docker prints a Go map in random order
  },
  { Id: h('b'), Names: ['/db'], Image: 'registry.local:5000/team/db:1', ImageID: `sha256:${h('2')}`, Command: 'true', Created: now - 86400, Ports: [], Labels: null, State: 'exited', Status: 'Exited (0) 1 day ago' },
];

const HISTORY = [
  { Id: `sha256:${h('1')}`, Created: now - 3600, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]\twith a tab and a long tail that gets cut', Tags: ['busybox:latest'], Size: 0, Comment: '' },
  { Id: '<missing>', Created: now - 86400 * 40, CreatedBy: '/bin/sh -c #(nop) ADD file:abc in / ', Tags: null, Size: 4260000, Comment: 'imported' },
  { Id: '<missing>', Created: 0, CreatedBy: '', Tags: null, Size: 123, Comment: '' },
];

const PULL_STREAM = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Waiting', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Downloading', progressDetail: { current: 1000, total: 2000000 }, id: 'aaaaaaaaaaaa' },
  { status: 'Downloading', progressDetail: { current: 2000000, total: 2000000 }, id: 'aaaaaaaaaaaa' },
  { status: 'Verifying Checksum', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Extracting', progressDetail: { current: 32768, total: 2000000 }, id: 'aaaaaaaaaaaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Already exists', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: `Digest: sha256:${h('9')}` },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

const PUSH_STREAM = [
  { status: 'The push refers to repository [localhost:5000/app]' },
  { status: 'Preparing', progressDetail: {}, id: 'cccccccccccc' },
  { status: 'Preparing', progressDetail: {}, id: 'dddddddddddd' },
  { status: 'Pushing', progressDetail: { current: 512, total: 1024 }, id: 'cccccccccccc' },
  { status: 'Mounted from library/busybox', progressDetail: {}, id: 'dddddddddddd' },
  { status: 'Pushed', progressDetail: {}, id: 'cccccccccccc' },
  { status: `v1: digest: sha256:${h('7')} size: 527` },
  { progressDetail: {}, aux: { Tag: 'v1', Digest: `sha256:${h('7')}`, Size: 527 } },
];

interface Req {
  method: string;
  path: string;
  query: Record<string, string[]>;
  auth?: string;
  body: string;
}

describe('image and registry commands match the docker CLI', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  let requests: Req[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compat-img-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const p = decodeURIComponent(url.pathname.replace(/^\/v[\d.]+/, ''));
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        if (p !== '/_ping') requests.push({ method: req.method!, path: p, query, auth: req.headers['x-registry-auth'] as string | undefined, body });
        handle(req.method!, p, url.searchParams, body, res);
      });
    });
    const json = (res: http.ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.51' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const stream = (res: http.ServerResponse, msgs: unknown[]) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.51' });
      for (const m of msgs) res.write(JSON.stringify(m) + '\r\n');
      res.end();
    };
    const handle = (_method: string, p: string, q: URLSearchParams, body: string, res: http.ServerResponse) => {
      if (p === '/_ping') return json(res, 200, 'OK');
      if (p === '/images/json') return json(res, 200, IMAGES);
      if (p === '/containers/json') return json(res, 200, CONTAINERS);
      if (p === '/images/create') {
        const from = q.get('fromImage') ?? '';
        if (from.includes('missing')) return json(res, 404, { message: `pull access denied for ${from}, repository does not exist or may require 'docker login'` });
        if (from.includes('broken')) return stream(res, [PULL_STREAM[0], { errorDetail: { message: 'manifest unknown: manifest unknown' }, error: 'manifest unknown: manifest unknown' }]);
        return stream(res, PULL_STREAM);
      }
      if (/^\/images\/.+\/push$/.test(p)) return stream(res, PUSH_STREAM);
      if (p === '/auth') {
        const a = JSON.parse(body || '{}');
        if (a.password === 'bad') return json(res, 401, { message: 'login attempt to http://localhost:5000/v2/ failed with status: 401 Unauthorized' });
        return json(res, 200, { Status: 'Login Succeeded', IdentityToken: a.password === 'token' ? 'tok123' : '' });
      }
      if (p === '/images/get') {
        res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Api-Version': '1.51' });
        return res.end(`TAR:${q.getAll('names').join(',')}`);
      }
      if (p === '/images/load') {
        return stream(res, [{ stream: 'Loaded image: busybox:latest\n' }, { stream: `Loaded image ID: sha256:${h('1')}\n` }]);
      }
      if (p === '/containers/web/export') {
        res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Api-Version': '1.51' });
        return res.end('EXPORT');
      }
      if (p === '/commit') {
        if (q.get('container') === 'nope') return json(res, 404, { message: 'No such container: nope' });
        return json(res, 201, { Id: `sha256:${h('6')}` });
      }
      if (p === '/images/busybox/history') return json(res, 200, HISTORY);
      if (p === '/images/prune') {
        return json(res, 200, { ImagesDeleted: [{ Untagged: 'busybox:old' }, { Deleted: `sha256:${h('4')}` }], SpaceReclaimed: 12345678 });
      }
      return json(res, 404, { message: `No such image: ${p}` });
    };
    await new Promise<void>((r) => server.listen(sock, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cfgDir = (who: string) => path.join(dir, `${who}-config`);

  const docker = (args: string[], input = '') =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: cfgDir('docker'), DOCKER_HOST: `unix://${sock}`, DOCKER_CLI_HINTS: 'false' };
      const child = spawn('docker', args, { env });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      child.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() }));
      // A CLI that refuses its arguments exits without reading stdin.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });

  const berth = async (args: string[], input = '') => {
    const out = collector();
    const err = collector();
    const stdin = new PassThrough();
    stdin.end(input);
    const code = await runCli(args, { out, err, in: stdin, env: { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: cfgDir('berth') } });
    return { code, out: out.text(), err: err.text() };
  };

  // Runs both and returns the requests each sent (docker's first).
  const both = async (args: string[], input = '') => {
    requests = [];
    const b = await berth(args, input);
    const bReqs = requests;
    requests = [];
    const d = await docker(args, input);
    const dReqs = requests;
    return { b, d, bReqs, dReqs };
  };

  const normalize = (s: string) => s.replace(/docker/g, 'berth').replace(/berth-config/g, 'CONFIG').replace(/docker-config/g, 'CONFIG');

  const same = (args: string[], input = '') =>
    it(args.join(' '), async () => {
      const { b, d } = await both(args, input);
      assert.equal(b.out, d.out);
      assert.equal(normalize(b.err), normalize(d.err));
      assert.equal(b.code, d.code);
    });

  const decodeAuth = (h?: string) => (h ? JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString()) : undefined);

  describe('images --format', () => {
    same(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}} {{.Size}} {{.CreatedSince}}']);
    same(['images', '--format', '{{json .}}']);
    same(['images', '--format', 'json']);
    same(['images', '--format', 'table']);
    same(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.Containers}}\\t{{.SharedSize}}\\t{{.UniqueSize}}\\t{{.VirtualSize}}']);
    same(['images', '--format', 'table {{.ID}}', '--digests']);
    same(['images', '--format', '{{.Repository}}', '-q']);
    same(['images', '--format', '{{.ID}}', '--no-trunc']);
    same(['images', '--format', '{{if .Tag}}{{.Tag | upper}}{{else}}-{{end}} {{printf "%.3s" .Repository}} {{len .ID}}']);
    same(['images', '--format', '{{.Nope}}']);
    same(['images', '--format', '{{.ID']);
    same(['images', '--format', '{{nofunc .ID}}']);
    same(['images', '--filter', 'nofilter']);
    it('sends --filter as the filters parameter', async () => {
      const { bReqs } = await both(['images', '-f', 'dangling=true', '-f', 'label=a=<b>', 'busy*']);
      assert.deepEqual(JSON.parse(bReqs[0].query.filters[0]), { dangling: ['true'], label: ['a=<b>'], reference: ['busy*'] });
    });
  });

  describe('ps --format', () => {
    same(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}} {{.Image}} {{.Command}} {{.State}} {{.Labels}} {{.Label "z"}}']);
    same(['ps', '--format', 'table {{.ID}}\\t{{.Label "com.example.x-y"}}\\t{{.Labels}}\\t{{.Mounts}}\\t{{.Networks}}\\t{{.LocalVolumes}}']);
    same(['ps', '--format', 'table {{.Names}}\\t{{.Size}}']);
    same(['ps', '--format', '{{json .}}']);
    same(['ps', '--format', 'json', '--no-trunc']);
    same(['ps', '--format', 'raw']);
    same(['ps', '--format', '{{.Names}}', '-q']);
    same(['ps', '--format', '{{range $k, $v := .Labels}}{{$k}}{{end}}']);
    same(['ps', '--format', '{{.Label}}']);
    same(['ps', '--format', '{{.Names']);
    it('asks for sizes when the template uses .Size', async () => {
      const { bReqs, dReqs } = await both(['ps', '--format', '{{.Size}}']);
      assert.deepEqual(bReqs[0].query.size, ['1']);
      assert.deepEqual(dReqs[0].query.size, ['1']);
    });
  });

  describe('history', () => {
    same(['history', 'busybox']);
    same(['history', '--no-trunc', 'busybox']);
    same(['history', '-q', 'busybox']);
    same(['history', '-q', '--no-trunc', 'busybox']);
    same(['history', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'busybox']);
    same(['history', '--format', 'json', 'busybox']);
    same(['image', 'history', 'nosuch']);
    same(['history']);
  });

  describe('pull and push', () => {
    same(['pull', 'busybox']);
    same(['pull', '-q', 'busybox']);
    same(['pull', '-a', 'busybox']);
    same(['pull', `busybox@sha256:${h('9')}`]);
    same(['pull', 'localhost:5000/broken:1']);
    same(['pull', 'missing']);
    same(['pull', 'Busybox']);
    same(['pull', '-a', 'busybox:1']);
    same(['image', 'pull', 'localhost:5000/x/y:dev']);
    same(['push', 'localhost:5000/app:v1']);
    same(['push', '-q', 'localhost:5000/app:v1']);
    same(['push', 'localhost:5000/app']);
    same(['push', '-a', 'localhost:5000/app']);
    same(['push', `localhost:5000/app@sha256:${h('9')}`]);

    for (const args of [['pull', 'busybox'], ['pull', '-a', 'busybox'], ['pull', '--platform', 'Linux/AMD64', 'quay.io/a/b:1'], ['pull', `busybox@sha256:${h('9')}`], ['push', 'localhost:5000/app:v1'], ['push', '-a', 'localhost:5000/app']]) {
      it(`sends the same request for ${args.join(' ')}`, async () => {
        const { bReqs, dReqs } = await both(args);
        assert.equal(bReqs.length, 1);
        assert.equal(bReqs[0].path, dReqs[0].path);
        assert.deepEqual(bReqs[0].query, dReqs[0].query);
        assert.deepEqual(decodeAuth(bReqs[0].auth), decodeAuth(dReqs[0].auth));
      });
    }
  });

  describe('login and logout share config.json with docker', () => {
    const readCfg = (who: string) => {
      try {
        return fs.readFileSync(path.join(cfgDir(who), 'config.json'), 'utf8');
      } catch {
        return undefined;
      }
    };

    it('writes the same file and messages, and sends the same /auth body', async () => {
      const { b, d, bReqs, dReqs } = await both(['login', '-u', 'user', '--password-stdin', 'localhost:5000'], 'pass\n');
      assert.equal(b.out, d.out);
      assert.equal(normalize(b.err), normalize(d.err));
      assert.equal(b.code, 0);
      assert.equal(readCfg('berth'), readCfg('docker'));
      assert.deepEqual(JSON.parse(bReqs[0].body), JSON.parse(dReqs[0].body));
      assert.equal(fs.statSync(path.join(cfgDir('berth'), 'config.json')).mode & 0o777, 0o600);
    });

    it('sends the stored credentials on pull and push', async () => {
      for (const args of [['pull', 'localhost:5000/x:1'], ['push', 'localhost:5000/app:v1'], ['pull', 'busybox']]) {
        const { bReqs, dReqs } = await both(args);
        assert.deepEqual(decodeAuth(bReqs[0].auth), decodeAuth(dReqs[0].auth), args.join(' '));
      }
      const { bReqs } = await both(['pull', 'localhost:5000/x:1']);
      assert.deepEqual(decodeAuth(bReqs[0].auth), { username: 'user', password: 'pass', serveraddress: 'localhost:5000' });
    });

    same(['login', '-u', 'user', '-p', 'bad', 'localhost:5000']);
    same(['login', '-u', 'user', '--password-stdin', 'localhost:5000'], 'bad\n');
    same(['login', 'localhost:5000']);
    same(['login', '-u', 'user', 'localhost:5000']);
    same(['login', '--password-stdin', 'localhost:5000']);
    same(['login', '-u', '', '-p', 'x']);
    same(['login', '-u', 'x', '-p', '']);
    same(['login', '-p', 'x', '--password-stdin', '-u', 'u']);

    it('stores an identity token instead of the password', async () => {
      const { b, d } = await both(['login', '-u', 'user', '--password-stdin', 'https://registry.example.com/v2/'], 'token\n');
      assert.equal(b.out, d.out);
      assert.equal(normalize(b.err), normalize(d.err));
      assert.equal(readCfg('berth'), readCfg('docker'));
      assert.match(readCfg('berth')!, /"identitytoken": "tok123"/);
    });

    it('logs in to Docker Hub under its index URL', async () => {
      const { b, d, bReqs, dReqs } = await both(['login', '-u', 'hubuser', '--password-stdin'], 'secret\n');
      assert.equal(b.out, d.out);
      assert.equal(readCfg('berth'), readCfg('docker'));
      assert.deepEqual(JSON.parse(bReqs[0].body), JSON.parse(dReqs[0].body));
    });

    it('keeps keys it does not know', async () => {
      const file = path.join(cfgDir('berth'), 'config.json');
      const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
      cfg.psFormat = 'table {{.Names}}';
      cfg.somethingNew = { keep: [1, 2] };
      fs.writeFileSync(file, JSON.stringify(cfg));
      const r = await berth(['login', '-u', 'other', '--password-stdin', 'localhost:6000'], 'pw');
      assert.equal(r.code, 0, r.err);
      const after = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.equal(after.psFormat, 'table {{.Names}}');
      assert.deepEqual(after.somethingNew, { keep: [1, 2] });
      assert.equal(after.auths['localhost:6000'].auth, Buffer.from('other:pw').toString('base64'));
      // psFormat is used by ps, as docker does.
      assert.equal((await berth(['ps'])).out, 'NAMES\nweb\ndb\n');
      delete after.psFormat;
      fs.writeFileSync(file, JSON.stringify(after));
    });

    same(['logout', 'localhost:5000']);
    same(['logout', 'localhost:5000']);
    same(['logout']);

    it('leaves the same file after logout', async () => {
      const b = JSON.parse(readCfg('berth')!);
      const d = JSON.parse(readCfg('docker')!);
      delete b.somethingNew;
      delete b.auths['localhost:6000'];
      assert.deepEqual(b, d);
      assert.equal(b.auths['localhost:5000'], undefined);
    });
  });

  describe('save, load, export, commit, prune', () => {
    same(['save', 'busybox', 'alpine']);
    same(['image', 'save', 'nosuch-image-here']);
    same(['save']);
    same(['save', '-o', '/nonexistent/dir/x.tar', 'busybox']);
    same(['save', '-o', '/dev/null', 'busybox']);
    same(['load'], 'TARBYTES');
    same(['load', '-q'], 'TARBYTES');
    same(['load', '-i', '/nonexistent.tar']);
    same(['load', 'extra']);
    same(['export', 'web']);
    same(['export', 'nosuch']);
    same(['container', 'export']);
    same(['commit', 'web']);
    same(['commit', 'nope']);
    same(['commit', 'web', 'Bad/Name']);
    same(['commit', 'web', `x@sha256:${h('a')}`]);
    same(['image', 'prune', '-f']);
    same(['image', 'prune', '-a', '-f']);
    same(['image', 'prune'], 'n\n');
    same(['image', 'prune'], 'y\n');
    same(['image', 'prune', '-a'], '');
    same(['image', 'prune', '--filter', 'bogus']);

    it('writes -o files atomically with mode 0600', async () => {
      for (const who of ['berth', 'docker'] as const) {
        const file = path.join(dir, `${who}-saved.tar`);
        const r = who === 'berth' ? await berth(['save', '-o', file, 'busybox']) : await docker(['save', '-o', file, 'busybox']);
        assert.equal(r.code, 0, r.err);
        assert.equal(fs.readFileSync(file, 'utf8'), 'TAR:busybox');
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      }
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-')), []);
      const e = await berth(['export', '-o', path.join(dir, 'e.tar'), 'web']);
      assert.equal(e.code, 0);
      assert.equal(fs.readFileSync(path.join(dir, 'e.tar'), 'utf8'), 'EXPORT');
    });

    for (const args of [
      ['commit', '-a', 'A <a@b>', '-m', 'msg', '-c', 'ENV X=1', '-c', 'CMD ["sh"]', '-p=false', 'web', 'app:v1'],
      ['commit', 'web', 'localhost:5000/app'],
      ['commit', 'web'],
      ['save', 'busybox', 'alpine:3'],
      ['load', '-q'],
      ['image', 'prune', '-a', '-f', '--filter', 'until=24h', '--filter', 'label=x'],
      ['image', 'prune', '-f'],
    ]) {
      it(`sends the same query for ${args.join(' ')}`, async () => {
        const { bReqs, dReqs } = await both(args, 'TAR');
        assert.equal(bReqs.length, dReqs.length);
        for (let i = 0; i < bReqs.length; i++) {
          assert.equal(bReqs[i].path, dReqs[i].path);
          const norm = (q: Record<string, string[]>) => {
            const o = { ...q };
            // docker sends empty values; berth leaves them out where the API allows.
            for (const k of Object.keys(o)) if (o[k].every((v) => v === '')) delete o[k];
            if (o.filters) o.filters = [JSON.stringify(JSON.parse(o.filters[0]))];
            return o;
          };
          assert.deepEqual(norm(bReqs[i].query), norm(dReqs[i].query));
        }
      });
    }
  });
});
