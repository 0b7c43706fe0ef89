// Packs a directory tree into a tar. In berthd this runs inside the
// berth-pack helper chrooted into the tree (root "/"), so a container that
// swaps a path for a symlink while we walk cannot make us read host files.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Pack } from 'tar-stream';
import type { Host } from '../../host/index';
import { OVERLAY_OPAQUE_XATTR, opaqueName, whiteoutName, xattrAllowed } from './names';
import { encodePax, paxAwarePack, type TarHeader as Headers } from './pax';

export interface PackOptions {
  // Overlay upper dir: char 0/0 -> ".wh.NAME", opaque dir -> ".wh..wh..opq".
  whiteouts: boolean;
  // userns-remap: the tree shows host ids of a remapped range (uid.., gid..,
  // size ids each); the tar carries them as the container sees them, ids
  // outside the range as the overflow id 65534 (as the kernel shows them).
  idmap?: IdMap;
}

export interface IdMap {
  uid: number;
  gid: number;
  size: number;
}

export const OVERFLOW_ID = 65534;

// A host id as the remapped container sees it.
export function toContainerId(id: number, base: number, size: number): number {
  return id >= base && id - base < size ? id - base : OVERFLOW_ID;
}

// "UID:GID:SIZE", as the helpers take it.
export function parseIdMap(v: string): IdMap {
  const m = /^(\d+):(\d+):(\d+)$/.exec(v);
  if (!m) throw new Error(`invalid id map ${JSON.stringify(v)}: expected UID:GID:SIZE`);
  return { uid: Number(m[1]), gid: Number(m[2]), size: Number(m[3]) };
}

const MAX_USTAR_ID = 0o777777; // tar-stream writes ids as 6 octal digits
const CHUNK = 256 * 1024;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

// Whether tar-stream can store name in the ustar name/prefix fields (same
// split rule as its encoder), so it never adds a PAX header of its own.
export function fitsUstarName(name: string): boolean {
  if (!isAscii(name)) return false;
  let rest = name;
  let prefix = '';
  while (rest.length > 100) {
    const i = rest.indexOf('/');
    if (i === -1) return false;
    prefix += prefix ? '/' + rest.slice(0, i) : rest.slice(0, i);
    rest = rest.slice(i + 1);
  }
  return rest.length <= 100 && prefix.length <= 155;
}

function placeholder(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
}

// Moves whatever ustar cannot hold (long or non-ASCII names, big ids,
// xattrs) into PAX records; returns the raw PAX data or null.
export function paxFor(h: Headers, xattrs: Array<[string, Buffer]>): Buffer | null {
  const records: Array<[string, Buffer | string]> = [];
  if (!fitsUstarName(h.name)) {
    records.push(['path', h.name]);
    h.name = placeholder(h.name);
  }
  if (h.linkname && !(isAscii(h.linkname) && h.linkname.length <= 100)) {
    records.push(['linkpath', h.linkname]);
    h.linkname = placeholder(h.linkname);
  }
  if ((h.uid ?? 0) > MAX_USTAR_ID) records.push(['uid', String(h.uid)]);
  if ((h.gid ?? 0) > MAX_USTAR_ID) records.push(['gid', String(h.gid)]);
  for (const [name, value] of xattrs) records.push([`SCHILY.xattr.${name}`, value]);
  return records.length ? encodePax(records) : null;
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function splitDev(rdev: number): [number, number] {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

export function packTree(root: string, host: Host, opts: PackOptions): Pack {
  const { pack, withPax } = paxAwarePack();
  const links = new Map<string, string>(); // "dev:ino" -> first name packed

  const xattrsOf = (abs: string): Array<[string, Buffer]> => {
    let names: string[];
    try {
      names = host.llistxattr(abs);
    } catch (err: any) {
      if (err.code === 'ENOTSUP' || err.code === 'EOPNOTSUPP') return [];
      throw err;
    }
    const out: Array<[string, Buffer]> = [];
    for (const name of names.filter(xattrAllowed).sort()) {
      const v = host.lgetxattr(abs, name);
      if (v) out.push([name, v]);
    }
    return out;
  };

  const put = (h: Headers, xattrs: Array<[string, Buffer]> = []): Promise<void> =>
    new Promise((resolve, reject) => {
      const pax = paxFor(h, xattrs);
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      // An empty file entry still needs a (zero-byte) body to complete.
      if (h.type === 'file') pack.entry(withPax(h, pax), Buffer.alloc(0), done);
      else pack.entry(withPax(h, pax), done);
    });

  const base = (st: fs.Stats): Pick<Headers, 'mode' | 'uid' | 'gid' | 'mtime'> => ({
    mode: st.mode & 0o7777,
    uid: opts.idmap ? toContainerId(st.uid, opts.idmap.uid, opts.idmap.size) : st.uid,
    gid: opts.idmap ? toContainerId(st.gid, opts.idmap.gid, opts.idmap.size) : st.gid,
    // Whole seconds, like Docker: reproducible and fits ustar.
    mtime: new Date(Math.max(0, Math.floor(st.mtimeMs / 1000)) * 1000),
  });

  const putFile = async (abs: string, name: string, st: fs.Stats): Promise<void> => {
    // O_NONBLOCK: a FIFO swapped in after lstat must not hang us; fstat then
    // checks we opened the very file we walked.
    const fh = await fsp.open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      const fst = await fh.stat();
      if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) throw new Error(`${name} changed while packing`);
      const h: Headers = { name, type: 'file', size: fst.size, ...base(fst) };
      const pax = paxFor(h, xattrsOf(abs));
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(withPax(h, pax), (err) => (err ? reject(err) : resolve()));
        (async () => {
          let off = 0;
          while (off < fst.size) {
            const buf = Buffer.allocUnsafe(Math.min(CHUNK, fst.size - off));
            const { bytesRead } = await fh.read(buf, 0, buf.length, off);
            if (bytesRead === 0) throw new Error(`${name} shrank while packing`);
            off += bytesRead;
            if (!sink.write(buf.subarray(0, bytesRead))) await new Promise<void>((r) => sink.once('drain', () => r()));
          }
          sink.end(undefined);
        })().catch((err) => {
          sink.destroy(err);
          reject(err);
        });
      });
    } finally {
      await fh.close();
    }
  };

  const visit = async (abs: string, rel: string): Promise<void> => {
    const names = (await fsp.readdir(abs)).sort(byBytes);
    for (const n of names) {
      const childAbs = path.posix.join(abs, n);
      const childRel = rel ? `${rel}/${n}` : n;
      const st = await fsp.lstat(childAbs);
      if (st.isDirectory()) {
        await putDir(childAbs, childRel, st);
        await visit(childAbs, childRel);
        continue;
      }
      if (opts.whiteouts && st.isCharacterDevice() && st.rdev === 0) {
        // Overlay may hardlink whiteouts to one shared inode: never a link here.
        await put({ name: whiteoutName(childRel), type: 'file', size: 0, ...base(st), mode: 0o600 });
        continue;
      }
      if (st.isSocket()) continue; // sockets do not travel in tars
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await put({ name: childRel, type: 'link', linkname: first, ...base(st) });
          continue;
        }
        links.set(key, childRel);
      }
      if (st.isFile()) await putFile(childAbs, childRel, st);
      else if (st.isSymbolicLink()) {
        await put({ name: childRel, type: 'symlink', linkname: await fsp.readlink(childAbs), ...base(st) }, xattrsOf(childAbs));
      } else {
        const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
        const [devmajor, devminor] = st.isFIFO() ? [0, 0] : splitDev(st.rdev);
        await put({ name: childRel, type, devmajor, devminor, ...base(st) }, xattrsOf(childAbs));
      }
    }
  };

  const putDir = async (abs: string, rel: string, st: fs.Stats): Promise<void> => {
    let opaque = false;
    if (opts.whiteouts) opaque = host.lgetxattr(abs, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
    // The root itself is not an entry; only its opaque marker is.
    if (rel !== '') await put({ name: rel + '/', type: 'directory', ...base(st) }, xattrsOf(abs));
    if (opaque) await put({ name: opaqueName(rel), type: 'file', size: 0, ...base(st), mode: st.mode & 0o777 });
  };

  (async () => {
    const st = await fsp.lstat(root);
    if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
    await putDir(root, '', st);
    await visit(root, '');
    pack.finalize();
  })().catch((err) => pack.destroy(err));

  return pack;
}
