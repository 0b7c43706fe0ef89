// The berth CLI end to end (in-process) against the in-memory fake daemon.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/cli';
import { FakeDaemon } from './fake-daemon';
import { collector, type Result } from './berth';

describe('berth CLI against a fake daemon', () => {
  let d: FakeDaemon;
  let tmp: string;

  const berth = async (args: string[], opts: { stdin?: Readable } = {}): Promise<Result> => {
    const out = collector();
    const err = collector();
    const stdin = opts.stdin ?? new PassThrough();
    const code = await runCli(args, { out, err, in: stdin, env: { BERTH_HOST: d.host, DOCKER_CONFIG: path.join(tmp, 'docker-config') } });
    return { code, out: out.text(), err: err.text() };
  };
  const paths = () => d.requests.map((r) => `${r.method} ${r.url.replace(/\/[0-9a-f]{64}\//, '/ID/').replace(/\?.*/, '')}`);

  before(async () => {
    d = new FakeDaemon();
    await d.listen();
    d.addImage(['busybox:latest'], { size: 4260000, created: Math.floor(Date.now() / 1000) - 3 * 3600 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  });

  after(async () => {
    await d.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs a container in docker call order and prints its output', async () => {
    d.requests.length = 0;
    const r = await berth(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.deepEqual(r, { code: 0, out: 'hello\n', err: '' });
    assert.deepEqual(paths(), [
      'POST /v1.51/containers/create',
      'POST /v1.51/containers/ID/attach',
      'POST /v1.51/containers/ID/wait',
      'POST /v1.51/containers/ID/start',
    ]);
    assert.match(d.requests[1].url, /attach\?stream=1&stdout=1&stderr=1$/);
    assert.match(d.requests[2].url, /wait\?condition=removed$/);
    const body = JSON.parse(d.requests[0].body);
    assert.deepEqual(body.Cmd, ['echo', 'hello']);
    assert.equal(body.HostConfig.AutoRemove, true);
    assert.equal(body.AttachStdout, true);
    assert.equal(body.Tty, false);
  });

  it('waits for next-exit without --rm', async () => {
    d.requests.length = 0;
    await berth(['run', 'busybox', 'echo', 'x']);
    assert.match(d.requests[2].url, /wait\?condition=next-exit$/);
  });

  it("exits with the container's status and keeps stderr apart", async () => {
    assert.equal((await berth(['run', 'busybox', 'exit', '3'])).code, 3);
    assert.deepEqual(await berth(['run', 'busybox', 'err', 'oops']), { code: 0, out: '', err: 'oops\n' });
  });

  it('pipes stdin with -i and half-closes it at EOF', async () => {
    d.requests.length = 0;
    const r = await berth(['run', '-i', 'busybox', 'cat'], { stdin: Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]) });
    assert.deepEqual(r, { code: 0, out: 'line 1\nline 2\n', err: '' });
    assert.match(d.requests[1].url, /attach\?stream=1&stdin=1&stdout=1&stderr=1$/);
    const body = JSON.parse(d.requests[0].body);
    assert.equal(body.OpenStdin, true);
    assert.equal(body.AttachStdin, true);
    assert.equal(body.StdinOnce, true);
  });

  it('fails like docker run: 125 before start, 127 for a missing command', async () => {
    const noImage = await berth(['run', '--pull', 'never', 'nosuchimage']);
    assert.equal(noImage.code, 125);
    assert.equal(noImage.err, "berth: Error response from daemon: No such image: nosuchimage\n\nRun 'berth run --help' for more information\n");
    const noCmd = await berth(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(noCmd.code, 127);
    assert.match(noCmd.err, /^berth: Error response from daemon: .*executable file not found/);
    // -it needs a terminal to read; the check comes before any request.
    const before = d.requests.length;
    assert.deepEqual(await berth(['run', '-it', 'busybox']), { code: 1, out: '', err: 'the input device is not a TTY\n' });
    assert.equal(d.requests.length, before);
  });

  it('runs detached, lists, logs, stops and removes', async () => {
    const run = await berth(['run', '-d', '--name', 'web', 'busybox', 'sleep']);
    assert.equal(run.code, 0);
    const id = run.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await berth(['ps']);
    const lines = ps.out.trimEnd().split('\n');
    // CREATED and STATUS are as wide as their relative times ("Less than a
    // second ago" or "1 second ago" on a slow run).
    assert.match(lines[0], /^CONTAINER ID   IMAGE     COMMAND   CREATED {3,}STATUS {3,}PORTS     NAMES$/);
    assert.ok(lines[1].startsWith(`${id.slice(0, 12)}   busybox   "sleep"   `));
    assert.ok(lines[1].endsWith('   web'));
    assert.equal((await berth(['ps', '-q'])).out, `${id.slice(0, 12)}\n`);
    assert.equal((await berth(['ps', '-q', '--no-trunc'])).out, `${id}\n`);
    assert.equal((await berth(['container', 'ls', '-q'])).out, `${id.slice(0, 12)}\n`);

    const stop = await berth(['stop', '-t', '1', 'web', 'nope']);
    assert.equal(stop.code, 1);
    assert.equal(stop.out, 'web\n');
    assert.equal(stop.err, 'Error response from daemon: No such container: nope\n');
    const filtered = await berth(['ps', '-a', '-q', '-f', 'name=web', '-f', 'status=exited']);
    assert.equal(filtered.out, `${id.slice(0, 12)}\n`);
    assert.deepEqual(await berth(['rm', 'web']), { code: 0, out: 'web\n', err: '' });
    assert.equal((await berth(['ps', '-a', '-q', '-f', 'name=web'])).out, '');
  });

  it('prints logs demultiplexed, with --tail', async () => {
    await berth(['run', '--name', 'talker', 'busybox', 'echo', 'said', 'this']);
    assert.deepEqual(await berth(['logs', 'talker']), { code: 0, out: 'said this\n', err: '' });
    const r = await berth(['logs', '--tail', '1', '-t', 'talker']);
    assert.equal(r.out, '2026-01-01T00:00:00.000000000Z said this\n');
    const req = d.requests.filter((x) => x.url.includes('/logs')).at(-1)!;
    assert.match(req.url, /stdout=1&stderr=1&timestamps=1&tail=1/);
  });

  it('creates and starts with -a', async () => {
    const c = await berth(['create', '--name', 'later', '-e', 'A=1', 'busybox', 'env']);
    assert.equal(c.code, 0);
    assert.deepEqual(await berth(['start', '-a', 'later']), { code: 0, out: 'A=1\n', err: '' });
    assert.deepEqual(await berth(['wait', 'later']), { code: 0, out: '0\n', err: '' });
    assert.deepEqual(await berth(['rm', 'later']), { code: 0, out: 'later\n', err: '' });
  });

  it('imports a tar, tags, lists and removes images', async () => {
    const file = path.join(tmp, 'rootfs.tar');
    fs.writeFileSync(file, Buffer.alloc(2048, 1));
    const imp = await berth(['import', file, 'myimg:v1']);
    assert.equal(imp.code, 0);
    assert.match(imp.out, /^sha256:[0-9a-f]{64}\n$/);
    const req = d.requests.filter((x) => x.url.includes('/images/create')).at(-1)!;
    assert.match(req.url, /\/images\/create\?fromSrc=-&repo=myimg&tag=v1$/);
    assert.equal(req.body.length, 2048);

    assert.equal((await berth(['tag', 'myimg:v1', 'other/name'])).code, 0);
    const images = await berth(['images']);
    assert.match(images.out, /^REPOSITORY   TAG       IMAGE ID       CREATED {3,}SIZE\n/);
    assert.match(images.out, /\nmyimg        v1        [0-9a-f]{12}   Less than a second ago   2.05kB\n/);
    assert.match(images.out, /\nother\/name   latest    /);
    const id = imp.out.trim();
    assert.equal((await berth(['images', '-q', '--no-trunc'])).out.split('\n').filter((l) => l === id).length, 2);

    const rmi = await berth(['rmi', 'other/name']);
    assert.deepEqual(rmi, { code: 0, out: 'Untagged: other/name:latest\n', err: '' });
    const missing = await berth(['image', 'rm', 'nope']);
    assert.deepEqual(missing, { code: 1, out: '', err: 'Error response from daemon: No such image: nope\n' });
  });

  it('imports from stdin', async () => {
    const r = await berth(['import', '-', 'fromstdin'], { stdin: Readable.from([Buffer.alloc(1024, 2)]) });
    assert.equal(r.code, 0);
    assert.match(r.out, /^sha256:/);
  });

  it('inspects as a JSON array and with --format', async () => {
    const r = await berth(['inspect', 'busybox']);
    assert.equal(r.code, 0);
    assert.ok(r.out.startsWith('[\n    {\n        "Id": "sha256:'));
    assert.equal(JSON.parse(r.out)[0].RepoTags[0], 'busybox:latest');
    const f = await berth(['image', 'inspect', '-f', '{{json .RepoTags}}', 'busybox']);
    assert.equal(f.out, '["busybox:latest"]\n');
    assert.deepEqual(await berth(['inspect', 'nope']), { code: 1, out: '[]\n', err: 'Error: No such object: nope\n' });
  });

  it('reports usage errors with docker exit codes', async () => {
    const flag = await berth(['ps', '--nope']);
    assert.equal(flag.code, 125);
    assert.equal(flag.err, "unknown flag: --nope\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n");
    const args = await berth(['stop']);
    assert.equal(args.code, 1);
    assert.match(args.err, /^berth: 'berth stop' requires at least 1 argument\n/);
    const cmd = await berth(['frobnicate']);
    assert.equal(cmd.code, 1);
    assert.match(cmd.err, /unknown command: berth frobnicate/);
    assert.equal((await berth(['run', '--help'])).code, 0);
  });

  it('says when the daemon is not there', async () => {
    const out = collector();
    const err = collector();
    const code = await runCli(['ps'], { out, err, in: new PassThrough(), env: { BERTH_HOST: `unix://${tmp}/none.sock`, DOCKER_CONFIG: path.join(tmp, 'docker-config') } });
    assert.equal(code, 1);
    assert.match(err.text(), /^Cannot connect to the berth daemon at unix:\/\/.*none\.sock\. Is the berth daemon running\?\n$/);
  });

  it('-H overrides the environment', async () => {
    const out = collector();
    const code = await runCli(['-H', d.host, 'ps', '-q'], { out, err: collector(), in: new PassThrough(), env: { BERTH_HOST: 'unix:///nonexistent', DOCKER_CONFIG: path.join(tmp, 'docker-config') } });
    assert.equal(code, 0);
  });
});
