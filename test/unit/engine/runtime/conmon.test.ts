import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { SHUT_WR } from '../../../../src/host';
import { ATTACH_STDERR, ATTACH_STDOUT, AttachConn, cleanRuntimeError, ConmonRuntime, resizeTerminal } from '../../../../src/engine/runtime/conmon';
import { generateSpec } from '../../../../src/engine/runtime/spec';
import { FakeHost, type FakeChild, type FakePacketPeer } from '../../host/fake-host';

const ID = 'ab'.repeat(32);
const dirs: string[] = [];
let execRoot: string;
let host: FakeHost;
let rt: ConmonRuntime;

beforeEach(() => {
  execRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-conmon-'));
  dirs.push(execRoot);
  host = new FakeHost();
  rt = new ConmonRuntime(host, { execRoot, runtimes: { runc: '/fake/runc', crun: '/fake/crun' }, conmonPath: '/fake/conmon' });
});
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind);
  if (re) assert.match(err.message, re);
  return true;
};

const spec = () =>
  generateSpec({
    rootfs: '/rootfs', args: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'h', network: 'none',
    files: { hosts: '/h', hostname: '/hn', resolvConf: '/r' }, cgroupsPath: 'x',
  });

const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

// ---- cleanRuntimeError ----

test('cleanRuntimeError keeps the msg of logrus lines', () => {
  const s = 'time="2024-01-01T00:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH"\n';
  assert.equal(cleanRuntimeError(s), 'runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH');
});

test('cleanRuntimeError joins several lines and keeps plain ones', () => {
  const s = '  first problem  \n\ntime="x" level=warning msg="second"\nplain text\n';
  assert.equal(cleanRuntimeError(s), 'first problem: second: plain text');
});

test('cleanRuntimeError of nothing', () => {
  assert.equal(cleanRuntimeError(''), 'unknown runtime error');
  assert.equal(cleanRuntimeError(' \n \n'), 'unknown runtime error');
});

// ---- ConmonRuntime with a FakeHost ----

test('paths: bundle, state root and the short attach socket path', () => {
  assert.equal(rt.bundleDir(ID), path.join(execRoot, 'c', ID));
  assert.equal(rt.stateRoot('runc'), path.join(execRoot, 'runtime', 'runc'));
  assert.equal(rt.attachPath(ID), path.join(execRoot, 's', ID.slice(0, 12), 'attach'));
  assert.equal(rt.runtimePath('crun'), '/fake/crun');
  assert.throws(() => rt.runtimePath('kata'), isKind('InvalidArgument', /unknown or invalid runtime name: kata/));
});

test('start runs "<runtime> --root <state> start <id>"', async () => {
  await rt.start({ id: ID, runtime: 'runc' });
  assert.deepEqual(host.callsOf('run').map((c) => c.args.slice(0, 2)), [['/fake/runc', ['--root', path.join(execRoot, 'runtime', 'runc'), 'start', ID]]]);
});

test('start failure becomes an Internal error with the runtime\'s message', async () => {
  host.onRun = () => ({ code: 1, stdout: '', stderr: 'time="t" level=error msg="container not running"\n' });
  await assert.rejects(rt.start({ id: ID, runtime: 'crun' }), isKind('Internal', /^failed to start container: container not running$/));
  assert.equal(host.callsOf('run')[0].args[0], '/fake/crun');
});

test('start with an unknown runtime does not run anything', async () => {
  await assert.rejects(rt.start({ id: ID, runtime: 'nope' }), isKind('InvalidArgument'));
  assert.equal(host.callsOf('run').length, 0);
});

// A created container as runc leaves it: init's pid in the bundle and the
// exec fifo in the state dir. `writer` plays init's end of the fifo.
function createdContainer(pid: number): string {
  fs.mkdirSync(rt.bundleDir(ID), { recursive: true });
  fs.writeFileSync(path.join(rt.bundleDir(ID), 'pid'), String(pid));
  const state = path.join(rt.stateRoot('runc'), ID);
  fs.mkdirSync(state, { recursive: true });
  execFileSync('mkfifo', [path.join(state, 'exec.fifo')]);
  return path.join(state, 'exec.fifo');
}

test('start takes the "0" init writes to exec.fifo and removes the fifo, running no runtime', async () => {
  const fifo = createdContainer(4242);
  host.alive.add(4242);
  const init = spawn('sh', ['-c', `printf 0 > ${fifo}`]);
  const exited = new Promise((r) => init.once('exit', r));
  await rt.start({ id: ID, runtime: 'runc' });
  await exited;
  assert.equal(fs.existsSync(fifo), false);
  assert.equal(host.callsOf('run').length, 0);
});

test('start fails when init is gone before it opens the fifo, and does not hang', async () => {
  const fifo = createdContainer(4243);
  host.alive.add(4243);
  const started = rt.start({ id: ID, runtime: 'runc' });
  // init dies while start waits on the fifo.
  setTimeout(() => host.alive.delete(4243), 50);
  await assert.rejects(started, isKind('Internal', /container process is already dead/));
  assert.equal(host.callsOf('run').length, 0, fifo);
});

test('start fails at once when init is already gone', async () => {
  createdContainer(4244);
  await assert.rejects(rt.start({ id: ID, runtime: 'runc' }), isKind('Internal', /container process is already dead/));
});

test('delete passes --force before the id and ignores "does not exist"', async () => {
  await rt.deleteState({ id: ID, runtime: 'runc' }, true);
  assert.deepEqual(host.callsOf('run')[0].args[1], ['--root', path.join(execRoot, 'runtime', 'runc'), 'delete', '--force', ID]);
  host.onRun = () => ({ code: 1, stdout: '', stderr: `time="t" level=error msg="container ${ID} does not exist"\n` });
  await rt.deleteState({ id: ID, runtime: 'runc' });
  assert.deepEqual(host.callsOf('run')[1].args[1], ['--root', path.join(execRoot, 'runtime', 'runc'), 'delete', ID]);
  host.onRun = () => ({ code: 1, stdout: '', stderr: 'time="t" level=error msg="cannot delete running container"\n' });
  await assert.rejects(rt.deleteState({ id: ID, runtime: 'runc' }), isKind('Internal', /failed to delete container from runtime: cannot delete running container/));
});

test('pause and resume', async () => {
  await rt.pause({ id: ID, runtime: 'runc' }, false);
  await rt.pause({ id: ID, runtime: 'runc' }, true);
  assert.deepEqual(host.callsOf('run').map((c) => (c.args[1] as string[]).slice(2)), [['pause', ID], ['resume', ID]]);
  host.onRun = () => ({ code: 1, stdout: '', stderr: 'msg="container not running"' });
  await assert.rejects(rt.pause({ id: ID, runtime: 'runc' }, false), isKind('Internal', /^container not running$/));
});

function conmonReplies(opts: { sync?: string; stderr?: string; conmonPid?: string }): (child: FakeChild) => void {
  return (child) => {
    if (opts.conmonPid !== undefined) fs.writeFileSync(argAfter(child.args, '--conmon-pidfile'), opts.conmonPid);
    if (opts.stderr) child.stderr!.write(opts.stderr);
    setTimeout(() => {
      if (opts.sync) child.stdio[3]!.write(opts.sync);
      child.stdio[3]!.end();
    }, 10);
  };
}

test('create writes the bundle, starts conmon with the right flags and returns the pids', async () => {
  await rt.init();
  try {
    // Leftovers from a previous container with the same id are cleared.
    fs.writeFileSync(path.join(rt.exitDir, ID), '0');
    fs.symlinkSync('/somewhere', path.join(rt.socketDir, ID.slice(0, 12)));
    host.onSpawn = conmonReplies({ sync: '{"data": 4242}\n', conmonPid: '777\n' });
    const s = spec();
    const logPath = path.join(execRoot, 'ctr.log');
    const res = await rt.create({ id: ID, runtime: 'runc' }, s, { logPath, name: 'web', stdin: true, tty: false });
    assert.deepEqual(res, { pid: 4242, conmonPid: 777 });

    const bundle = path.join(execRoot, 'c', ID);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')), s);
    assert.equal(fs.existsSync(path.join(rt.exitDir, ID)), false);
    assert.equal(fs.existsSync(path.join(rt.socketDir, ID.slice(0, 12))), false);

    const [call] = host.callsOf('launch');
    const [cmd, args, opts] = call.args as [string, string[], { env: NodeJS.ProcessEnv; stdio: unknown[] }];
    assert.equal(cmd, '/fake/conmon');
    assert.equal(argAfter(args, '-c'), ID);
    assert.equal(argAfter(args, '-u'), ID.slice(0, 12));
    assert.equal(argAfter(args, '-n'), 'web');
    assert.equal(argAfter(args, '-r'), '/fake/runc');
    assert.equal(argAfter(args, '-b'), bundle);
    assert.equal(argAfter(args, '-l'), `k8s-file:${logPath}`);
    assert.equal(argAfter(args, '--exit-dir'), rt.exitDir);
    assert.equal(argAfter(args, '--socket-dir-path'), rt.socketDir);
    assert.equal(argAfter(args, '--log-level'), 'error');
    assert.ok(args.join(' ').includes(`--runtime-arg --root --runtime-arg ${rt.stateRoot('runc')}`));
    assert.ok(args.includes('-i'));
    assert.ok(!args.includes('-t'));
    assert.equal(opts.env._OCI_SYNCPIPE, '3');
    assert.deepEqual(opts.stdio, ['ignore', 'ignore', 'pipe', 'pipe']);
    // conmon writes its "oom" file into its working directory.
    assert.equal((opts as { cwd?: string }).cwd, bundle);
  } finally {
    rt.close();
  }
});

test('each "oom" file conmon creates in the bundle is one OOM event, and is taken away', async () => {
  await rt.init();
  try {
    host.onSpawn = conmonReplies({ sync: '{"data": 4242}\n', conmonPid: '777\n' });
    await rt.create({ id: ID, runtime: 'runc' }, spec(), { logPath: path.join(execRoot, 'l'), name: 'web', stdin: false, tty: false });
    const seen: string[] = [];
    let next!: () => void;
    rt.onOom((id) => { seen.push(id); next(); });
    const file = path.join(execRoot, 'c', ID, 'oom');
    for (const n of [1, 2]) {
      const got = new Promise<void>((r) => { next = r; });
      fs.closeSync(fs.openSync(file, 'a'));
      await got;
      assert.equal(seen.length, n);
      assert.equal(fs.existsSync(file), false);
    }
    assert.deepEqual(seen, [ID, ID]);
  } finally {
    rt.close();
  }
});

test('create reports the runtime\'s message when conmon sends a negative pid', async () => {
  host.onSpawn = conmonReplies({ sync: '{"data": -1, "message": "time=\\"t\\" level=error msg=\\"exec format error\\""}\n' });
  await assert.rejects(
    rt.create({ id: ID, runtime: 'runc' }, spec(), { logPath: '/l', name: 'x', stdin: false, tty: false }),
    isKind('Internal', /^failed to create container: exec format error$/),
  );
  assert.ok(!(host.callsOf('launch')[0].args[1] as string[]).includes('-i'));
});

test('create falls back to conmon\'s stderr (minus oom_score_adj noise) when the sync pipe closes empty', async () => {
  host.onSpawn = conmonReplies({ stderr: '[conmon:e]: Failed to write to /proc/self/oom_score_adj\nruntime binary went away\n' });
  await assert.rejects(
    rt.create({ id: ID, runtime: 'runc' }, spec(), { logPath: '/l', name: 'x', stdin: false, tty: false }),
    isKind('Internal', /^failed to create container: runtime binary went away$/),
  );
});

test('create with an unknown runtime fails before spawning conmon', async () => {
  await assert.rejects(rt.create({ id: ID, runtime: 'nope' }, spec(), { logPath: '/l', name: 'x', stdin: false, tty: false }), isKind('InvalidArgument'));
  assert.equal(host.callsOf('launch').length, 0);
});

test('exitStatus reads conmon\'s exit file', async () => {
  await rt.init();
  rt.close();
  const f = path.join(rt.exitDir, ID);
  assert.equal(await rt.exitStatus(ID), undefined);
  fs.writeFileSync(f, '');
  assert.equal(await rt.exitStatus(ID), undefined, 'empty file: conmon is still writing');
  fs.writeFileSync(f, '137');
  const st = await rt.exitStatus(ID);
  assert.equal(st?.code, 137);
  assert.ok(st?.at instanceof Date);
  assert.ok(Math.abs(st!.at.getTime() - fs.statSync(f).mtimeMs) < 1);
  fs.writeFileSync(f, 'garbage');
  assert.equal((await rt.exitStatus(ID))?.code, 255);
});

test('onExit fires for exit files named by a container id', async () => {
  await rt.init();
  try {
    const seen: string[] = [];
    const got = new Promise<void>((resolve) =>
      rt.onExit((id) => {
        seen.push(id);
        if (id === ID) resolve();
      }),
    );
    fs.writeFileSync(path.join(rt.exitDir, 'not-an-id'), '0');
    fs.writeFileSync(path.join(rt.exitDir, ID), '0');
    await Promise.race([got, new Promise((_, rej) => setTimeout(() => rej(new Error('no exit event')), 3000).unref())]);
    assert.ok(seen.every((id) => id === ID), `only container ids: ${seen}`);
  } finally {
    rt.close();
  }
});

test('cleanup removes the bundle, socket link and exit file', async () => {
  await rt.init();
  rt.close();
  fs.mkdirSync(rt.bundleDir(ID), { recursive: true });
  fs.writeFileSync(path.join(rt.bundleDir(ID), 'conmon.pid'), '55');
  assert.equal(await rt.conmonPid(ID), 55);
  fs.symlinkSync('/x', path.join(rt.socketDir, ID.slice(0, 12)));
  fs.writeFileSync(path.join(rt.exitDir, ID), '0');
  await rt.cleanup(ID);
  assert.equal(fs.existsSync(rt.bundleDir(ID)), false);
  assert.equal(fs.existsSync(path.join(rt.socketDir, ID.slice(0, 12))), false);
  assert.equal(fs.existsSync(path.join(rt.exitDir, ID)), false);
  assert.equal(await rt.conmonPid(ID), 0);
  await rt.cleanup(ID); // nothing left: still fine
});

// ---- AttachConn ----

const pkt = (kind: number, text: string) => Buffer.concat([Buffer.from([kind]), Buffer.from(text)]);
const tick = () => new Promise((r) => setImmediate(r));

// An AttachConn on fd 42 whose far end (conmon) the test plays.
function connWithPeer(): { conn: AttachConn; peer: () => FakePacketPeer } {
  const conn = new AttachConn(host, 42);
  return { conn, peer: () => host.peers.get(42)! };
}

test('attach connects to the attach socket path through the host', () => {
  host.onSeqpacketConnect = () => 42;
  const conn = rt.attach({ id: ID, runtime: 'runc' });
  assert.equal(conn.fd, 42);
  assert.deepEqual(host.callsOf('seqpacketConnect').map((c) => c.args), [[rt.attachPath(ID)]]);
  conn.close();
});

test('attach propagates a connect failure', () => {
  assert.throws(() => rt.attach({ id: ID, runtime: 'runc' }), /ENOENT/);
});

test('AttachConn.pump watches the socket (no thread) and hands over stdout and stderr packets; other kinds are dropped', () => {
  const { conn, peer } = connWithPeer();
  const got: [number, string][] = [];
  let ended = 0;
  conn.pump((s, d) => got.push([s, d.toString()]), () => ended++);
  assert.deepEqual(host.callsOf('watchPackets').map((c) => c.args), [[42, 32769]]);
  peer().push(pkt(ATTACH_STDOUT, 'out'));
  peer().push(pkt(ATTACH_STDERR, 'err'));
  peer().push(pkt(1, 'ignored'));
  peer().push(Buffer.from([ATTACH_STDOUT]));
  assert.deepEqual(got, [[1, 'out'], [2, 'err']]);
  peer().end();
  assert.equal(ended, 1);
  assert.equal(peer().closed, true, 'the socket is closed at the end');
  conn.close();
  conn.closeStdin();
  assert.equal(ended, 1);
});

test('AttachConn: nothing is read before pump (a write may come first), and nothing is lost', () => {
  const { conn, peer } = connWithPeer();
  void conn.write(Buffer.from('early'));
  assert.equal(peer().paused, true);
  peer().push(pkt(ATTACH_STDOUT, 'before pump'));
  const got: string[] = [];
  conn.pump((_s, d) => got.push(d.toString()), () => {});
  assert.deepEqual(got, ['before pump']);
  assert.deepEqual(peer().sent.map(String), ['early']);
  conn.close();
});

test('AttachConn.pause and resume hold output back (backpressure)', () => {
  const { conn, peer } = connWithPeer();
  const got: string[] = [];
  conn.pump((_s, d) => got.push(d.toString()), () => {});
  conn.pause();
  peer().push(pkt(ATTACH_STDOUT, 'a'));
  assert.deepEqual(got, []);
  conn.resume();
  assert.deepEqual(got, ['a']);
  conn.close();
});

test('AttachConn.write sends packets of at most 32 KiB (what conmon reads at once), in order', async () => {
  const { conn, peer } = connWithPeer();
  conn.pump(() => {}, () => {});
  const big = Buffer.alloc(80000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  await conn.write(big);
  await conn.write(Buffer.from('tail'));
  assert.deepEqual(peer().sent.map((p) => p.length), [32768, 32768, 80000 - 65536, 4]);
  assert.deepEqual(Buffer.concat(peer().sent), Buffer.concat([big, Buffer.from('tail')]));
  conn.close();
});

test('AttachConn.write waits for room when the socket is full, and stdin EOF waits for it too', async () => {
  const { conn, peer } = connWithPeer();
  conn.pump(() => {}, () => {});
  peer().full = true;
  let done = false;
  const w = conn.write(Buffer.from('held')).then(() => { done = true; });
  conn.closeStdin();
  await tick();
  assert.equal(done, false);
  assert.deepEqual(peer().sent, []);
  assert.deepEqual(peer().shutdowns, [], 'no EOF before the input is sent');
  peer().drain();
  await w;
  assert.deepEqual(peer().sent.map(String), ['held']);
  assert.deepEqual(peer().shutdowns, [SHUT_WR]);
  // After EOF, writes go nowhere.
  await conn.write(Buffer.from('late'));
  assert.deepEqual(peer().sent.map(String), ['held']);
  conn.close();
});

test('AttachConn: a peer gone mid-write, or a close, settles pending writes', async () => {
  const { conn, peer } = connWithPeer();
  conn.pump(() => {}, () => {});
  peer().gone = Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
  await conn.write(Buffer.from('x'));
  peer().gone = undefined;
  peer().full = true;
  const pending = conn.write(Buffer.from('y'));
  conn.close();
  await pending;
  assert.equal(peer().closed, true);
  await conn.write(Buffer.from('z')); // closed: resolves at once
});

test('AttachConn.close before any use closes the fd itself', async () => {
  const f = path.join(execRoot, 'plain');
  const fd = fs.openSync(f, 'w');
  const conn = new AttachConn(host, fd);
  conn.close();
  // Closed through the thread pool: give it time on a loaded machine.
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    try {
      fs.fstatSync(fd);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.throws(() => fs.fstatSync(fd), /EBADF/);
});

// ---- resize ----

test('resizeTerminal writes "<rows> <cols>" to the winsz FIFO, one at a time: a size asked for while one is unread waits, and only the newest goes', async () => {
  const dir = path.join(execRoot, 'bundle');
  fs.mkdirSync(dir);
  // A FIFO with a reader held open, as conmon holds it.
  const fifo = path.join(dir, 'winsz');
  execFileSync('mkfifo', [fifo]);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const read = () => {
      const b = Buffer.alloc(200);
      try {
        return b.subarray(0, fs.readSync(reader, b)).toString();
      } catch {
        return '';
      }
    };
    // conmon has not read the first message yet: the unread count says so.
    let unread = 1;
    host.unreadBytes = (() => unread) as typeof host.unreadBytes;
    const first = resizeTerminal(host, dir, 24, 80);
    let got = '';
    while (!(got = read())) await new Promise((r) => setTimeout(r, 1));
    assert.equal(got, '24 80\n');
    const second = resizeTerminal(host, dir, 25, 81);
    const third = resizeTerminal(host, dir, 40, 100);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(read(), '', 'nothing more while the first is unread');
    unread = 0;
    await Promise.all([first, second, third]);
    assert.equal(read(), '40 100\n', 'then only the newest size');
    // A pty's size is two unsigned shorts.
    await resizeTerminal(host, dir, 65536 + 5, 7);
    assert.equal(read(), '5 7\n');
  } finally {
    fs.closeSync(reader);
  }
});

test('resizeTerminal of a process that is gone (no FIFO, or nobody reading it) is a Conflict', async () => {
  await assert.rejects(resizeTerminal(host, path.join(execRoot, 'nothing'), 1, 1), isKind('Conflict'));
  const dir = path.join(execRoot, 'dead');
  fs.mkdirSync(dir);
  execFileSync('mkfifo', [path.join(dir, 'winsz')]);
  await assert.rejects(resizeTerminal(host, dir, 1, 1), isKind('Conflict'));
});

test('ConmonRuntime.resize sizes the bundle\'s terminal', async () => {
  await assert.rejects(rt.resize({ id: ID, runtime: 'runc' }, { height: 1, width: 1 }), isKind('Conflict'));
});

test('create: a TTY or a stdin that outlives its client gets --leave-stdin-open; a non-TTY StdinOnce does not', async () => {
  await rt.init();
  try {
    const cases: [{ stdin: boolean; tty: boolean; stdinOnce: boolean }, boolean][] = [
      [{ stdin: true, tty: false, stdinOnce: true }, false],
      [{ stdin: true, tty: false, stdinOnce: false }, true],
      [{ stdin: true, tty: true, stdinOnce: true }, true],
      [{ stdin: false, tty: true, stdinOnce: false }, false],
    ];
    for (const [o, leave] of cases) {
      host.reset();
      host.onSpawn = conmonReplies({ sync: '{"data": 4242}\n', conmonPid: '777\n' });
      await rt.create({ id: ID, runtime: 'runc' }, spec(), { logPath: path.join(execRoot, 'l'), name: 'n', ...o });
      const args = host.callsOf('launch')[0].args[1] as string[];
      assert.equal(args.includes('--leave-stdin-open'), leave, JSON.stringify(o));
      assert.equal(args.includes('-t'), o.tty);
      assert.equal(args.includes('-i'), o.stdin);
    }
  } finally {
    rt.close();
  }
});

test('exec: conmon runs berth-exec for a runc container (runc and the seccomp cache as its arguments), the runtime itself otherwise', async () => {
  const helper = path.join(execRoot, 'berth-exec');
  fs.writeFileSync(helper, '');
  const withHelper = new ConmonRuntime(host, {
    execRoot, runtimes: { runc: '/fake/runc', crun: '/fake/crun' }, conmonPath: '/fake/conmon',
    execHelper: { path: helper, seccompCache: '/data/seccomp' },
  });
  const proc = { args: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0 } } as never;
  const runtimeArgs = async (r: ConmonRuntime, runtime: string) => {
    host.onSpawn = conmonReplies({ sync: '{"data": 4242}\n' });
    const before = host.callsOf('launch').length;
    const p = await r.exec({ id: ID, runtime }, `s${before}`, proc, { attach: false, stdin: false, tty: false });
    assert.equal(p.pid, 4242);
    const args = host.callsOf('launch')[before].args[1] as string[];
    return args.slice(args.indexOf('-r'), args.indexOf('-b')).join(' ');
  };
  const root = (rt: string) => `--runtime-arg --root --runtime-arg ${withHelper.stateRoot(rt)}`;
  assert.equal(await runtimeArgs(withHelper, 'runc'), `-r ${helper} --runtime-arg --runc --runtime-arg /fake/runc --runtime-arg --seccomp-cache --runtime-arg /data/seccomp ${root('runc')}`);
  assert.equal(await runtimeArgs(withHelper, 'crun'), `-r /fake/crun ${root('crun')}`);
  assert.equal(await runtimeArgs(rt, 'runc'), `-r /fake/runc ${root('runc')}`);
  // A helper that was not built: runc exec.
  fs.rmSync(helper);
  assert.equal(await runtimeArgs(withHelper, 'runc'), `-r /fake/runc ${root('runc')}`);
});
