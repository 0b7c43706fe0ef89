// Terminal and file helpers shared by commands: TTY checks, line and
// password prompts, stdin slurping, docker's atomic -o output files, and
// Go's wording for system errors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { StatusError, type Context } from './command';
import { ConfigFile, configDir } from './config';

const writeAsync = promisify(fs.write) as (fd: number, buf: Buffer, off: number, len: number) => Promise<{ bytesWritten: number }>;

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

// Loads config.json; a broken file is a warning (docker carries on without it).
export function loadConfig(ctx: Context): ConfigFile {
  const dir = configDir(ctx.env, ctx.configDir);
  try {
    return ConfigFile.load(dir);
  } catch (e) {
    ctx.err.write(`WARNING: Error ${(e as Error).message}\n`);
    return ConfigFile.empty(dir);
  }
}

// moby/sys/atomicwriter's checks on an output path.
export function validateDestination(file: string): void {
  if (file === '') throw new Error('file name is empty');
  const dir = path.dirname(file);
  if (dir !== '' && dir !== '.' && dir !== '..') {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      throw new Error(`invalid output path: ${pathError('stat', dir, e).message}`);
    }
    if (!st.isDirectory()) throw new Error(`invalid output path: stat ${dir}: not a directory`);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`failed to stat output path: ${pathError('lstat', file, e).message}`);
  }
  if (st.isFile()) {
    if (st.mode & 0o4000) throw new Error('cannot write to a setuid file');
    if (st.mode & 0o2000) throw new Error('cannot write to a setgid file');
    if (st.mode & 0o1000) throw new Error('cannot write to a sticky bit file');
    return;
  }
  if (st.isDirectory()) throw new Error('cannot write to a directory');
  if (st.isSymbolicLink()) throw new Error('cannot write to a symbolic link directly');
  if (st.isFIFO()) throw new Error('cannot write to a named pipe (FIFO)');
  if (st.isSocket()) throw new Error('cannot write to a socket');
  if (st.isCharacterDevice()) throw new Error('cannot write to a character device file');
  if (st.isBlockDevice()) throw new Error('cannot write to a block device file');
  throw new Error(`unknown file mode: ${st.mode.toString(8)}`);
}

// An output file that appears only when complete: a temp file next to it
// (".tmp-<name><random>", mode 0600) renamed over it on commit.
export class AtomicFile {
  readonly target: string;
  readonly tmp: string;
  private fd: number;

  private constructor(target: string, tmp: string, fd: number) {
    this.target = target;
    this.tmp = tmp;
    this.fd = fd;
  }

  // Throws "<what>: <reason>" like docker ("failed to save image: …").
  static create(file: string, what: string): AtomicFile {
    try {
      validateDestination(file);
      const target = path.resolve(file);
      const dir = path.dirname(target);
      for (let i = 0; ; i++) {
        const tmp = path.join(dir, `.tmp-${path.basename(file)}${Math.floor(Math.random() * 1e9)}`);
        try {
          return new AtomicFile(target, tmp, fs.openSync(tmp, 'wx', 0o600));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw pathError('open', tmp, e);
        }
      }
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
  }

  // Copies `src` into the file; renames it into place only if all went well.
  async fill(src: Readable): Promise<void> {
    try {
      for await (const chunk of src) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        let off = 0;
        while (off < buf.length) off += (await writeAsync(this.fd, buf, off, buf.length - off)).bytesWritten;
      }
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = -1;
      fs.chmodSync(this.tmp, 0o600);
      fs.renameSync(this.tmp, this.target);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  abort(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = -1;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

// Copies a response body to stdout (which stays open), waiting for drains.
export async function copyToOut(src: Readable, out: Writable): Promise<void> {
  for await (const chunk of src) {
    if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        out.off('drain', onDrain);
        out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      out.once('drain', onDrain);
      out.once('error', done);
    });
  }
}
