// The tar side of docker cp on the client: packing a local file or tree
// (go-archive's TarResourceRebase) and extracting the daemon's archive
// into a local directory (its Untar with NoLchown and
// NoOverwriteDirNonDir). tar-stream is loaded here only, so other commands
// do not pay for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { clean, join } from '../../util/gopath';
import { nameRebaser, splitPathDirEntry } from './paths';

type Header = Partial<tar.Header> & { name: string };

function entryType(st: fs.Stats): Header['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return undefined; // sockets are skipped, as docker does
}

// Tars `sourcePath` (its last element, from its parent) as docker does:
// "dir" gives "dir/", "dir/a", ...; "dir/." gives "./", "./a", ...; the
// first element renamed to `rebaseName` when given.
export function packResource(sourcePath: string, rebaseName: string): Readable {
  const [sourceDir, include] = splitPathDirEntry(sourcePath);
  const pack = tar.pack();
  const inodes = new Map<string, string>();

  const add = async (file: string, rel: string): Promise<void> => {
    const st = fs.lstatSync(file);
    const type = entryType(st);
    if (!type) return;
    let name = rel;
    if (rebaseName) name = name.replace(include, rebaseName === '/' ? '' : rebaseName);
    if (type === 'directory') name += '/';
    const header: Header = {
      name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      // Go rounds the time to the second when no format is asked for.
      mtime: new Date(Math.round(st.mtimeMs / 1000) * 1000),
      type,
      size: 0,
    };
    if (type === 'symlink') header.linkname = fs.readlinkSync(file);
    if (type === 'character-device' || type === 'block-device') {
      header.devmajor = Math.floor(st.rdev / 256) & 0xfff;
      header.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    }
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first) {
        header.type = 'link';
        header.linkname = first;
      } else inodes.set(key, name);
    }
    if (header.type === 'file') {
      header.size = st.size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        const src = fs.createReadStream(file);
        src.on('error', (e) => entry.destroy(e));
        src.pipe(entry);
      });
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
    }
    if (type === 'directory') {
      const names = fs.readdirSync(file).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
      for (const n of names) await add(path.join(file, n), rel === '.' ? `./${n}` : `${rel}/${n}`);
    }
  };

  const root = include === '.' ? sourceDir : path.join(sourceDir, include);
  add(root, include).then(() => pack.finalize(), (e) => pack.destroy(e));
  // tar-stream's streams are streamx ones; the HTTP client wants Node's.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

export class BreakoutError extends Error {}

// Every existing component of `target` below `root` must be a real
// directory (not a link the archive made): extraction never writes through
// a symlink.
function checkParents(root: string, target: string): void {
  const rel = path.relative(root, path.dirname(target));
  if (!rel) return;
  let cur = root;
  for (const part of rel.split('/')) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) throw new BreakoutError(`invalid path: ${JSON.stringify(target)} goes through the symlink ${JSON.stringify(cur)}`);
  }
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
}

// Extracts a tar stream into `dstDir`, renaming entries by each [from, to]
// of `rebases` in turn.
export async function extractTo(src: Readable, dstDir: string, rebases: [string, string][] = []): Promise<void> {
  const renamers = rebases.map(([from, to]) => nameRebaser(from, to));
  const rename = (n: string) => renamers.reduce((acc, r) => r(acc), n);
  const root = clean(dstDir);
  const extract = tar.extract();
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract);
  const dirTimes: [string, Date][] = [];
  for await (const entry of extract) {
    const h = entry.header;
    const name = rename(h.name);
    const target = join(root, name);
    if (!inside(root, target)) throw new BreakoutError(`invalid path: ${JSON.stringify(name)}`);
    checkParents(root, target);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(target);
    } catch {
      existing = undefined;
    }
    const isDir = h.type === 'directory';
    if (existing) {
      if (existing.isDirectory() && !isDir) throw new Error(`cannot overwrite directory "${target}" with non-directory "${name}"`);
      if (!existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory "${target}" with directory "${name}"`);
      if (!(existing.isDirectory() && isDir)) fs.rmSync(target, { force: true });
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!existing) fs.mkdirSync(target, { mode });
        break;
      case 'file':
      case 'contiguous-file':
        await new Promise<void>((resolve, reject) => {
          const out = fs.createWriteStream(target, { mode, flags: 'w' });
          out.on('error', reject);
          out.on('finish', resolve);
          entry.on('error', reject);
          entry.pipe(out);
        });
        break;
      case 'symlink': {
        const linkTarget = h.linkname ?? '';
        // docker: a relative link must point inside the destination.
        if (!path.isAbsolute(linkTarget) && !inside(root, join(path.dirname(target), linkTarget))) {
          throw new BreakoutError(`invalid symlink "${target}" -> "${linkTarget}"`);
        }
        fs.symlinkSync(linkTarget, target);
        break;
      }
      case 'link': {
        const from = join(root, rename(h.linkname ?? ''));
        if (!inside(root, from)) throw new BreakoutError(`invalid hardlink "${target}" -> "${h.linkname}"`);
        fs.linkSync(from, target);
        break;
      }
      case 'fifo':
      case 'character-device':
      case 'block-device':
        // Node cannot make these; docker skips nothing, so say so.
        throw new Error(`cannot create ${h.type} ${JSON.stringify(name)}: not supported by berth`);
      default:
        // PAX and GNU metadata entries are consumed by the reader; anything
        // else is skipped, as Go's Untar does for unknown types.
        break;
    }
    entry.resume();
    if (h.type === 'symlink') {
      const t = h.mtime ?? new Date();
      try {
        fs.lutimesSync(target, t, t);
      } catch {
        // a dangling link's time is not essential
      }
    } else if (h.type !== 'link') {
      fs.chmodSync(target, mode);
      const t = h.mtime ?? new Date();
      if (isDir) dirTimes.push([target, t]);
      else fs.utimesSync(target, t, t);
    }
  }
  // Directories last: their contents changed their times.
  for (const [d, t] of dirTimes.reverse()) fs.utimesSync(d, t, t);
}

