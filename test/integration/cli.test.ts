// The berth CLI (bin/berth) against a real berthd, checked against what the
// docker CLI prints for the same daemon.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { berth, BERTH, docker, run, sleep, startDaemon, type TestDaemon } from './harness';

// A table line's cells (cells are 3 spaces apart, and hold single spaces).
const columns = (line: string) => line.split(/\s{2,}/);

describe('berth CLI against berthd', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  it('imports busybox with `berth base busybox`', async () => {
    const r = await berth(d, 'base', 'busybox');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    const q = await berth(d, 'images', '-q', '--no-trunc');
    assert.equal(q.stdout, `${id}\n`);
  });

  it('lists images like docker', async () => {
    const b = await berth(d, 'images');
    const k = await docker(d, 'images');
    assert.equal(b.code, 0, b.stderr);
    const lines = b.stdout.trimEnd().split('\n');
    // CREATED is as wide as the relative time, which may tick between the
    // two calls ("Less than a second ago", then "1 second ago").
    assert.deepEqual(columns(lines[0]), columns(k.stdout.split('\n')[0]));
    assert.match(lines[0], /^REPOSITORY   TAG       IMAGE ID       CREATED\s+SIZE$/);
    assert.match(lines[1], /^busybox\s+latest\s+[0-9a-f]{12}\s+.+ ago\s+\d+(\.\d+)?[kM]B$/);
    assert.equal((await berth(d, 'images', '-q')).stdout, (await docker(d, 'images', '-q')).stdout);
    assert.equal((await berth(d, 'image', 'ls', '-q', '--no-trunc')).stdout, (await docker(d, 'images', '-q', '--no-trunc')).stdout);
  });

  it('runs a command and prints its output', async () => {
    const r = await berth(d, 'run', '--rm', 'busybox', 'echo', 'hello');
    assert.deepEqual(r, { code: 0, stdout: 'hello\n', stderr: '' });
  });

  it("exits with the container's status, or docker's codes when it cannot run", async () => {
    assert.equal((await berth(d, 'run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
    const noImage = await berth(d, 'run', '--rm', '--pull', 'never', 'nosuchimage:v9', 'true');
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /^berth: Error response from daemon: /);
    const noCmd = await berth(d, 'run', '--rm', 'busybox', '/no/such/cmd');
    const dockerNoCmd = await docker(d, 'run', '--rm', 'busybox', '/no/such/cmd');
    assert.equal(noCmd.code, dockerNoCmd.code);
    assert.notEqual(noCmd.code, 0);
  });

  it('keeps stdout and stderr apart, byte for byte', async () => {
    const r = await berth(d, 'run', '--rm', 'busybox', 'sh', '-c', 'printf "a\\nb"; printf "E1\\n" >&2; printf "no newline"');
    assert.deepEqual(r, { code: 0, stdout: 'a\nbno newline', stderr: 'E1\n' });
  });

  it('pipes stdin with -i and closes it at EOF', async () => {
    const r = await run(BERTH, ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], d.env, 'line 1\nline 2');
    assert.deepEqual(r, { code: 0, stdout: 'line 1\nline 2done\n', stderr: '' });
  });

  it('passes run flags through', async () => {
    const r = await berth(d, 'run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1:1', '-h', 'boxy', 'busybox', 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g) $(hostname)');
    assert.deepEqual(r, { code: 0, stdout: 'bar /tmp 1:1 boxy\n', stderr: '' });
    const ep = await berth(d, 'run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint');
    assert.equal(ep.stdout, 'from entrypoint\n');
  });

  it('runs detached; ps, logs, stop and rm work on it', async () => {
    const r = await berth(d, 'run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo started; exec sleep 300');
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await berth(d, 'ps');
    const lines = ps.stdout.trimEnd().split('\n');
    assert.deepEqual(columns(lines[0]), columns((await docker(d, 'ps')).stdout.split('\n')[0]));
    assert.ok(lines[0].startsWith('CONTAINER ID   IMAGE     COMMAND   '), lines[0]);
    assert.ok(lines[1].startsWith(`${id.slice(0, 12)}   busybox   "sh -c 'echo started…"   `), lines[1]);
    assert.match(lines[1], /\s+Up .+\s+bg$/);
    assert.equal((await berth(d, 'ps', '-q')).stdout, `${id.slice(0, 12)}\n`);
    assert.equal((await berth(d, 'ps', '-q', '--no-trunc')).stdout, (await docker(d, 'ps', '-q', '--no-trunc')).stdout);

    let logs = '';
    for (let i = 0; i < 50 && !logs; i++) {
      logs = (await berth(d, 'logs', 'bg')).stdout;
      if (!logs) await sleep(100);
    }
    assert.equal(logs, 'started\n');

    const inspect = await berth(d, 'inspect', 'bg');
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout)[0].Id, id);
    assert.equal(inspect.stdout, (await docker(d, 'inspect', 'bg')).stdout);

    const stop = await berth(d, 'stop', '-t', '1', 'bg');
    assert.deepEqual(stop, { code: 0, stdout: 'bg\n', stderr: '' });
    const exited = await berth(d, 'ps', '-a', '--filter', 'name=bg');
    assert.match(exited.stdout.split('\n')[1], /Exited \(\d+\) .+ ago\s+bg$/);
    assert.equal((await berth(d, 'wait', 'bg')).stdout, `${(await docker(d, 'inspect', '-f', '{{.State.ExitCode}}', 'bg')).stdout.trim()}\n`);
    assert.deepEqual(await berth(d, 'rm', 'bg'), { code: 0, stdout: 'bg\n', stderr: '' });
    assert.equal((await berth(d, 'ps', '-a', '-q', '--filter', 'name=bg')).stdout, '');
  });

  it('ps header and -a listing match docker', async () => {
    await berth(d, 'create', '--name', 'made', 'busybox', 'true');
    const b = await berth(d, 'ps', '-a');
    const k = await docker(d, 'ps', '-a');
    // Column widths follow the CREATED text ("Less than a second ago" vs
    // "1 second ago"), which can change between the two calls; compare the
    // columns themselves, and every field but CREATED.
    const fields = (out: string) => out.trimEnd().split('\n').map(columns);
    const [bh, ...brows] = fields(b.stdout);
    const [kh, ...krows] = fields(k.stdout);
    assert.deepEqual(bh, kh);
    assert.deepEqual(brows.map((r) => r.filter((_, i) => i !== 3)), krows.map((r) => r.filter((_, i) => i !== 3)));
    assert.equal((await berth(d, 'ps', '-a', '-q')).stdout, (await docker(d, 'ps', '-a', '-q')).stdout);
    await berth(d, 'rm', 'made');
  });

  it('reports daemon errors like docker', async () => {
    const b = await berth(d, 'stop', 'nosuchcontainer');
    const k = await docker(d, 'stop', 'nosuchcontainer');
    assert.equal(b.code, 1);
    assert.equal(b.stdout, '');
    assert.equal(b.stderr, k.stderr);
    const rmi = await berth(d, 'rmi', 'nosuchimage');
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, /^Error response from daemon: /);
  });

  it('tags and removes images', async () => {
    assert.equal((await berth(d, 'tag', 'busybox', 'mybox:v1')).code, 0);
    assert.match((await berth(d, 'images')).stdout, /\nmybox\s+v1\s+/);
    const r = await berth(d, 'rmi', 'mybox:v1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Untagged: mybox:v1\n/);
  });

  it('says when the daemon is not there', async () => {
    const r = await run(BERTH, ['ps'], { ...d.env, BERTH_HOST: 'unix:///nonexistent/berth.sock' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to the berth daemon at unix:\/\/\/nonexistent\/berth\.sock/);
  });
});
