// Log drivers end to end: docker's json-file (names, format, rotation on by
// default), local, none, the daemon's defaults, and `docker logs` across
// rotated and compressed files, through a flood and a daemon restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { berth, docker, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

const PATTERN = 'abcdefghijklmnopqrstuvwxyz-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
// Numbered lines as fast as busybox awk writes them.
const numbered = (extra = '') => `awk 'BEGIN{for(i=0;;i++){printf "%09d ${PATTERN}\\n", i${extra}}}'`;

function dirOf(d: TestDaemon, id: string): string {
  return path.join(d.dataRoot, 'containers', id);
}

// The log files of a container, with their sizes on disk and unpacked.
// While the writer rotates, a name listed may be gone when it is read.
function logFiles(dir: string, base: string): { name: string; size: number; unpacked: number }[] {
  const out: { name: string; size: number; unpacked: number }[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n === base || n.startsWith(base + '.'))) {
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(dir, name));
    } catch (err: any) {
      if (err.code === 'ENOENT') continue;
      throw err;
    }
    out.push({ name, size: data.length, unpacked: name.endsWith('.gz') ? zlib.gunzipSync(data).length : data.length });
  }
  return out;
}

// Every line is whole and in the pattern, and the numbers follow on from
// each other: nothing torn, lost in the middle or repeated.
function checkNumbered(out: string, what: string): number[] {
  assert.ok(out.endsWith('\n'), `${what}: the output ends mid-line`);
  const lines = out.slice(0, -1).split('\n');
  const nums: number[] = [];
  for (const l of lines) {
    const m = /^(\d{9}) (.*)$/.exec(l);
    assert.ok(m && m[2] === PATTERN, `${what}: a torn or foreign line: ${JSON.stringify(l.slice(0, 200))}`);
    nums.push(Number(m![1]));
  }
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `${what}: line ${nums[i - 1]} is followed by ${nums[i]}`);
  return nums;
}

describe('log drivers', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('json-file by default, as docker names and writes it, capped at 10m x 3 unless told', async () => {
    const r = await docker(d, 'run', '--name', 'plain', '-l', 'team=a', '--log-opt', 'labels=team', '--log-opt', 'env=WHO', '-e', 'WHO=me', 'busybox', 'sh', '-c', 'echo out; echo err >&2; printf "no newline"');
    assert.equal(r.code, 0, r.stderr);
    const id = (await docker(d, 'inspect', '-f', '{{.Id}}', 'plain')).stdout.trim();
    const i = JSON.parse((await docker(d, 'inspect', 'plain')).stdout)[0];
    assert.equal(i.LogPath, path.join(dirOf(d, id), `${id}-json.log`));
    assert.deepEqual(i.HostConfig.LogConfig, { Type: 'json-file', Config: { labels: 'team', env: 'WHO', 'max-size': '10m', 'max-file': '3' } });
    const lines = fs.readFileSync(i.LogPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.log, l.stream, l.attrs]), [['out\n', 'stdout', { team: 'a', WHO: 'me' }], ['err\n', 'stderr', { team: 'a', WHO: 'me' }], ['no newline', 'stdout', { team: 'a', WHO: 'me' }]]);
    assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const l = await docker(d, 'logs', 'plain');
    assert.deepEqual([l.stdout, l.stderr], ['out\nno newline', 'err\n']);
    const t = await docker(d, 'logs', '-t', '--details', 'plain');
    assert.match(t.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z WHO=me,team=a out\n\S+ WHO=me,team=a no newline$/);
    assert.match((await docker(d, 'logs', '--tail', '1', 'plain')).stdout, /^no newline$/);
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    assert.deepEqual((await docker(d, 'logs', '--since', future, 'plain')).stdout, '');
    assert.deepEqual((await docker(d, 'logs', '--until', '1', 'plain')).stdout, '');
    assert.equal((await docker(d, 'info', '-f', '{{.LoggingDriver}}')).stdout.trim(), 'json-file');
    // berth's own CLI reads it the same way.
    const b = await berth(d, 'logs', '--details', 'plain');
    assert.equal(b.stdout, 'WHO=me,team=a out\nWHO=me,team=a no newline');
  });

  it('refuses unknown drivers and options by name, with docker\'s words', async () => {
    for (const [args, msg] of [
      [['--log-driver', 'bogus'], /logger: no log driver named 'bogus' is registered/],
      [['--log-driver', 'journald'], /berth does not implement the journald log driver yet/],
      [['--log-opt', 'max-bytes=1'], /unknown log opt 'max-bytes' for json-file log driver/],
      [['--log-driver', 'local', '--log-opt', 'foo=1'], /unknown log opt 'foo' for log driver local/],
      [['--log-opt', 'max-size=0'], /max-size must be a positive number/],
      [['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
      [['--log-opt', 'tag={{.Name}}'], /log opt 'tag' is not supported by berth/],
      [['--log-opt', 'max-size=1k', '--log-opt', 'max-file=1', '--log-opt', 'compress=true'], /compress cannot be true when max-file is less than 2/],
    ] as [string[], RegExp][]) {
      const r = await docker(d, 'create', ...args, 'busybox', 'true');
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, msg, args.join(' '));
    }
  });

  it('none: nothing is kept, and docker logs says so as dockerd does', async () => {
    const r = await docker(d, 'run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'attached still');
    assert.equal(r.stdout, 'attached still\n');
    const l = await docker(d, 'logs', 'quiet');
    assert.equal(l.code, 1);
    assert.match(l.stderr, /Error response from daemon: configured logging driver does not support reading/);
    const i = JSON.parse((await docker(d, 'inspect', 'quiet')).stdout)[0];
    assert.equal(i.LogPath, '');
    assert.deepEqual(i.HostConfig.LogConfig, { Type: 'none', Config: {} });
    assert.deepEqual(fs.readdirSync(dirOf(d, i.Id)).filter((n) => n.includes('log')), []);
  });

  it('local: docker\'s format under local-logs/, not shown as LogPath; read, rotated and compressed', async () => {
    const r = await docker(d, 'run', '--name', 'loc', '--log-driver', 'local', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo "local line $i"; i=$((i+1)); done; echo bye >&2');
    assert.equal(r.code, 0, r.stderr);
    const i = JSON.parse((await docker(d, 'inspect', 'loc')).stdout)[0];
    assert.equal(i.LogPath, '');
    assert.deepEqual(i.HostConfig.LogConfig, { Type: 'local', Config: { 'max-size': '2k', 'max-file': '3' } });
    const files = logFiles(path.join(dirOf(d, i.Id), 'local-logs'), 'container.log');
    assert.deepEqual(files.map((f) => f.name).sort(), ['container.log', 'container.log.1', 'container.log.2.gz']);
    for (const f of files) assert.ok(f.unpacked <= 2000, `${f.name}: ${f.unpacked} bytes`);
    const l = await docker(d, 'logs', 'loc');
    const lines = l.stdout.trim().split('\n');
    const first = Number(/^local line (\d+)$/.exec(lines[0])![1]);
    assert.deepEqual(lines, Array.from({ length: 300 - first }, (_, k) => `local line ${first + k}`));
    assert.equal(l.stderr, 'bye\n');
  });

  it('a flood leaves at most max-size x max-file on disk, and no reader ever sees a torn line', async () => {
    const id = (await docker(d, 'run', '-d', '--name', 'flood', '--log-opt', 'max-size=100k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true', 'busybox', 'sh', '-c', numbered())).stdout.trim();
    // Readers while it writes and rotates.
    for (let k = 0; k < 8; k++) {
      await sleep(1000);
      const l = await docker(d, 'logs', 'flood');
      checkNumbered(l.stdout, `read ${k} during the flood`);
      const files = logFiles(dirOf(d, id), `${id}-json.log`);
      const onDisk = files.reduce((a, f) => a + f.size, 0);
      assert.ok(onDisk <= 3 * 100_000, `${onDisk} bytes of logs on disk during the flood`);
    }
    await docker(d, 'stop', '-t', '1', 'flood');
    const files = logFiles(dirOf(d, id), `${id}-json.log`);
    assert.deepEqual(files.map((f) => f.name).sort(), [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2.gz`]);
    for (const f of files) assert.ok(f.unpacked <= 100_000, `${f.name} holds ${f.unpacked} bytes`);
    const all = checkNumbered((await docker(d, 'logs', 'flood')).stdout, 'after the flood');
    // It did rotate: the first line kept is far from the first written.
    assert.ok(all[0] > 0, 'nothing was rotated away');
    const tail = checkNumbered((await docker(d, 'logs', '--tail', '5', 'flood')).stdout, 'tail');
    assert.deepEqual(tail, all.slice(-5));
  });

  it('logs -f follows through rotations without losing or repeating a line', async () => {
    // 20 files of 20k hold all it writes, so however late the follower
    // reads, nothing it has not read is ever dropped.
    const script = 'i=0; while [ $i -lt 2500 ]; do printf "%09d ' + PATTERN + '\\n" $i; i=$((i+1)); if [ $((i % 100)) = 0 ]; then usleep 20000; fi; done';
    const id = (await docker(d, 'create', '--name', 'rot', '--log-opt', 'max-size=20k', '--log-opt', 'max-file=20', 'busybox', 'sh', '-c', script)).stdout.trim();
    assert.equal((await docker(d, 'start', 'rot')).code, 0);
    const follow = spawn('docker', ['logs', '-f', 'rot'], { env: d.env });
    const exited = new Promise<number | null>((resolve) => follow.on('exit', resolve));
    let out = '';
    follow.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await exited;
    assert.equal(code, 0);
    const nums = checkNumbered(out, 'the follower');
    assert.deepEqual([nums[0], nums.length], [0, 2500]);
    const rotated = logFiles(dirOf(d, id), `${id}-json.log`).length;
    assert.ok(rotated > 5, `only ${rotated} files: it hardly rotated`);
  });

  it('dockerode: LogConfig in the create body, logs with tail and timestamps', async () => {
    const dk = new Docker({ socketPath: d.socket });
    const c = await dk.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo one; echo two; echo three'], HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '2' } } } });
    await c.start();
    await c.wait();
    const info = await c.inspect();
    assert.deepEqual(info.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '2' } });
    const buf = (await c.logs({ stdout: true, stderr: true, tail: 2, timestamps: true })) as unknown as Buffer;
    // stdcopy frames: 8-byte headers.
    const lines: string[] = [];
    for (let off = 0; off < buf.length; off += 8 + buf.readUInt32BE(off + 4)) lines.push(buf.subarray(off + 8, off + 8 + buf.readUInt32BE(off + 4)).toString());
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^\S+Z two\n$/);
    assert.match(lines[1], /^\S+Z three\n$/);
    await assert.rejects(dk.createContainer({ Image: 'busybox', HostConfig: { LogConfig: { Type: 'json-file', Config: { nope: '1' } } } }), /unknown log opt 'nope' for json-file log driver/);
    await c.remove();
  });

  it('the log goes on, rotated and capped, while berthd is down; logs -f works after the restart', async () => {
    // 50 lines a second: the 12k the files keep is seconds of output, so a
    // follower slowed by a loaded machine does not fall a whole file behind.
    const id = (await docker(d, 'run', '-d', '--name', 'survivor', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', `${numbered()} | while read l; do echo "$l"; usleep 20000; done`)).stdout.trim();
    await sleep(500);
    const before = checkNumbered((await docker(d, 'logs', 'survivor')).stdout, 'before the kill');
    await d.kill9();
    await sleep(3000);
    // Without the daemon: still written, still rotated, still capped.
    const files = logFiles(dirOf(d, id), `${id}-json.log`);
    assert.ok(files.reduce((a, f) => a + f.size, 0) <= 3 * 4000);
    await d.restart();
    const after = checkNumbered((await docker(d, 'logs', 'survivor')).stdout, 'after the restart');
    assert.ok(after[after.length - 1] > before[before.length - 1] + 50, `${after[after.length - 1]} is not well past ${before[before.length - 1]}`);
    const follow = spawn('docker', ['logs', '-f', '--tail', '3', 'survivor'], { env: d.env });
    const exited = new Promise<number | null>((resolve) => follow.on('exit', resolve));
    let out = '';
    follow.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await sleep(1500);
    await docker(d, 'stop', '-t', '1', 'survivor');
    assert.equal(await exited, 0);
    const followed = checkNumbered(out, 'logs -f after the restart');
    assert.ok(followed.length > 3, 'the follower saw nothing new');
  });
});

describe('the daemon\'s log-driver and log-opts', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(['--log-driver', 'local', '--log-opt', 'max-size=3k']);
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('apply to containers of that driver, and show in their LogConfig and docker info', async () => {
    assert.equal((await docker(d, 'info', '-f', '{{.LoggingDriver}}')).stdout.trim(), 'local');
    await docker(d, 'create', '--name', 'dflt', 'busybox', 'true');
    assert.equal((await docker(d, 'inspect', '-f', '{{json .HostConfig.LogConfig}}', 'dflt')).stdout.trim(), '{"Type":"local","Config":{"max-size":"3k"}}');
    await docker(d, 'create', '--name', 'jf', '--log-driver', 'json-file', 'busybox', 'true');
    assert.equal((await docker(d, 'inspect', '-f', '{{json .HostConfig.LogConfig}}', 'jf')).stdout.trim(), '{"Type":"json-file","Config":{}}');
  });
});
