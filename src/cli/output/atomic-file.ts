// docker's atomic -o output files (moby/sys/atomicwriter): a temp file next
// to the target, renamed over it only once complete.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { pathError } from '../io';

const writeAsync = promisify(fs.write) as (fd: number, buf: Buffer, off: number, len: number) => Promise<{ bytesWritten: number }>;

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
