// Every kernel and process side effect the engine makes goes through Host,
// so engine logic can be unit-tested with a fake (see test/unit/host/fake-host.ts).
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Host {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags?: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  chroot(path: string): void;
  // conmon's attach socket is SOCK_SEQPACKET, which Node cannot open itself.
  seqpacketConnect(path: string): number;
  shutdown(fd: number, how: number): void;
  // Runs a program to completion and collects its output.
  run(cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  spawn(cmd: string, args: string[], opts: SpawnOptions): ChildProcess;
  // Signals a process; false when it no longer exists.
  kill(pid: number, signal: NodeJS.Signals | number): boolean;
  // Whether the process exists and has not exited (a zombie has).
  isAlive(pid: number): boolean;
}

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 0x2;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
