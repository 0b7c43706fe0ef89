// A fake Host for unit tests: records every call, keeps a small mount table
// and process table, and returns canned results. No syscalls, no root.
//
//   const host = new FakeHost();
//   host.onRun = (cmd, args) => ({ code: 0, stdout: '', stderr: '' });
//   ... code under test ...
//   assert.deepEqual(host.callsOf('umount').map((c) => c.args[0]), ['/x']);
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Host, LaunchOptions, Launched, PacketWatch, RunResult } from '../../../src/host';

export interface HostCall {
  method: keyof Host;
  args: unknown[];
}

export interface FakeMount {
  source: string;
  fstype: string | null;
  flags: number;
  data: string | null;
}

function errno(code: string, syscall: string, target: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} ${target}`), { code, syscall, path: target });
}

// A stand-in for the ChildProcess that Host.spawn returns. stdio[n] for every
// 'pipe' entry is a PassThrough: the test writes what the "child" would
// print into it, and finishes the child with exit().
export class FakeChild extends EventEmitter {
  readonly stdio: (PassThrough | null)[];
  readonly stdin: PassThrough | null;
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
  readonly killed: (NodeJS.Signals | number)[] = [];
  unrefCalled = false;
  exitCode: number | null = null;

  constructor(readonly cmd: string, readonly args: string[], readonly opts: SpawnOptions, readonly pid: number) {
    super();
    const stdio = Array.isArray(opts.stdio) ? opts.stdio : [opts.stdio ?? 'pipe', opts.stdio ?? 'pipe', opts.stdio ?? 'pipe'];
    this.stdio = stdio.map((s) => (s === 'pipe' ? new PassThrough() : null));
    [this.stdin, this.stdout, this.stderr] = [this.stdio[0] ?? null, this.stdio[1] ?? null, this.stdio[2] ?? null];
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    this.killed.push(signal);
    return true;
  }

  unref(): void {
    this.unrefCalled = true;
  }

  ref(): void {
    this.unrefCalled = false;
  }

  // Ends every pipe and emits 'exit' and 'close', as a real child would.
  exit(code: number): void {
    this.exitCode = code;
    for (const s of this.stdio) s?.end();
    this.emit('exit', code, null);
    setImmediate(() => this.emit('close', code, null));
  }
}

// The far end of a watched packet socket: the test plays conmon. It pushes
// packets and the end, takes what was sent, and can fill the socket up
// (send answers false until drain()).
export class FakePacketPeer {
  readonly sent: Buffer[] = [];
  readonly shutdowns: number[] = [];
  closed = false;
  paused = false;
  // Packets a paused reader has not taken yet.
  readonly queued: Buffer[] = [];
  full = false;
  // Throws from send, as a peer that has gone away.
  gone?: NodeJS.ErrnoException;
  private writable: (() => void)[] = [];
  onPacket: (p: Buffer) => void = () => {};
  onEnd: (err?: NodeJS.ErrnoException) => void = () => {};

  constructor(readonly fd: number, readonly maxPacket: number) {}

  push(packet: Buffer): void {
    if (this.closed) return;
    if (this.paused) this.queued.push(packet);
    else this.onPacket(packet);
  }

  end(err?: NodeJS.ErrnoException): void {
    if (!this.closed) this.onEnd(err);
  }

  // Room again: the senders waiting are told.
  drain(): void {
    this.full = false;
    const w = this.writable;
    this.writable = [];
    for (const cb of w) cb();
  }

  watch(): PacketWatch {
    return {
      send: (p) => {
        if (this.closed) throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
        if (this.gone) throw this.gone;
        if (this.full) return false;
        this.sent.push(Buffer.from(p));
        return true;
      },
      whenWritable: (cb) => {
        this.writable.push(cb);
      },
      pause: () => {
        this.paused = true;
      },
      resume: () => {
        this.paused = false;
        while (!this.paused && this.queued.length) this.onPacket(this.queued.shift()!);
      },
      shutdown: (how) => {
        this.shutdowns.push(how);
      },
      close: () => {
        this.closed = true;
      },
    };
  }
}

export class FakeHost implements Host {
  readonly calls: HostCall[] = [];
  // target -> what is mounted there (the last mount wins, like a stack top).
  readonly mounts = new Map<string, FakeMount>();
  readonly xattrs = new Map<string, Map<string, Buffer>>();
  readonly alive = new Set<number>();
  readonly children: FakeChild[] = [];
  // Signals after which a pid in `alive` is gone.
  fatalSignals = new Set<NodeJS.Signals | number>(['SIGKILL', 9]);
  // Canned behaviour; the defaults succeed and do nothing.
  onRun: (cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number }) => RunResult | Promise<RunResult> =
    () => ({ code: 0, stdout: '', stderr: '' });
  onSpawn?: (child: FakeChild) => void;
  onSeqpacketConnect: (path: string) => number = () => {
    throw errno('ENOENT', 'connect', 'attach socket');
  };
  // Watched packet sockets by fd (what watchPackets was given).
  readonly peers = new Map<number, FakePacketPeer>();
  // unreadBytes answers from here (fd -> bytes); 0 when absent.
  readonly unread = new Map<number, number>();
  private failures = new Map<keyof Host, Error[]>();
  private nextPid = 10000;

  // The next call of `method` throws err (queued, one per call).
  failNext(method: keyof Host, err: Error): void {
    const q = this.failures.get(method) ?? [];
    q.push(err);
    this.failures.set(method, q);
  }

  callsOf(method: keyof Host): HostCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  reset(): void {
    this.calls.length = 0;
  }

  private record(method: keyof Host, args: unknown[]): void {
    this.calls.push({ method, args });
    const err = this.failures.get(method)?.shift();
    if (err) throw err;
  }

  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
    this.record('mount', [source, target, fstype, flags, data]);
    this.mounts.set(target, { source, fstype, flags, data });
  }

  mountAs(ids: { uid: number; gid: number }, source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
    this.record('mountAs', [ids, source, target, fstype, flags, data]);
    this.mounts.set(target, { source, fstype, flags, data });
  }

  idmapMount(source: string, target: string, map: { uid: number; gid: number; size: number }): void {
    this.record('idmapMount', [source, target, map]);
    this.mounts.set(target, { source, fstype: 'idmap', flags: 0, data: JSON.stringify(map) });
  }

  mkdirAs(ids: { uid: number; gid: number }, p: string, mode: number): void {
    this.record('mkdirAs', [ids, p, mode]);
    fs.mkdirSync(p, { recursive: true, mode });
  }

  umount(target: string, flags = 0): void {
    this.record('umount', [target, flags]);
    if (!this.mounts.delete(target)) throw errno('EINVAL', 'umount', target);
  }

  mknod(path: string, mode: number, major: number, minor: number): void {
    this.record('mknod', [path, mode, major, minor]);
  }

  lsetxattr(path: string, name: string, value: Buffer): void {
    this.record('lsetxattr', [path, name, value]);
    const m = this.xattrs.get(path) ?? new Map<string, Buffer>();
    m.set(name, Buffer.from(value));
    this.xattrs.set(path, m);
  }

  lgetxattr(path: string, name: string): Buffer | null {
    this.record('lgetxattr', [path, name]);
    return this.xattrs.get(path)?.get(name) ?? null;
  }

  llistxattr(path: string): string[] {
    this.record('llistxattr', [path]);
    return [...(this.xattrs.get(path)?.keys() ?? [])];
  }

  chroot(path: string): void {
    this.record('chroot', [path]);
  }

  seqpacketConnect(path: string): number {
    this.record('seqpacketConnect', [path]);
    return this.onSeqpacketConnect(path);
  }

  shutdown(fd: number, how: number): void {
    this.record('shutdown', [fd, how]);
  }

  watchPackets(fd: number, maxPacket: number, onPacket: (packet: Buffer) => void, onEnd: (err?: NodeJS.ErrnoException) => void): PacketWatch {
    this.record('watchPackets', [fd, maxPacket]);
    const peer = new FakePacketPeer(fd, maxPacket);
    peer.onPacket = onPacket;
    peer.onEnd = onEnd;
    this.peers.set(fd, peer);
    return peer.watch();
  }

  unreadBytes(fd: number): number {
    this.record('unreadBytes', [fd]);
    return this.unread.get(fd) ?? 0;
  }

  async run(cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
    this.record('run', [cmd, args, opts]);
    return this.onRun(cmd, args, opts);
  }

  spawn(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
    this.record('spawn', [cmd, args, opts]);
    const child = new FakeChild(cmd, args, opts, this.nextPid++);
    this.children.push(child);
    this.alive.add(child.pid);
    this.onSpawn?.(child);
    return child as unknown as ChildProcess;
  }

  // The same FakeChild as spawn's (onSpawn plays it); its exit() settles
  // the Launched's exit.
  launch(cmd: string, args: string[], opts: LaunchOptions): Launched {
    this.record('launch', [cmd, args, opts]);
    const child = new FakeChild(cmd, args, opts, this.nextPid++);
    this.children.push(child);
    this.alive.add(child.pid);
    const exit = new Promise<{ code: number | null; signal: number | null }>((r) => child.once('exit', (code: number | null) => r({ code, signal: null })));
    this.onSpawn?.(child);
    return { pid: child.pid, stdio: child.stdio, exit };
  }

  kill(pid: number, signal: NodeJS.Signals | number): boolean {
    this.record('kill', [pid, signal]);
    if (!this.alive.has(pid)) return false;
    if (this.fatalSignals.has(signal)) this.alive.delete(pid);
    return true;
  }

  isAlive(pid: number): boolean {
    this.record('isAlive', [pid]);
    return this.alive.has(pid);
  }
}
