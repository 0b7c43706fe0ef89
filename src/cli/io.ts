// Terminal input shared by commands: TTY checks, line and password
// prompts, docker's y/N confirmation, stdin slurping, and Go's wording for
// system errors.
import type { Readable, Writable } from 'node:stream';
import { StatusError, type Context } from './command';

export function isTTY(s: Readable | Writable): boolean {
  return (s as { isTTY?: boolean }).isTTY === true;
}

// The message Go's syscall.Errno prints for a Node error code.
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

// "open x: no such file or directory", as Go's *PathError.
export function pathError(op: string, file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const text = (e.code && ERRNO_TEXT[e.code]) || e.message;
  return new Error(`${op} ${file}: ${text}`);
}

// Reads one line (without its newline) from `input`; undefined at EOF.
export function readLine(input: Readable): Promise<string | undefined> {
  if (input.readableEnded) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let buf = '';
    const cleanup = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
    };
    const onData = (d: Buffer | string) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i < 0) return;
      cleanup();
      const rest = buf.slice(i + 1);
      if (rest) input.unshift(Buffer.from(rest));
      resolve(buf.slice(0, i).replace(/\r$/, ''));
    };
    const onEnd = () => {
      cleanup();
      resolve(buf.length ? buf : undefined);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}

// Ctrl-C at a password prompt (raw mode: no SIGINT): exit 130 like a shell.
export class PromptCancelled extends StatusError {
  constructor() {
    super(130);
    this.name = 'PromptCancelled';
  }
}

// Reads a password from a terminal with echo off (raw mode); from anything
// else, a plain line.
export function readPassword(input: Readable): Promise<string | undefined> {
  const tty = input as Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => void };
  if (!tty.isTTY || !tty.setRawMode) return readLine(input);
  return new Promise((resolve, reject) => {
    let buf = '';
    tty.setRawMode!(true);
    const done = (v: string | undefined, err?: Error) => {
      input.off('data', onData);
      tty.setRawMode!(false);
      input.pause();
      if (err) reject(err);
      else resolve(v);
    };
    const onData = (d: Buffer | string) => {
      for (const ch of d.toString()) {
        if (ch === '\r' || ch === '\n') return done(buf);
        if (ch === '\x03') return done(undefined, new PromptCancelled());
        if (ch === '\x04') {
          if (!buf) return done(undefined);
          continue;
        }
        if (ch === '\x7f' || ch === '\b') {
          buf = Array.from(buf).slice(0, -1).join('');
          continue;
        }
        if (ch === '\x15') {
          buf = '';
          continue;
        }
        buf += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

export async function readAllText(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

// docker's prompt.Confirm: the question, " [y/N] ", and one line of stdin.
export async function confirm(ctx: Context, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  const answer = await readLine(ctx.in);
  return (answer ?? '').trim().toLowerCase() === 'y';
}
