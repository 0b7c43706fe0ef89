// Every kernel and process side effect the engine makes goes through Host,
// so engine logic can be unit-tested with a fake (see test/unit/host/fake-host.ts).
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Duplex } from 'node:stream';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Host {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags?: number): void;
  // userns-remap: a mount made with the filesystem ids (fsuid, fsgid)
  // (overlayfs works in its layers with its mounter's ids), and an
  // idmapped bind of source at target (ids 0..size-1 seen as uid.., gid..).
  mountAs(ids: { uid: number; gid: number }, source: string, target: string, fstype: string | null, flags: number, data: string | null): void;
  idmapMount(source: string, target: string, map: { uid: number; gid: number; size: number }): void;
  // `mkdir -p` (absolute path) with those filesystem ids: a directory made in a remapped root.
  mkdirAs(ids: { uid: number; gid: number }, path: string, mode: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  chroot(path: string): void;
  // conmon's attach socket is SOCK_SEQPACKET, which Node cannot open itself.
  seqpacketConnect(path: string): number;
  shutdown(fd: number, how: number): void;
  // Event-driven I/O on a packet socket (from seqpacketConnect), which it
  // takes over: each packet is read on the event loop as it arrives and
  // handed to onPacket; onEnd is called once, when the peer closes (no
  // error) or the socket fails. No thread blocks while nothing arrives.
  watchPackets(fd: number, maxPacket: number, onPacket: (packet: Buffer) => void, onEnd: (err?: NodeJS.ErrnoException) => void): PacketWatch;
  // The bytes written to a pipe (or socket) that its reader has not taken yet.
  unreadBytes(fd: number): number;
  // Runs a program to completion and collects its output.
  run(cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  spawn(cmd: string, args: string[], opts: SpawnOptions): ChildProcess;
  // Starts a long-lived helper (conmon, berth-logger) as a session of its
  // own, without forking the daemon (see LaunchOptions). Throws when the
  // program cannot be run (ENOENT, EACCES).
  launch(cmd: string, args: string[], opts: LaunchOptions): Launched;
  // Signals a process; false when it no longer exists.
  kill(pid: number, signal: NodeJS.Signals | number): boolean;
  // Whether the process exists and has not exited (a zombie has).
  isAlive(pid: number): boolean;
}

export interface LaunchOptions {
  env: NodeJS.ProcessEnv;
  // The child's fds 0..n-1: /dev/null, or one end of a socket pair whose
  // other end is in Launched.stdio (what Node's spawn makes for 'pipe').
  stdio: ('ignore' | 'pipe')[];
  // The child's working directory (the daemon's when not given).
  cwd?: string;
}

export interface Launched {
  readonly pid: number;
  // The daemon's end of each 'pipe', by the child's fd; null elsewhere.
  readonly stdio: (Duplex | null)[];
  // Settles once the process has exited and been reaped (a signal's
  // number, or null). Watching it never keeps the daemon alive.
  readonly exit: Promise<{ code: number | null; signal: number | null }>;
}

export interface PacketWatch {
  // Sends one packet without blocking; false when the socket is full (then
  // whenWritable says when to try again). Throws when the peer is gone.
  send(packet: Buffer): boolean;
  whenWritable(cb: () => void): void;
  // Stops and restarts reading (backpressure: the consumer is full).
  pause(): void;
  resume(): void;
  shutdown(how: number): void;
  // Stops watching and closes the socket; nothing is delivered after it.
  close(): void;
}

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 0x2;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
