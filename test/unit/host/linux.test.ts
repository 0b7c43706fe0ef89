// LinuxHost's event-driven packet I/O against a real SOCK_SEQPACKET peer
// (a small Python program playing conmon). No root needed.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { test } from 'node:test';
import { SHUT_WR } from '../../../src/host';
import { LinuxHost } from '../../../src/host/linux';
import { projectRoot } from '../../../src/util/paths';

test('watchPackets: packets arrive on the event loop, a full socket says so and calls back when writable, EOF and the peer\'s close are seen', { timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sp-'));
  const sock = path.join(dir, 's');
  const peer = spawn('python3', [path.join(projectRoot(), 'test', 'unit', 'host', 'seqpacket-peer.py'), sock], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: peer.stdout! });
  const nextLine = () => new Promise<string>((r) => lines.once('line', r));
  try {
    assert.equal(await nextLine(), 'listening');
    const host = new LinuxHost();
    const fd = host.seqpacketConnect(sock);
    const got: string[] = [];
    let ended: (err?: Error) => void = () => {};
    const end = new Promise<Error | undefined>((r) => { ended = r; });
    let arrived: () => void = () => {};
    const two = new Promise<void>((r) => { arrived = r; });
    const w = host.watchPackets(fd, 65536, (p) => {
      got.push(`${p[0]}:${p.subarray(1)}`);
      if (got.length === 2) arrived();
    }, (err) => ended(err));
    await two;
    assert.deepEqual(got, ['2:hello', '3:oops']);

    // The peer reads nothing yet: send until the socket is full.
    const packet = Buffer.alloc(32768, 7);
    let sent = 0;
    while (w.send(packet)) sent++;
    assert.ok(sent > 0);
    const writable = new Promise<void>((r) => w.whenWritable(r));
    peer.stdin!.write('go\n');
    await writable;
    // Room again: the rest goes, then EOF.
    assert.equal(w.send(packet), true);
    sent++;
    w.shutdown(SHUT_WR);
    assert.equal(await nextLine(), `${sent} ${sent * packet.length}`);
    // The peer closes: the end is reported once, without an error.
    assert.equal(await end, undefined);
    w.close();
    w.close();
    assert.throws(() => w.send(packet), /EBADF/);
  } finally {
    peer.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unreadBytes counts what a pipe\'s reader has not taken', () => {
  const host = new LinuxHost();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fifo-'));
  try {
    const fifo = path.join(dir, 'f');
    execFileSync('mkfifo', [fifo]);
    const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wfd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(wfd, '24 80\n');
    assert.equal(host.unreadBytes(wfd), 6);
    fs.readSync(r, Buffer.alloc(10));
    assert.equal(host.unreadBytes(wfd), 0);
    fs.closeSync(r);
    fs.closeSync(wfd);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('launch: the child gets /dev/null and socket pairs on the fds asked for, its own session, default signals and the env given; its exit is reaped and reported', { timeout: 30_000 }, async (t) => {
  const host = new LinuxHost();
  // The exit watch does not keep the loop alive (nor does an unref'd
  // ChildProcess): this does, meanwhile.
  const keep = setInterval(() => {}, 1000);
  t.after(() => clearInterval(keep));
  // fd 3 is a pipe the child reads from and answers on; SIGPIPE (ignored by
  // Node) must be back to its default in the child.
  const script = [
    'read line <&3',
    'echo "got:$line sid:$(ps -o sid= -p $$ | tr -d " ") pid:$$ env:$BERTH_T" >&3',
    'grep -E "^SigIgn" /proc/$$/status >&2',
    'ls -l /proc/$$/fd/0 | sed "s/.*-> //" >&2',
    'exit 7',
  ].join('\n');
  const child = host.launch('/bin/sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, BERTH_T: 'x y' } });
  assert.equal(child.stdio[0], null);
  assert.equal(child.stdio[1], null);
  const err: Buffer[] = [];
  child.stdio[2]!.on('data', (d: Buffer) => err.push(d));
  const out: Buffer[] = [];
  child.stdio[3]!.on('data', (d: Buffer) => out.push(d));
  child.stdio[3]!.write('hello\n');
  const exit = await child.exit;
  assert.deepEqual(exit, { code: 7, signal: null });
  await new Promise((r) => (child.stdio[3]!.readableEnded ? r(undefined) : child.stdio[3]!.once('end', r)));
  assert.equal(Buffer.concat(out).toString(), `got:hello sid:${child.pid} pid:${child.pid} env:x y\n`);
  await new Promise((r) => (child.stdio[2]!.readableEnded ? r(undefined) : child.stdio[2]!.once('end', r)));
  const [sigIgn, stdin] = Buffer.concat(err).toString().trim().split('\n');
  // Bit 13 (SIGPIPE) is not ignored: the mask is the shell's own (none here).
  assert.equal(BigInt('0x' + sigIgn.split(/\s+/)[1]) & (1n << 12n), 0n, sigIgn);
  assert.equal(stdin, '/dev/null');
  // Reaped: no zombie is left.
  assert.equal(fs.existsSync(`/proc/${child.pid}`), false);

  const killed = host.launch('/bin/sleep', ['100'], { stdio: [], env: {} });
  host.kill(killed.pid, 'SIGKILL');
  assert.deepEqual(await killed.exit, { code: null, signal: 9 });

  assert.throws(() => host.launch('/nonexistent/program', [], { stdio: ['pipe'], env: {} }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('launch: the child ignores no signal, glibc\'s internal ones included', async () => {
  const child = new LinuxHost().launch('/bin/cat', ['/proc/self/status'], { stdio: ['ignore', 'pipe'], env: {} });
  const out: Buffer[] = [];
  child.stdio[1]!.on('data', (d: Buffer) => out.push(d));
  await child.exit;
  await new Promise((r) => (child.stdio[1]!.readableEnded ? r(undefined) : child.stdio[1]!.once('end', r)));
  assert.match(Buffer.concat(out).toString(), /^SigIgn:\t0{16}$/m);
});

test('launch: the child starts in the working directory asked for', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-launch-'));
  try {
    const child = new LinuxHost().launch('/bin/sh', ['-c', 'pwd'], { stdio: ['ignore', 'pipe'], env: { PATH: '/bin:/usr/bin' }, cwd: dir });
    const out: Buffer[] = [];
    child.stdio[1]!.on('data', (d: Buffer) => out.push(d));
    await child.exit;
    await new Promise((r) => (child.stdio[1]!.readableEnded ? r(undefined) : child.stdio[1]!.once('end', r)));
    assert.equal(Buffer.concat(out).toString().trim(), fs.realpathSync(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
