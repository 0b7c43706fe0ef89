import * as fs from 'node:fs';
import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import type { Host, LaunchOptions, Launched, PacketWatch, RunResult } from './index';
import { nativeBuild } from '../util/paths';

interface Native {
  mount(s: string | null, t: string, f: string | null, flags: number, d: string | null): void;
  umount(t: string, flags: number): void;
  mountAs(uid: number, gid: number, s: string | null, t: string, f: string | null, flags: number, d: string | null): void;
  idmapMount(s: string, t: string, uid: number, gid: number, size: number): void;
  mkdirAs(uid: number, gid: number, p: string, mode: number): void;
  mknod(p: string, mode: number, major: number, minor: number): void;
  lsetxattr(p: string, n: string, v: Buffer): void;
  lgetxattr(p: string, n: string): Buffer | null;
  llistxattr(p: string): string[];
  chroot(p: string): void;
  seqpacketConnect(p: string): number;
  shutdown(fd: number, how: number): void;
  unreadBytes(fd: number): number;
  watchPackets(fd: number, max: number, onPacket: (p: Buffer) => void, onEnd: (errno: number) => void, onWritable: () => void): NativeWatch;
  sendPacket(w: NativeWatch, p: Buffer): number;
  setPacketInterest(w: NativeWatch, reading: boolean, writable: boolean): void;
  shutdownPackets(w: NativeWatch, how: number): void;
  closePackets(w: NativeWatch): void;
  spawn(file: string, argv: string[], envp: string[], stdio: number[], onExit: (code: number, signal: number) => void, cwd: string): number[];
}

// The addon's handle of a watched packet socket (an external).
type NativeWatch = { readonly __brand: 'NativeWatch' };

const errnoNames = new Map<number, string>(
  Object.entries(os.constants.errno).map(([name, num]) => [num as number, name]),
);

let native: Native | undefined;
function load(): Native {
  native ??= require(nativeBuild('berth_host.node')) as Native;
  return native;
}

// Gives addon errors the same shape as Node's own (err.code === 'ENOENT').
function call<T>(fn: () => T, target: string): T {
  try {
    return fn();
  } catch (err: any) {
    if (typeof err?.errno === 'number') {
      err.code = errnoNames.get(err.errno) ?? `E${err.errno}`;
      err.path = target;
      err.message = `${err.message}: ${target}`;
    }
    throw err;
  }
}

function errnoError(errno: number, syscall: string, target: string): NodeJS.ErrnoException {
  const code = errnoNames.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${syscall} ${code}: ${target}`), { errno, code, syscall, path: target });
}

export class LinuxHost implements Host {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
    call(() => load().mount(source, target, fstype, flags, data), target);
  }
  umount(target: string, flags = 0): void {
    call(() => load().umount(target, flags), target);
  }
  mountAs(ids: { uid: number; gid: number }, source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
    call(() => load().mountAs(ids.uid, ids.gid, source, target, fstype, flags, data), target);
  }
  idmapMount(source: string, target: string, map: { uid: number; gid: number; size: number }): void {
    call(() => load().idmapMount(source, target, map.uid, map.gid, map.size), target);
  }
  mkdirAs(ids: { uid: number; gid: number }, p: string, mode: number): void {
    call(() => load().mkdirAs(ids.uid, ids.gid, p, mode), p);
  }
  mknod(p: string, mode: number, major: number, minor: number): void {
    call(() => load().mknod(p, mode, major, minor), p);
  }
  lsetxattr(p: string, name: string, value: Buffer): void {
    call(() => load().lsetxattr(p, name, value), p);
  }
  lgetxattr(p: string, name: string): Buffer | null {
    return call(() => load().lgetxattr(p, name), p);
  }
  llistxattr(p: string): string[] {
    return call(() => load().llistxattr(p), p);
  }
  chroot(p: string): void {
    call(() => load().chroot(p), p);
  }
  seqpacketConnect(p: string): number {
    return call(() => load().seqpacketConnect(p), p);
  }
  shutdown(fd: number, how: number): void {
    call(() => load().shutdown(fd, how), `fd ${fd}`);
  }
  unreadBytes(fd: number): number {
    return call(() => load().unreadBytes(fd), `fd ${fd}`);
  }

  watchPackets(fd: number, maxPacket: number, onPacket: (packet: Buffer) => void, onEnd: (err?: NodeJS.ErrnoException) => void): PacketWatch {
    const n = load();
    let closed = false;
    let reading = true;
    let writers: (() => void)[] = [];
    const interest = () => n.setPacketInterest(w, reading, writers.length > 0);
    const w = call(() => n.watchPackets(fd, maxPacket, onPacket, (errno) => {
      writers = [];
      onEnd(errno ? errnoError(errno, 'recv', `fd ${fd}`) : undefined);
    }, () => {
      const ws = writers;
      writers = [];
      for (const cb of ws) cb();
    }), `fd ${fd}`);
    return {
      send: (packet) => {
        if (closed) throw errnoError(os.constants.errno.EBADF, 'send', `fd ${fd}`);
        return call(() => n.sendPacket(w, packet), `fd ${fd}`) >= 0;
      },
      whenWritable: (cb) => {
        if (closed) return;
        writers.push(cb);
        if (writers.length === 1) interest();
      },
      pause: () => {
        if (closed || !reading) return;
        reading = false;
        interest();
      },
      resume: () => {
        if (closed || reading) return;
        reading = true;
        interest();
      },
      shutdown: (how) => {
        if (!closed) call(() => n.shutdownPackets(w, how), `fd ${fd}`);
      },
      close: () => {
        if (closed) return;
        closed = true;
        writers = [];
        n.closePackets(w);
      },
    };
  }

  run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = nodeSpawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d) => out.push(d));
      child.stderr!.on('data', (d) => err.push(d));
      child.on('error', reject);
      child.on('close', (code, signal) =>
        resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
      );
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input ?? undefined);
    });
  }

  spawn(cmd: string, args: string[], opts: SpawnOptions) {
    return nodeSpawn(cmd, args, opts);
  }

  // posix_spawn from the addon (host.c): no fork of the daemon's 80 MB,
  // where Node's spawn takes 2–8 ms with the event loop blocked.
  launch(cmd: string, args: string[], opts: LaunchOptions): Launched {
    const envp = Object.entries(opts.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    let settle!: (e: { code: number | null; signal: number | null }) => void;
    const exit = new Promise<{ code: number | null; signal: number | null }>((r) => (settle = r));
    const [pid, ...fds] = call(
      () => load().spawn(cmd, [cmd, ...args], envp, opts.stdio.map((s) => (s === 'pipe' ? -2 : -1)), (code, signal) => settle({ code: code < 0 ? null : code, signal: signal || null }), opts.cwd ?? ''),
      cmd,
    );
    const stdio = fds.map((fd) => (fd >= 0 ? new net.Socket({ fd, readable: true, writable: true }) : null));
    return { pid, stdio, exit };
  }

  kill(pid: number, signal: NodeJS.Signals | number): boolean {
    try {
      process.kill(pid, signal);
      return true;
    } catch (err: any) {
      if (err.code === 'ESRCH') return false;
      throw err;
    }
  }

  // A zombie (exited, not yet reaped) is not alive, though kill(pid, 0)
  // succeeds on it.
  isAlive(pid: number): boolean {
    if (!(pid > 0)) return false;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
}
