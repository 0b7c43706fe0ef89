// `berth update` sends the docker CLI's body: both update a container
// through the same recording server, and the bodies must be equal, field
// for field. Skipped when `docker` is not on PATH.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth } from './berth';

const haveDocker = spawnSync('docker', ['--version']).status === 0;

describe('update sends what the docker CLI sends', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  let bodies: { url: string; body: unknown }[] = [];
  let warnings: string[] = [];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-update-compat-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        res.setHeader('Api-Version', '1.51');
        res.setHeader('Content-Type', 'application/json');
        if (url.pathname === '/_ping') return res.end('OK');
        if (url.pathname.endsWith('/update')) {
          bodies.push({ url: url.pathname.replace(/^\/v[\d.]+/, ''), body: JSON.parse(body) });
          if (url.pathname.includes('/missing/')) {
            res.writeHead(404);
            return res.end(JSON.stringify({ message: 'No such container: missing' }));
          }
          return res.end(JSON.stringify({ Warnings: warnings }));
        }
        res.writeHead(404);
        res.end(JSON.stringify({ message: `not here: ${url.pathname}` }));
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    env = { PATH: process.env.PATH, DOCKER_CONFIG: path.join(dir, 'config') };
  });

  after(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const docker = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile('docker', args, { env: { ...env, DOCKER_HOST: `unix://${sock}` } }, (err, out, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out, err: stderr }));
    });

  const cases: [string, string[]][] = [
    ['memory and cpus', ['-m', '100m', '--memory-swap', '200m', '--cpus', '0.5']],
    ['every applied flag', ['--blkio-weight', '300', '--cpu-period', '50000', '--cpu-quota', '25000', '-c', '512', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--memory-reservation', '32m', '--pids-limit', '30']],
    ['unlimited pids and swap', ['--pids-limit', '-1', '--memory-swap', '-1']],
    ['a restart policy', ['--restart', 'on-failure:2']],
    ['a restart policy with limits', ['--restart', 'unless-stopped', '-m', '64m']],
    ['an empty restart policy', ['--restart=', '--cpus', '1']],
  ];

  for (const [what, flags] of cases) {
    it(what, async () => {
      bodies = [];
      const theirs = await docker(['update', ...flags, 'web', 'db']);
      assert.equal(theirs.code, 0, theirs.err);
      const ours = await berth(`unix://${sock}`, ['update', ...flags, 'web', 'db'], { env });
      assert.equal(ours.code, 0, ours.err);
      assert.equal(ours.out, theirs.out);
      assert.equal(bodies.length, 4);
      assert.deepEqual(bodies.slice(2), bodies.slice(0, 2));
    });
  }

  it('prints the warnings and the errors as docker does', async () => {
    warnings = ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.'];
    const theirs = await docker(['update', '--blkio-weight', '300', 'web', 'missing']);
    const ours = await berth(`unix://${sock}`, ['update', '--blkio-weight', '300', 'web', 'missing'], { env });
    warnings = [];
    assert.deepEqual({ code: ours.code, out: ours.out }, { code: theirs.code, out: theirs.out });
    assert.match(ours.err, /Error response from daemon: No such container: missing/);
  });

  for (const bad of ['on-failure:x', ':1']) {
    it(`refuses --restart ${bad} as docker does, before any request`, async () => {
      bodies = [];
      const theirs = await docker(['update', '--restart', bad, 'web']);
      const ours = await berth(`unix://${sock}`, ['update', '--restart', bad, 'web'], { env });
      assert.deepEqual(bodies, []);
      assert.deepEqual({ code: ours.code, out: ours.out, err: ours.err }, { code: theirs.code, out: theirs.out, err: theirs.err });
    });
  }

  it('needs a flag, as docker does', async () => {
    const theirs = await docker(['update', 'web']);
    const ours = await berth(`unix://${sock}`, ['update', 'web'], { env });
    assert.equal(ours.code, theirs.code);
    assert.match(theirs.err, /you must provide one or more flags when using this command/);
    assert.match(ours.err, /you must provide one or more flags when using this command/);
  });
});
