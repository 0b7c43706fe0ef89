import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

// Metadata writes are atomic: write a temp file, fsync, rename, fsync the dir.
// A crash leaves either the old file or the new one, never a torn one.
export async function writeFileAtomic(file: string, data: string | Buffer, opts: { sync?: boolean } = {}): Promise<void> {
  const sync = opts.sync !== false;
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    try {
      await fh.writeFile(data);
      if (sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    // A full disk fails the write: the partial temp file must not keep the space.
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (sync) await syncDir(path.dirname(file));
}

export function writeFileAtomicSync(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), 'r');
  try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

export async function readJSON<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function exists(p: string): Promise<boolean> {
  try { await fsp.lstat(p); return true; } catch { return false; }
}
