// COPY and ADD sources: resolving them in a root (the build context, or a
// stage's or image's filesystem mounted read-only), globs, Docker's
// directory semantics, the content hash the cache key takes, and the tar
// of what lands under the destination. Paths are resolved inside the root
// (a symlink never leads out of it) and the walk never follows a symlink:
// links are copied as links.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { finished, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { resolveInRootSync } from '../../util/rootfs';
import type { IgnoreMatcher } from '../../util/dockerignore';

export class CopyError extends Error {}

// One thing to copy: a file, dir, or symlink on the host, or literal data
// (a heredoc), landing at `target` (relative to the destination's base).
export interface CopyEntry {
  target: string; // relative, "/"-separated, "" for the base itself
  kind: 'file' | 'dir' | 'symlink' | 'data';
  host?: string; // where it is read
  data?: Buffer;
  mode: number; // permission bits
  size: number;
  linkname?: string;
  mtime: Date;
  // ADD of a local archive: extracted at target (a directory), not copied.
  extract?: boolean;
}

export interface CopyPlan {
  // Absolute destination directory the entries are relative to.
  base: string;
  entries: CopyEntry[];
  hash: string; // "file:<hex>", "dir:<hex>", "multi:<hex>"
}

const hasWildcards = (p: string) => /[*?[]/.test(p);

// Go's filepath.Match for one path element.
function elementRe(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 1);
      if (j < 0) throw new CopyError('syntax error in pattern');
      let cls = pattern.slice(i + 1, j);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += '[' + cls.replace(/\\/g, '\\\\') + ']';
      i = j;
    } else if (c === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

// Relative paths of root matching a glob, element by element.
function glob(root: string, pattern: string): string[] {
  const parts = pattern.split('/').filter((p) => p && p !== '.');
  let found = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const rel of found) {
      const dir = path.join(root, rel);
      if (!hasWildcards(part)) {
        if (lstat(path.join(dir, part))) next.push(rel ? `${rel}/${part}` : part);
        continue;
      }
      const st = lstat(dir);
      if (!st?.isDirectory()) continue;
      const re = elementRe(part);
      for (const name of fs.readdirSync(dir).sort()) if (re.test(name)) next.push(rel ? `${rel}/${name}` : name);
    }
    found = next;
  }
  return found;
}

export interface SourceOptions {
  root: string; // the context dir or a mounted filesystem
  fromContext: boolean; // messages and .dockerignore apply to the context only
  ignore?: IgnoreMatcher;
  cmd: 'COPY' | 'ADD';
  // Content hashes taken while the context was uploaded (contextSums), so
  // a cached build does not read its files again.
  sums?: ContextSums;
}

// sha256 (hex) and size of each regular file of the context tar, by its
// path once extracted under root.
export type ContextSums = Map<string, { sha256: string; size: number }>;

// Hashes the regular files of a context tar as it streams by. Resolves
// with what it saw; empty (every file is read again) if the tar cannot be
// read, or has a hard link, or a file under a symbolic link of the tar
// (the extraction may write it elsewhere). A later entry of the same name
// replaces an earlier one, as the extraction does.
export function contextSums(input: Readable, root: string): Promise<ContextSums> {
  const sums: ContextSums = new Map();
  const links = new Set<string>();
  let unsure = false;
  const name = (n: string) => path.join(root, path.posix.normalize('/' + n));
  return new Promise((resolve) => {
    const ex = tar.extract();
    ex.on('entry', (h, stream, next) => {
      const at = name(h.name);
      sums.delete(at);
      if (h.type === 'link') unsure = true;
      if (h.type === 'symlink') links.add(at);
      if (h.type === 'file') {
        for (let d = path.dirname(at); d.length > root.length; d = path.dirname(d)) if (links.has(d)) unsure = true;
      }
      if (h.type !== 'file' || unsure) {
        stream.on('end', next);
        stream.resume();
        return;
      }
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (c) => {
        size += (c as Buffer).length;
        hash.update(c as Buffer);
      });
      stream.on('end', () => {
        sums.set(at, { sha256: hash.digest('hex'), size });
        next();
      });
    });
    ex.on('finish', () => resolve(unsure ? new Map() : sums));
    ex.on('error', () => {
      input.unpipe(ex as unknown as NodeJS.WritableStream);
      input.resume();
      resolve(new Map());
    });
    // A failed upload: the extraction reports it.
    finished(input, (err) => {
      if (err) resolve(new Map());
    });
    input.pipe(ex as unknown as NodeJS.WritableStream);
  });
}

// Walks a source (file, dir or link) into entries under target.
function walk(o: SourceOptions, hostPath: string, rel: string, target: string, out: CopyEntry[]): void {
  const st = lstat(hostPath);
  if (!st) return;
  if (o.ignore && o.fromContext && rel && o.ignore.matches(rel)) {
    // An excluded dir may still hold re-included files.
    if (!(st.isDirectory() && o.ignore.hasExceptions())) return;
  }
  const base = { target, mode: st.mode & 0o7777, mtime: st.mtime };
  if (st.isSymbolicLink()) out.push({ ...base, kind: 'symlink', size: 0, linkname: fs.readlinkSync(hostPath) });
  else if (st.isFile()) out.push({ ...base, kind: 'file', host: hostPath, size: st.size });
  else if (st.isDirectory()) {
    const excluded = !!(o.ignore && o.fromContext && rel && o.ignore.matches(rel));
    if (!excluded) out.push({ ...base, kind: 'dir', size: 0 });
    for (const name of fs.readdirSync(hostPath).sort()) {
      walk(o, path.join(hostPath, name), rel ? `${rel}/${name}` : name, target ? `${target}/${name}` : name, out);
    }
  }
  // Devices, sockets and FIFOs in a context are skipped, as Docker's tarsum does.
}

export interface ResolvedSource {
  rel: string; // relative to the root; a URL's file name
  host: string;
  stat: fs.Stats;
  // ADD <url>: a downloaded file, never extracted, mode 0600 (Docker's).
  url?: boolean;
}

const DIGEST = /^(sha256|sha384|sha512):([0-9a-f]+)$/;
const DIGEST_LEN: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

// ADD --checksum: a digest, "sha256:<hex>" (or sha384, sha512).
export function checkDigest(d: string): void {
  const m = DIGEST.exec(d);
  if (!m || m[2].length !== DIGEST_LEN[m[1]]) throw new CopyError(`invalid checksum digest format: ${d}`);
}

// ADD <url>: GETs it (redirects followed) into dir, checks --checksum
// against what came, and names it as Docker does: the URL path's last
// element, else the Content-Disposition filename. The file's time is the
// Last-Modified header's, when there is one.
export async function download(url: string, dir: string, checksum?: string): Promise<ResolvedSource> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    throw new CopyError(`ADD failed: failed to GET ${url}: ${cause?.message ?? (e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new CopyError(`ADD failed: failed to GET ${url} with status ${res.status} ${res.statusText}`);
  }
  let name = '';
  try {
    name = path.posix.basename(new URL(res.url || url).pathname);
  } catch {
    name = '';
  }
  if (!name || name === '/') {
    const cd = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(res.headers.get('content-disposition') ?? '');
    name = cd ? path.posix.basename(decodeURIComponent(cd[1])) : '';
  }
  if (!name || name === '.' || name === '..') throw new CopyError(`ADD failed: cannot determine filename from url: ${url}`);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'download');
  const algo = checksum ? DIGEST.exec(checksum)![1] : 'sha256';
  const h = createHash(algo);
  const out = fs.createWriteStream(file, { mode: 0o600 });
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      h.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } catch (e) {
    out.destroy();
    throw new CopyError(`ADD failed: failed to GET ${url}: ${(e as Error).message}`);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const got = `${algo}:${h.digest('hex')}`;
  if (checksum && got !== checksum) throw new CopyError(`digest mismatch ${checksum}: ${got}`);
  const lm = res.headers.get('last-modified');
  if (lm && !Number.isNaN(Date.parse(lm))) {
    const t = new Date(lm);
    await fsp.utimes(file, t, t);
  }
  return { rel: name, host: file, stat: fs.lstatSync(file), url: true };
}

// The sources of a COPY/ADD in the root, globs expanded.
export function resolveSources(o: SourceOptions, sources: string[]): ResolvedSource[] {
  const out: ResolvedSource[] = [];
  for (const orig of sources) {
    let p = orig.replace(/^\/+/, '').replace(/^\.\//, '');
    const clean = path.posix.normalize(p === '' ? '.' : p);
    if (o.fromContext && (clean === '..' || clean.startsWith('../'))) {
      throw new CopyError(`${o.cmd} failed: forbidden path outside the build context: ${orig} ()`);
    }
    p = clean;
    const rels = hasWildcards(p) ? glob(o.root, p) : [p === '.' ? '' : p];
    for (const rel of rels) {
      if (o.fromContext && rel && o.ignore?.matches(rel) && !hasWildcards(p)) {
        throw new CopyError(`${o.cmd} failed: file not found in build context or excluded by .dockerignore: stat ${rel}: file does not exist`);
      }
      if (o.fromContext && rel && o.ignore?.matches(rel)) continue;
      // Inside the root whatever links the path holds.
      const host = resolveInRootSync(o.root, rel);
      const stat = lstat(host);
      if (!stat) {
        if (o.fromContext) throw new CopyError(`${o.cmd} failed: file not found in build context or excluded by .dockerignore: stat ${rel || '.'}: file does not exist`);
        throw new CopyError(`${o.cmd} failed: stat ${rel || '.'}: file does not exist`);
      }
      out.push({ rel, host, stat });
    }
  }
  if (out.length === 0) throw new CopyError(`${o.cmd} failed: no source files were specified`);
  return out;
}

// Whether a file is a tar archive ADD extracts (plain or gzip).
export async function isArchive(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      const zlib = await import('node:zlib');
      const all = Buffer.alloc(Math.min((await fh.stat()).size, 64 * 1024));
      await fh.read(all, 0, all.length, 0);
      try {
        const out = zlib.gunzipSync(all, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        return out.length >= 262 && out.subarray(257, 262).toString('latin1') === 'ustar';
      } catch {
        return false;
      }
    }
    return bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

export interface PlanInput {
  sources: ResolvedSource[];
  contents: { path: string; data: string }[];
  dest: string; // absolute, as written (a trailing "/" kept)
  destIsDir: boolean; // dest exists in the image as a directory
  add: boolean; // ADD: local archives are extracted
  o: SourceOptions;
}

// Docker's rules: a directory source copies its contents; with several
// sources, or a dest ending in "/" (or being a directory), files land under
// dest by name; otherwise the one file becomes dest.
export async function plan(i: PlanInput): Promise<CopyPlan> {
  const n = i.sources.length + i.contents.length;
  const slash = i.dest.endsWith('/');
  if (n > 1 && !slash) throw new CopyError(`When using ${i.o.cmd} with more than one source file, the destination must be a directory and end with a /`);
  const asDir = slash || i.destIsDir || n > 1;
  const dest = path.posix.normalize(i.dest);
  const entries: CopyEntry[] = [];
  let base: string;
  // A lone directory source's contents land in dest, made if missing.
  const dirSource = n === 1 && i.sources.length === 1 && i.sources[0].stat.isDirectory();
  const single = n === 1 && !asDir && !dirSource;
  if (single) base = path.posix.dirname(dest);
  else base = dest;
  for (const s of i.sources) {
    const name = single ? path.posix.basename(dest) : path.posix.basename(s.rel || '.');
    if (s.url) {
      entries.push({ target: name, kind: 'file', host: s.host, mode: 0o600, size: s.stat.size, mtime: s.stat.mtime });
    } else if (s.stat.isDirectory()) {
      walk(i.o, s.host, s.rel, '', entries);
      // The directory itself is dest: its entry is the base.
      const first = entries.findIndex((e) => e.target === '' && e.kind === 'dir');
      if (first >= 0) entries.splice(first, 1);
    } else if (i.add && s.stat.isFile() && (await isArchive(s.host))) {
      entries.push({ target: '', kind: 'file', host: s.host, mode: s.stat.mode & 0o7777, size: s.stat.size, mtime: s.stat.mtime, extract: true });
      if (single) base = dest; // an archive is extracted into dest
    } else {
      walk(i.o, s.host, s.rel, name, entries);
    }
  }
  for (const c of i.contents) {
    const data = Buffer.from(c.data);
    entries.push({ target: single ? path.posix.basename(dest) : c.path, kind: 'data', data, mode: 0o644, size: data.length, mtime: new Date(0) });
  }
  return { base, entries, hash: await hashEntries(entries, n > 1 ? 'multi' : i.sources[0]?.stat.isDirectory() ? 'dir' : 'file', i.o.sums) };
}

// The content hash of a tree (or file) in a root, as COPY's: what a RUN
// --mount=type=bind's cache key takes.
export async function hashTree(o: SourceOptions, rel: string): Promise<string> {
  const host = resolveInRootSync(o.root, rel);
  const entries: CopyEntry[] = [];
  walk(o, host, rel, '', entries);
  return hashEntries(entries, 'tree', o.sums);
}

async function fileHash(p: string): Promise<string> {
  const h = createHash('sha256');
  // A small file in one read; a big one streamed in 1 MB chunks.
  const fh = await fsp.open(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

// What the cache key takes from the files: names, kinds, modes, link
// targets and contents (not times: a touched, unchanged file hits).
async function hashEntries(entries: CopyEntry[], kind: string, known?: ContextSums): Promise<string> {
  // The files' hashes first, several at a time: one after the other, each
  // read is a thread-pool round trip per 64 KB, slow on a loaded machine
  // (50 files of 100 KB: 170 ms at load 12).
  const files = entries.filter((e) => e.kind === 'file');
  const sums = new Map<CopyEntry, string>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const e = files[next++];
      const k = known?.get(e.host!);
      sums.set(e, k && k.size === e.size ? k.sha256 : await fileHash(e.host!));
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  const h = createHash('sha256');
  for (const e of entries) {
    h.update(`${e.target}\0${e.kind}\0${e.mode.toString(8)}\0${e.linkname ?? ''}\0${e.extract ? 'x' : ''}\0`);
    if (e.kind === 'file') h.update(sums.get(e)!);
    if (e.kind === 'data') h.update(createHash('sha256').update(e.data!).digest('hex'));
    h.update('\n');
  }
  return `${kind}:${h.digest('hex')}`;
}

export interface TarOptions {
  uid: number;
  gid: number;
  chmod?: number;
  // Directories to make first (relative to the put's dir), missing in the image.
  parents: string[];
  prefix: string; // prepended to each target (the missing part of base)
}

// The tar of the plan's entries (archives to extract left out), for a put
// at the deepest existing ancestor of the base.
export function packEntries(entries: CopyEntry[], o: TarOptions): Readable {
  const pack = tar.pack();
  const join = (t: string) => [o.prefix, t].filter(Boolean).join('/');
  (async () => {
    const add = (h: Partial<tar.Header> & { name: string }, body?: Buffer | Readable) =>
      new Promise<void>((resolve, reject) => {
        if (body && !Buffer.isBuffer(body)) {
          const entry = pack.entry(h as tar.Header, (err) => (err ? reject(err) : resolve()));
          body.on('error', reject);
          body.pipe(entry);
        } else pack.entry(h as tar.Header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      });
    for (const d of o.parents) await add({ name: d, type: 'directory', mode: 0o755, uid: o.uid, gid: o.gid, mtime: new Date() });
    for (const e of entries) {
      if (e.extract) continue;
      const name = join(e.target);
      const mode = o.chmod ?? e.mode;
      const h = { name: name || '.', mode, uid: o.uid, gid: o.gid, mtime: e.mtime };
      if (e.kind === 'dir') await add({ ...h, type: 'directory' });
      else if (e.kind === 'symlink') await add({ ...h, type: 'symlink', linkname: e.linkname, mode: 0o777 });
      else if (e.kind === 'data') await add({ ...h, type: 'file', size: e.size }, e.data);
      else await add({ ...h, type: 'file', size: e.size }, fs.createReadStream(e.host!));
    }
    pack.finalize();
  })().catch((err) => pack.destroy(err));
  return pack as unknown as Readable;
}
