// ExecService over the fake runtime: what a session runs with (user, env,
// cwd, capabilities), its life (start once, output, exit code, events), and
// dockerd's refusals.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExecService, type ExecSpec } from '../../../../src/engine/containers/exec';
import { BerthError } from '../../../../src/errors';
import { DEFAULT_CAPS } from '../../../../src/engine/runtime/spec';
import { harness, spec, type Harness } from './fakes';

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function execSpec(over: Partial<ExecSpec> = {}): ExecSpec {
  return { cmd: ['ls', '-l'], env: [], user: '', cwd: '', tty: false, privileged: false, stdin: false, stdout: true, stderr: true, ...over };
}

// A sink that records what it was given; `full` makes it refuse more
// output until drain() (a client that stopped reading).
function sink() {
  const out: string[] = [];
  let ended = false;
  let endedNow = () => {};
  const endedP = new Promise<void>((r) => { endedNow = r; });
  const drains: (() => void)[] = [];
  const s = {
    out, full: false, ended: endedP, get isEnded() { return ended; },
    drain: () => { s.full = false; for (const cb of drains.splice(0)) cb(); },
    sink: {
      out: (fd: 1 | 2, d: Buffer) => { out.push(`${fd}:${d.toString()}`); return !s.full; },
      onDrain: (cb: () => void) => { drains.push(cb); },
      end: () => { ended = true; endedNow(); },
    },
  };
  return s;
}

const ALL = ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];

let h: Harness;
let execs: ExecService;
let cid: string;

describe('ExecService', () => {
  beforeEach(async () => {
    h = await harness();
    execs = new ExecService(
      { containers: h.service, runtime: h.runtime, rootfs: (id) => path.join(h.rootfs.containerDir(id), 'merged'), events: { publish: (type, action, id, attributes = {}) => h.events.push({ type, action, id, attributes, timeNano: 0n }) } },
      { privilegedCaps: ALL, keepMs: 50 },
    );
    ({ id: cid } = await h.service.create(spec({ process: { ...spec().process, env: ['PATH=/bin', 'KEEP=1', 'DROP=1'], cwd: '/srv', user: 'app' }, labels: { team: 'a' } }), { name: 'web' }));
    const etc = path.join(h.rootfs.containerDir(cid), 'merged', 'etc');
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(etc, 'group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
    await h.service.start('web');
    h.events.length = 0;
  });
  afterEach(() => {
    execs.shutdown();
    h.cleanup();
  });

  test('a session runs with the container\'s user, env and cwd, each overridable', async () => {
    const id = await execs.create('web', execSpec({ env: ['KEEP=2', 'NEW=n', 'DROP'] }));
    await execs.start(id, { detach: true });
    const p = h.runtime.execs.get(id)!;
    assert.equal(p.container, cid);
    assert.deepEqual(p.process.args, ['ls', '-l']);
    assert.deepEqual(p.process.user, { uid: 1000, gid: 1000, additionalGids: [2000] });
    assert.equal(p.process.cwd, '/srv');
    assert.deepEqual(p.process.env, ['PATH=/bin', `HOSTNAME=${cid.slice(0, 12)}`, 'KEEP=2', 'HOME=/home/app', 'NEW=n']);
    // Not root: no effective capabilities, as for the container's own process.
    assert.deepEqual(p.process.capabilities.bounding, DEFAULT_CAPS);
    assert.deepEqual(p.process.capabilities.effective, []);
    assert.deepEqual(p.opts, { attach: false, stdin: false, tty: false });

    const root = await execs.create('web', execSpec({ user: '0', cwd: '/tmp', tty: true, consoleSize: { height: 40, width: 100 } }));
    await execs.start(root, { detach: true });
    const q = h.runtime.execs.get(root)!.process;
    assert.deepEqual([q.user.uid, q.cwd, q.terminal, q.consoleSize], [0, '/tmp', true, { height: 40, width: 100 }]);
    assert.ok(q.env.includes('TERM=xterm') && q.env.includes('HOME=/root'));
    assert.deepEqual(q.capabilities.effective, DEFAULT_CAPS);
  });

  test('privileged: every capability the daemon holds', async () => {
    const id = await execs.create('web', execSpec({ user: 'root', privileged: true }));
    await execs.start(id, { detach: true });
    const caps = h.runtime.execs.get(id)!.process.capabilities;
    assert.deepEqual([caps.bounding, caps.effective, caps.permitted], [ALL, ALL, ALL]);
  });

  test('attached: output by stream, stdin, and the end only once the exit code is known; events as dockerd names them', async () => {
    const id = await execs.create('web', execSpec({ stdin: true, stderr: false }));
    assert.deepEqual(execs.idsOf(cid), [id]);
    const s = sink();
    const handle = await execs.start(id, { detach: false }, s.sink);
    const p = h.runtime.execs.get(id)!;
    assert.deepEqual(p.opts, { attach: true, stdin: true, tty: false });
    assert.equal(execs.inspect(id).running, true);
    assert.ok(execs.inspect(id).pid > 0);
    handle.write(Buffer.from('in'));
    handle.closeStdin();
    p.out.write(Buffer.from('\x02out'));
    p.out.write(Buffer.from('\x03err')); // stderr was not asked for
    await tick();
    // The output's end waits for the exit code.
    p.out.end();
    await tick();
    assert.equal(s.isEnded, false);
    p.exit(3);
    await s.ended;
    assert.deepEqual(s.out, ['1:out']);
    assert.deepEqual([p.stdin.map(String), p.stdinClosed], [['in'], true]);
    const v = execs.inspect(id);
    assert.deepEqual([v.running, v.exitCode, v.canRemove], [false, 3, true]);
    assert.deepEqual(execs.idsOf(cid), []);
    // The exit code is kept here; the runtime's files of the session go.
    assert.deepEqual(h.runtime.forgottenExecs, [id]);
    assert.deepEqual(h.events.map((e) => [e.action, e.attributes.execID, e.attributes.exitCode, e.attributes.team, e.attributes.name]), [
      ['exec_create: ls -l', id, undefined, 'a', 'web'],
      ['exec_start: ls -l', id, undefined, 'a', 'web'],
      ['exec_die', id, '3', 'a', 'web'],
    ]);
    // Kept for a while, then forgotten.
    await tick(80);
    assert.throws(() => execs.inspect(id), isKind('NotFound', /No such exec instance/));
  });

  test('attached: a client that stops reading holds the output back (the stream is paused until it drains)', async () => {
    const id = await execs.create('web', execSpec());
    const s = sink();
    s.full = true;
    await execs.start(id, { detach: false }, s.sink);
    const p = h.runtime.execs.get(id)!;
    p.out.write(Buffer.from('\x02one'));
    await tick();
    assert.equal(p.paused, true);
    s.drain();
    assert.equal(p.paused, false);
    p.out.write(Buffer.from('\x02two'));
    p.exit(0);
    await s.ended;
    assert.deepEqual(s.out, ['1:one', '1:two']);
  });

  test('a TTY session: the detach keys end the stream, are not passed on, and the process runs on (exec_detach)', async () => {
    const id = await execs.create('web', execSpec({ tty: true, stdin: true, detachKeys: Buffer.from([5, 0x65]) }));
    const s = sink();
    const handle = await execs.start(id, { detach: false }, s.sink);
    const p = h.runtime.execs.get(id)!;
    handle.write(Buffer.from('ls\r\x05'));
    handle.write(Buffer.from('e'));
    await s.ended;
    assert.deepEqual([p.stdin.map(String), p.stdinClosed, p.closed], [['ls\r'], false, true]);
    assert.equal(execs.inspect(id).running, true);
    assert.deepEqual(h.events.filter((e) => e.action === 'exec_detach').map((e) => e.attributes.execID), [id]);
    // Without keys of its own, ctrl-p ctrl-q.
    const dflt = await execs.create('web', execSpec({ tty: true, stdin: true }));
    const s2 = sink();
    (await execs.start(dflt, { detach: false }, s2.sink)).write(Buffer.from('\x10\x11'));
    await s2.ended;
    assert.equal(h.runtime.execs.get(dflt)!.stdin.length, 0);
  });

  test('the end of the client\'s input: stdin closes without a TTY; with one, the stream ends and the process runs on', async () => {
    const tty = await execs.create('web', execSpec({ tty: true, stdin: true }));
    const s = sink();
    (await execs.start(tty, { detach: false }, s.sink)).closeStdin();
    await s.ended;
    assert.deepEqual([h.runtime.execs.get(tty)!.stdinClosed, execs.inspect(tty).running], [false, true]);
    assert.deepEqual(h.events.filter((e) => e.action === 'exec_detach'), []);
    // Without a TTY (in a container that has one or not), the process's stdin closes and its output still comes.
    const plain = await execs.create('web', execSpec({ stdin: true }));
    const s2 = sink();
    (await execs.start(plain, { detach: false }, s2.sink)).closeStdin();
    await tick();
    const p = h.runtime.execs.get(plain)!;
    assert.deepEqual([p.stdinClosed, s2.isEnded], [true, false]);
    p.out.write(Buffer.from('\x02after'));
    p.exit(0);
    await s2.ended;
    assert.deepEqual(s2.out, ['1:after']);
  });

  test('a session starts once', async () => {
    const id = await execs.create('web', execSpec());
    await execs.start(id, { detach: true });
    await assert.rejects(execs.start(id, { detach: true }), isKind('Conflict', new RegExp(`exec command ${id} is already running`)));
    h.runtime.execs.get(id)!.exit(0);
    await tick();
    await assert.rejects(execs.start(id, { detach: true }), isKind('Conflict', new RegExp(`exec command ${id} has already run`)));
  });

  test('a process that cannot be run: 127 when missing, 126 otherwise, with the runtime\'s message', async () => {
    const missing = await execs.create('web', execSpec({ cmd: ['nosuch'] }));
    h.runtime.execFailure = 'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH';
    await assert.rejects(execs.start(missing, { detach: false }, sink().sink), isKind('InvalidArgument', /^OCI runtime exec failed: exec failed: .*executable file not found/));
    assert.deepEqual([execs.inspect(missing).exitCode, execs.inspect(missing).running], [127, false]);
    const denied = await execs.create('web', execSpec({ cmd: ['/etc/passwd'] }));
    h.runtime.execFailure = 'exec failed: unable to start container process: exec: "/etc/passwd": permission denied';
    await assert.rejects(execs.start(denied, { detach: true }), isKind('InvalidArgument', /permission denied/));
    assert.equal(execs.inspect(denied).exitCode, 126);
    assert.deepEqual(execs.idsOf(cid), []);
  });

  test('refuses what dockerd refuses', async () => {
    await assert.rejects(execs.create('nosuch', execSpec()), isKind('NotFound', /No such container: nosuch/));
    await assert.rejects(execs.create('web', execSpec({ cmd: [] })), isKind('InvalidArgument', /No exec command specified/));
    await assert.rejects(execs.create('web', execSpec({ cwd: 'rel' })), isKind('InvalidArgument', /needs to be an absolute path/));
    await assert.rejects(execs.create('web', execSpec({ user: 'nobody' })), isKind('InvalidArgument', /unable to find user nobody/));
    assert.throws(() => execs.inspect('nosuch'), isKind('NotFound', /^No such exec instance: nosuch$/));
    assert.throws(() => execs.startable('nosuch'), isKind('NotFound', /^No such exec instance: nosuch$/));
    await assert.rejects(execs.resize('nosuch', 1, 1), isKind('NotFound'));
    // Paused: 409 with dockerd's words.
    await h.service.withLock('web', async () => {
      await assert.rejects(execs.create('web', execSpec()), isKind('Conflict', /^Container web is paused, unpause the container before exec$/));
    }, { pause: true });
    // Not running (created, or stopped).
    await h.service.create(spec(), { name: 'idle' });
    await assert.rejects(execs.create('idle', execSpec()), isKind('Conflict', /^container [0-9a-f]{64} is not running$/));
  });

  test('resize reaches a TTY session\'s runtime; without a TTY it changes nothing', async () => {
    const tty = await execs.create('web', execSpec({ tty: true }));
    // Asked before the start, it waits for it.
    const early = execs.resize(tty, 24, 80);
    await execs.start(tty, { detach: true });
    await early;
    await execs.resize(tty, 50, 120);
    assert.deepEqual(h.runtime.execs.get(tty)!.resizes, [[24, 80], [50, 120]]);
    const plain = await execs.create('web', execSpec());
    await execs.start(plain, { detach: true });
    await execs.resize(plain, 10, 10);
    assert.deepEqual(h.runtime.execs.get(plain)!.resizes, []);
  });

  test('the container\'s stop forgets its sessions, as dockerd unregisters them', async () => {
    const pending = await execs.create('web', execSpec());
    const running = await execs.create('web', execSpec());
    await execs.start(running, { detach: true });
    const attached = await execs.create('web', execSpec());
    const s = sink();
    await execs.start(attached, { detach: false }, s.sink);
    await h.service.stop('web', { timeout: 0 });
    execs.containerExited(cid);
    // An attached client's stream ends with it.
    await s.ended;
    for (const id of [pending, running]) {
      assert.throws(() => execs.inspect(id), isKind('NotFound', /No such exec instance/));
      assert.throws(() => execs.startable(id), isKind('NotFound', /No such exec instance/));
    }
    assert.deepEqual(execs.idsOf(cid), []);
    // Its exit, arriving late, is still published.
    h.runtime.execs.get(running)!.exit(137);
    await tick();
    assert.deepEqual(h.events.filter((e) => e.action === 'exec_die').map((e) => e.attributes.exitCode), ['137']);
  });
});
