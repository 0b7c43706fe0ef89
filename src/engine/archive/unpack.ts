// Applies a layer tar to "/". Runs ONLY inside the berth-unpack helper after
// it has chrooted into the layer directory: every path below is resolved by
// the kernel against that root, so "..", absolute names and symlinks all stay
// inside it. Never call this in the daemon process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { TarHeader as Headers } from './pax';
import type { Host } from '../../host/index';
import { BadNameError, normalizeName, OVERLAY_OPAQUE_XATTR, whiteoutOf, xattrAllowed } from './names';
import { BadPaxError, paxAwareExtract } from './pax';

export interface ApplyStats {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  devices: number; // char/block devices and FIFOs
  whiteouts: number;
  opaques: number;
  bytes: number; // regular file content written
  skippedXattrs: number; // xattrs refused by policy or by the filesystem
}

// The archive itself is at fault (as opposed to the disk or the host).
export class BadArchiveError extends Error {}

// errno codes that a hostile or broken entry can cause: the archive's fault.
const ARCHIVE_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ELOOP', 'ENAMETOOLONG', 'EPERM', 'EINVAL', 'ENOTEMPTY', 'EMLINK', 'E2BIG', 'ERANGE', 'EXDEV']);

export function isArchiveFault(err: any): boolean {
  return (
    err instanceof BadArchiveError ||
    err instanceof BadNameError ||
    err instanceof BadPaxError ||
    err?.code === 'ERR_INVALID_ARG_VALUE' ||
    (typeof err?.code === 'string' && ARCHIVE_ERRNOS.has(err.code))
  );
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const XATTR_PAX = 'SCHILY.xattr.';
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  atime: number; // seconds
  mtime: number;
  xattrs: Array<[string, Buffer]>;
}

function paxNumber(pax: Map<string, Buffer>, key: string): number | undefined {
  const v = pax.get(key);
  if (v === undefined || v.length === 0) return undefined;
  const n = Number(v.toString('latin1'));
  if (!Number.isFinite(n)) throw new BadArchiveError(`bad PAX ${key}`);
  return n;
}

function id(n: number | undefined, what: string): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xfffffffe) throw new BadArchiveError(`bad ${what} ${v}`);
  return v;
}

function metaOf(h: Headers, pax: Map<string, Buffer>): Meta {
  let mtime = paxNumber(pax, 'mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
  if (!Number.isFinite(mtime)) mtime = 0;
  const xattrs: Array<[string, Buffer]> = [];
  for (const [k, v] of pax) if (k.startsWith(XATTR_PAX)) xattrs.push([k.slice(XATTR_PAX.length), v]);
  return {
    mode: (h.mode ?? 0) & 0o7777,
    uid: id(paxNumber(pax, 'uid') ?? h.uid, 'uid'),
    gid: id(paxNumber(pax, 'gid') ?? h.gid, 'gid'),
    atime: paxNumber(pax, 'atime') ?? mtime,
    mtime,
    xattrs,
  };
}

// Without throwIfNoEntry a missing path costs a thrown Error, which showed
// up as a tenth of unpack time.
function lstatOrNull(p: string): fs.Stats | null {
  return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

const IS_ROOT = process.getuid?.() === 0;

// An entry's data; read errors (short data, corrupt stream) are the archive's.
async function* read(data: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of data) yield chunk as Buffer;
  } catch (err: any) {
    throw new BadArchiveError(`malformed tar: ${err?.message ?? err}`);
  }
}

async function drain(data: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of read(data));
}

export class Unpacker {
  readonly stats: ApplyStats = { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, devices: 0, whiteouts: 0, opaques: 0, bytes: 0, skippedXattrs: 0 };
  // Directory times are set last: creating children would change them again.
  private dirTimes: Array<[string, number, number]> = [];
  // Paths known to be directories, so most entries skip the parent mkdir
  // (inode syscalls are the cost of unpacking). Forgotten when anything
  // directory-shaped is removed.
  private dirs = new Set<string>(['/']);

  constructor(private host: Host) {}

  // Makes room for a new non-directory entry at p: whatever is there goes
  // (a directory with its whole tree; symlinks are removed, never followed),
  // and missing parents are created as in Docker (0755, root).
  private clear(p: string): void {
    if (p === '/') throw new BadArchiveError('entry replaces the layer root');
    const st = lstatOrNull(p);
    if (!st) this.parent(p);
    else {
      if (st.isDirectory()) fs.rmSync(p, { recursive: true, force: true });
      else fs.unlinkSync(p);
      // A removed directory or symlink may have been a path to known dirs.
      this.dirs.clear();
      this.dirs.add('/');
    }
  }

  private parent(p: string): void {
    const dir = path.posix.dirname(p);
    if (this.dirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.dirs.add(dir);
  }

  private setXattrs(p: string, xattrs: Array<[string, Buffer]>): void {
    for (const [name, value] of xattrs) {
      if (!xattrAllowed(name)) {
        this.stats.skippedXattrs++;
        continue;
      }
      try {
        this.host.lsetxattr(p, name, value);
      } catch (err: any) {
        // Like Docker: filesystems without xattrs, and user.* on symlinks.
        if (err.code === 'ENOTSUP' || err.code === 'EOPNOTSUPP' || err.code === 'EPERM') this.stats.skippedXattrs++;
        else throw err;
      }
    }
  }

  // chown before chmod (chown clears setuid/setgid) and before xattrs
  // (chown drops security.capability).
  private finishNode(p: string, m: Meta, chmod: boolean): void {
    fs.lchownSync(p, m.uid, m.gid);
    if (chmod) fs.chmodSync(p, m.mode); // p was just made here and is not a symlink
    this.setXattrs(p, m.xattrs);
    fs.lutimesSync(p, m.atime, m.mtime);
  }

  async entry(h: Headers, data: AsyncIterable<unknown>, pax: Map<string, Buffer>): Promise<void> {
    this.stats.entries++;
    const p = normalizeName(h.name);
    if ([...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) throw new BadArchiveError('sparse files are not supported');
    const wo = whiteoutOf(p);
    if (wo) {
      await drain(data);
      if (wo.kind === 'whiteout') {
        this.clear(wo.target);
        this.host.mknod(wo.target, S_IFCHR, 0, 0); // overlayfs whiteout
        const m = metaOf(h, pax);
        fs.lchownSync(wo.target, m.uid, m.gid);
        // The entry's time, not "now": packing this layer again is then reproducible.
        fs.lutimesSync(wo.target, m.atime, m.mtime);
        this.stats.whiteouts++;
      } else if (wo.kind === 'opaque') {
        const st = lstatOrNull(wo.dir);
        if (!st) fs.mkdirSync(wo.dir, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) throw new BadArchiveError(`opaque marker in non-directory ${wo.dir}`);
        this.host.lsetxattr(wo.dir, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
        this.stats.opaques++;
      }
      return;
    }

    const m = metaOf(h, pax);
    switch (h.type) {
      case 'file':
      case 'contiguous-file':
        return this.file(p, m, data);
      case 'directory': {
        await drain(data);
        const st = lstatOrNull(p);
        if (!st?.isDirectory()) {
          this.clear(p);
          fs.mkdirSync(p, 0o700);
        }
        this.dirs.add(p);
        this.finishNode(p, m, true);
        this.dirTimes.push([p, m.atime, m.mtime]);
        this.stats.dirs++;
        return;
      }
      case 'symlink': {
        await drain(data);
        const target = h.linkname ?? '';
        if (target === '' || target.includes('\0')) throw new BadArchiveError('symlink with an empty or invalid target');
        this.clear(p);
        fs.symlinkSync(target, p);
        this.finishNode(p, m, false);
        this.stats.symlinks++;
        return;
      }
      case 'link': {
        await drain(data);
        const target = normalizeName(h.linkname ?? '');
        if (target === '/' || target === p) throw new BadArchiveError(`bad hardlink target ${JSON.stringify(h.linkname)}`);
        this.clear(p);
        // link(2) does not follow a symlink target; the chroot confines the rest.
        fs.linkSync(target, p);
        this.stats.hardlinks++;
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(data);
        const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        this.clear(p);
        this.host.mknod(p, kind | m.mode, h.devmajor ?? 0, h.devminor ?? 0);
        this.finishNode(p, m, true);
        this.stats.devices++;
        return;
      }
      default:
        throw new BadArchiveError(`unsupported entry type ${h.type ?? 'unknown'}`);
    }
  }

  private async file(p: string, m: Meta, data: AsyncIterable<unknown>): Promise<void> {
    this.clear(p);
    // O_EXCL|O_NOFOLLOW: never write into something that was already there
    // (a device node, a FIFO, a symlink).
    // Created with its final mode (umask is 0); a file owned by anyone but
    // root needs chown, which clears setuid/setgid, so chmod follows it.
    const fd = fs.openSync(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, m.mode & 0o7777);
    try {
      for await (const buf of read(data)) {
        for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
        this.stats.bytes += buf.length;
      }
      if (m.uid !== 0 || m.gid !== 0 || !IS_ROOT) {
        fs.fchownSync(fd, m.uid, m.gid);
        fs.fchmodSync(fd, m.mode);
      }
      this.setXattrs(p, m.xattrs);
      fs.futimesSync(fd, m.atime, m.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.stats.files++;
  }

  finish(): ApplyStats {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, atime, mtime] = this.dirTimes[i];
      // A later entry may have replaced the directory.
      if (lstatOrNull(p)?.isDirectory()) fs.lutimesSync(p, atime, mtime);
    }
    return this.stats;
  }
}

// Reads the whole tar from input and applies it to "/" (the chroot).
export async function unpack(input: Readable, host: Host): Promise<ApplyStats> {
  const { extract, takePax } = paxAwareExtract();
  const unpacker = new Unpacker(host);
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract as any);
  const it = extract[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<any>;
    try {
      next = await it.next();
    } catch (err: any) {
      throw new BadArchiveError(`malformed tar: ${err?.message ?? err}`);
    }
    if (next.done) break;
    const entry = next.value;
    try {
      await unpacker.entry(entry.header, entry, takePax());
    } catch (err: any) {
      it.return?.().catch(() => {});
      const msg = `entry ${JSON.stringify(entry.header.name)}: ${err?.message ?? err}`;
      if (isArchiveFault(err)) throw new BadArchiveError(msg);
      throw Object.assign(new Error(msg), { code: err?.code });
    }
  }
  return unpacker.finish();
}
