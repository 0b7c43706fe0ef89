// `docker cp` and `docker diff` inside a container's root: reading a few
// files and walking a writable layer, which run in the berth-pack helper
// after it has chrooted into the root (or the upper dir), so every name,
// ".." and symlink, even one a running container swaps in meanwhile,
// resolves inside it: the kernel confines the paths, not string checks
// here. Stat and the tar of a path are native (src/host/native/cp-main.c),
// for speed. The pure parts (Go's path and FileMode rules, the stat header)
// are shared with the daemon.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Host } from '../../host/index';
import { base } from '../../util/gopath';
import { OVERLAY_OPAQUE_XATTR } from './names';

// Docker's ContainerPathStat; mode in Go's os.FileMode bits.
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string; // RFC 3339 with nanoseconds, as Go's time.Time marshals
  linkTarget: string;
}

// Go's os.FileMode type and permission bits.
export const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

const S_IFMT = 0o170000;

// A stat mode_t as Go's os.FileMode (what fillFileStatFromSys makes).
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & S_IFMT) {
    case 0o040000: m += GO_MODE.dir; break;
    case 0o120000: m += GO_MODE.symlink; break;
    case 0o060000: m += GO_MODE.device; break;
    case 0o020000: m += GO_MODE.device + GO_MODE.charDevice; break;
    case 0o010000: m += GO_MODE.namedPipe; break;
    case 0o140000: m += GO_MODE.socket; break;
  }
  if (mode & 0o4000) m += GO_MODE.setuid;
  if (mode & 0o2000) m += GO_MODE.setgid;
  if (mode & 0o1000) m += GO_MODE.sticky;
  return m;
}

export const isGoDir = (mode: number): boolean => mode >= GO_MODE.dir;

// The X-Docker-Container-Path-Stat header: base64 of the JSON.
export function pathStatHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

// Docker's absolute form of a cp path: filepath.Join("/", p) (cleaned, so
// "/../../etc" is "/etc"), keeping a trailing "/." or "/" the caller wrote
// (archive.PreserveTrailingDotOrSeparator): they mean "the directory's
// contents" and "must be a directory".
export function containerAbsPath(p: string): string {
  let clean = path.posix.join('/', p);
  if (clean.length > 1) clean = clean.replace(/\/+$/, '');
  if (base(clean) !== '.' && base(p) === '.') clean += clean.endsWith('/') ? '.' : '/.';
  if (!clean.endsWith('/') && p.endsWith('/')) clean += '/';
  return clean;
}

// Small files read whole (passwd and group for copyUIDGID); missing ones are
// left out.
export async function readSmallFiles(paths: string[], limit = 1 << 20): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    try {
      const fh = await fsp.open(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const st = await fh.stat();
        if (!st.isFile()) continue;
        const buf = Buffer.alloc(Math.min(st.size, limit));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        out[p] = buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fh.close();
      }
    } catch {
      // missing or unreadable: as if absent
    }
  }
  return out;
}

// One entry of an overlay writable layer, as `docker diff` needs it.
export interface UpperEntry {
  path: string; // "/a/b"
  dir: boolean;
  size: number;
  mode: number; // Go FileMode
  mtimeNs: string; // bigint as a string
  whiteout: boolean; // char 0/0
  opaque: boolean; // trusted.overlay.opaque=y
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// Walks root (an upper dir) depth first, names in byte order, as Go's
// filepath.Walk does; the root itself is not an entry.
export async function* walkUpper(root: string, host: Pick<Host, 'lgetxattr'>): AsyncGenerator<UpperEntry> {
  const visit = async function* (abs: string, rel: string): AsyncGenerator<UpperEntry> {
    let names: string[];
    try {
      names = (await fsp.readdir(abs)).sort(byBytes);
    } catch (err: any) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return; // changed under us
      throw err;
    }
    for (const n of names) {
      const childAbs = path.posix.join(abs, n);
      const childRel = `${rel}/${n}`;
      let st: fs.BigIntStats;
      try {
        st = await fsp.lstat(childAbs, { bigint: true });
      } catch (err: any) {
        if (err.code === 'ENOENT') continue;
        throw err;
      }
      const dir = st.isDirectory();
      let opaque = false;
      if (dir) {
        try {
          opaque = host.lgetxattr(childAbs, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
        } catch {
          opaque = false;
        }
      }
      yield {
        path: childRel,
        dir,
        size: Number(st.size),
        mode: goFileMode(Number(st.mode)),
        mtimeNs: st.mtimeNs.toString(),
        whiteout: st.isCharacterDevice() && st.rdev === 0n,
        opaque,
      };
      if (dir) yield* visit(childAbs, childRel);
    }
  };
  yield* visit(root, '');
}
