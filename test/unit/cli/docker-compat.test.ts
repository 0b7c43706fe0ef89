// Byte-for-byte comparison of berth's output with the real docker CLI's,
// both talking to the same canned Engine API server. Skipped when `docker`
// is not on PATH (it is only used as a client here).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
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

const CONTAINERS = [
  {
    Id: h('a'),
    Names: ['/web', '/other/alias'],
    Image: 'docker.io/library/busybox:latest',
    ImageID: `sha256:${h('b')}`,
    Command: 'sh -c "while true; do sleep 1; done"',
    Created: now - 3 * 3600,
    Ports: [
      { PrivatePort: 80, Type: 'tcp' },
      { PrivatePort: 81, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 9000, Type: 'tcp' },
    ],
    Labels: { a: '1' },
    State: 'running',
    Status: 'Up 3 hours',
  },
  {
    Id: h('c'),
    Names: ['/db'],
    Image: `sha256:${h('d')}`,
    ImageID: `sha256:${h('d')}`,
    Command: 'true',
    Created: now - 2 * 86400,
    Ports: [],
    State: 'exited',
    Status: 'Exited (0) 2 days ago',
  },
  {
    Id: h('e'),
    Names: ['/uni'],
    Image: `busybox@sha256:${h('f')}`,
    ImageID: `sha256:${h('f')}`,
    Command: 'echo ünïcödé ☃ 中文字符 and\ttab "q" \\ end',
    Created: now - 50 * 86400,
    Ports: [],
    State: 'exited',
    Status: 'Exited (137) 7 weeks ago',
  },
  {
    Id: h('1'),
    Names: ['/a-rather-long-container-name_with_underscores'],
    Image: 'registry.local:5000/team/app:1.2',
    ImageID: `sha256:${h('2')}`,
    Command: '',
    Created: now - 400 * 86400,
    Ports: [],
    State: 'created',
    Status: 'Created',
  },
];

const IMAGES = [
  {
    Id: `sha256:${h('1')}`,
    RepoTags: ['busybox:latest', 'busybox:1.36'],
    RepoDigests: [`busybox@sha256:${h('9')}`],
    Created: now - 3 * 3600,
    Size: 4260000,
  },
  { Id: `sha256:${h('2')}`, RepoTags: [], RepoDigests: [], Created: now - 3 * 86400, Size: 0 },
  { Id: `sha256:${h('3')}`, RepoTags: [], RepoDigests: [`foo/bar@sha256:${h('8')}`], Created: now - 30 * 86400, Size: 999500 },
  { Id: `sha256:${h('4')}`, RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], Created: now - 90 * 86400, Size: 123456789 },
  { Id: `sha256:${h('5')}`, RepoTags: ['localhost:5000/x/y:dev'], RepoDigests: [], Created: now - 600 * 86400, Size: 4125 },
];

// Deliberately oddly formatted, with HTML characters and empty containers.
const INSPECT_RAW = `{"Id":"${h('a')}" ,"Name":"/web","Config":{"Env":["A=<b>&c"],"Labels":{},"Cmd":[],"Nested":{"x":[1,2.50,{"y":null}]}},"State":{"Running":true,"Pid":42}}`;

describe('output matches the docker CLI', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  let dir: string;
  let sock: string;
  let server: http.Server;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compat-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const p = url.pathname.replace(/^\/v[\d.]+/, '');
      res.setHeader('Api-Version', '1.51');
      const json = (status: number, body: string) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(body);
      };
      if (p === '/_ping') return json(200, 'OK');
      if (p === '/containers/json') return json(200, JSON.stringify(CONTAINERS));
      if (p === '/images/json') return json(200, JSON.stringify(IMAGES));
      if (p === '/containers/web/json') return json(200, INSPECT_RAW);
      if (p === '/info') return json(200, '{}');
      const m = /^\/containers\/([^/]+)\/stop$/.exec(p);
      if (m) return json(404, JSON.stringify({ message: `No such container: ${m[1]}` }));
      return json(404, JSON.stringify({ message: `page not found: ${p}` }));
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const docker = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker-config'), DOCKER_HOST: `unix://${sock}` };
      execFile('docker', args, { env }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as any).code ?? 1) : 0, out: stdout, err: stderr });
      });
    });

  const berth = async (args: string[]) => {
    const out = collector();
    const err = collector();
    const code = await runCli(args, { out, err, in: new PassThrough(), env: { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'docker-config') } });
    return { code, out: out.text(), err: err.text() };
  };

  const same = (args: string[]) =>
    it(args.join(' '), async () => {
      const [b, d] = await Promise.all([berth(args), docker(args)]);
      assert.equal(b.out, d.out);
      assert.equal(b.err, d.err.replace(/docker/g, 'berth'));
      assert.equal(b.code, d.code);
    });

  same(['ps']);
  same(['ps', '-a']);
  same(['ps', '--no-trunc']);
  same(['ps', '-q']);
  same(['ps', '-q', '--no-trunc']);
  same(['ps', '-s']);
  same(['images']);
  same(['images', '-a']);
  same(['images', '-q']);
  same(['images', '--no-trunc']);
  same(['images', '--digests']);
  same(['image', 'ls', '-q', '--no-trunc']);
  same(['inspect', 'web']);
  same(['container', 'inspect', '--format', '{{json .Config.Env}} {{.State.Pid}}', 'web']);
  // A key the object lacks: docker's missingkey=error fallback.
  same(['inspect', '-f', '{{.Missing}}', 'web']);
  same(['inspect', '-f', '{{.State.Nope}}', 'web']);
  same(['container', 'inspect', '-f', '{{.Name}} {{.Missing}}', 'web']);
  same(['stop', 'nope1', 'nope2']);
  same(['ps', '--nope']);
  same(['ps', '-n', 'x']);
  same(['stop']);
  same(['run']);
  same(['tag', 'a']);
  same(['logs', 'a', 'b']);
  same(['ps', 'extra']);
  same(['frobnicate']);
  same(['image', 'frobnicate']);
  same(['rm', 'nope']);
  same(['kill', 'nope']);
  same(['rmi', 'nope']);
  same(['inspect', 'nope']);
});
