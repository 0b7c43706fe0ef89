// Reads a container's log back, whatever its driver wrote (json-file, local,
// or conmon's k8s-file of older containers), across its rotated and gzipped
// files, oldest first. A record is only ever handed on whole: a decoder
// keeps an incomplete tail until the rest arrives, so a reader racing the
// writer never sees a torn line. A follow goes on through rotations: it
// reads the file it has open to its end before moving to the new one, so
// nothing is lost or repeated.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { parseLine } from './k8s';
import type { LogDriver } from './settings';
import type { LogOptions, LogRecord } from './types';

export type { LogOptions, LogRecord } from './types';

// ---- decoders: bytes in, whole records out ----

export interface Decoder {
  push(chunk: Buffer): LogRecord[];
}

// "2026-01-02T03:04:05.5Z" → "2026-01-02T03:04:05.500000000Z" (what
// docker logs -t prints).
export function fixedNanos(t: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(t);
  if (!m) return t;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

class LineDecoder implements Decoder {
  private rest: Buffer = Buffer.alloc(0);
  constructor(private parse: (line: Buffer) => LogRecord | undefined) {}
  push(chunk: Buffer): LogRecord[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: LogRecord[] = [];
    let start = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, start)) {
      const rec = this.parse(buf.subarray(start, i));
      if (rec) out.push(rec);
      start = i + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return out;
  }
}

export function parseJSONLine(line: Buffer): LogRecord | undefined {
  let j: { log?: string; stream?: string; time?: string; attrs?: Record<string, string> };
  try {
    j = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  return {
    stream: j.stream === 'stderr' ? 2 : 1,
    data: Buffer.from(j.log ?? '', 'utf8'),
    time: fixedNanos(j.time ?? ''),
    ...(j.attrs && Object.keys(j.attrs).length ? { attrs: j.attrs } : {}),
  };
}

// docker's local format: [u32 size][LogEntry protobuf][u32 size].
class LocalDecoder implements Decoder {
  private rest: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): LogRecord[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: LogRecord[] = [];
    let off = 0;
    while (buf.length - off >= 4) {
      const size = buf.readUInt32BE(off);
      if (buf.length - off < size + 8) break;
      const rec = decodeLocalEntry(buf.subarray(off + 4, off + 4 + size));
      if (rec) out.push(rec);
      off += size + 8;
    }
    this.rest = Buffer.from(buf.subarray(off));
    return out;
  }
}

function varint(b: Buffer, pos: { i: number }): bigint {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.i >= b.length) throw new Error('truncated varint');
    const x = b[pos.i++];
    v |= BigInt(x & 0x7f) << shift;
    if (!(x & 0x80)) return v;
    shift += 7n;
  }
}

function fields(b: Buffer, each: (field: number, wire: number, value: bigint | Buffer) => void): void {
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = Number(varint(b, pos));
    const wire = key & 7;
    if (wire === 0) each(key >> 3, wire, varint(b, pos));
    else if (wire === 2) {
      const n = Number(varint(b, pos));
      each(key >> 3, wire, b.subarray(pos.i, pos.i + n));
      pos.i += n;
    } else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else throw new Error(`wire type ${wire}`);
  }
}

export function decodeLocalEntry(b: Buffer): LogRecord | undefined {
  let source = '';
  let nanos = 0n;
  let line: Buffer = Buffer.alloc(0);
  let partial = false;
  let last = false;
  const attrs: Record<string, string> = {};
  try {
    fields(b, (f, _w, v) => {
      if (f === 1) source = (v as Buffer).toString();
      else if (f === 2) nanos = v as bigint;
      else if (f === 3) line = Buffer.from(v as Buffer);
      else if (f === 4) partial = (v as bigint) !== 0n;
      else if (f === 5) fields(v as Buffer, (g, _w2, x) => { if (g === 1) last = (x as bigint) !== 0n; });
      else if (f === 6) {
        let k = '';
        let val = '';
        fields(v as Buffer, (g, _w2, x) => {
          if (g === 1) k = (x as Buffer).toString();
          else if (g === 2) val = (x as Buffer).toString();
        });
        attrs[k] = val;
      }
    });
  } catch {
    return undefined;
  }
  const ms = Number(nanos / 1000000n);
  const ns = String(nanos % 1000000000n).padStart(9, '0');
  const time = `${new Date(ms).toISOString().slice(0, 19)}.${ns}Z`;
  // The newline ends a whole line, or the last piece of a long one.
  const data = !partial || last ? Buffer.concat([line, Buffer.from('\n')]) : line;
  return { stream: source === 'stderr' ? 2 : 1, data, time, ...(Object.keys(attrs).length ? { attrs } : {}) };
}

export function decoderFor(driver: LogDriver): Decoder {
  if (driver === 'local') return new LocalDecoder();
  if (driver === 'k8s-file') {
    return new LineDecoder((l) => {
      const r = parseLine(l);
      return r && { ...r, time: fixedNanos(r.time) };
    });
  }
  return new LineDecoder(parseJSONLine);
}

// ---- the files ----

export function timeOf(rec: LogRecord): number {
  return Date.parse(rec.time) / 1000;
}

function wanted(rec: LogRecord, o: LogOptions): boolean {
  if (rec.stream === 1 ? !o.stdout : !o.stderr) return false;
  if (o.since !== undefined && timeOf(rec) < o.since) return false;
  if (o.until !== undefined && timeOf(rec) > o.until) return false;
  return true;
}

interface Opened {
  fh: fsp.FileHandle;
  gz: boolean;
}

// The rotated files, oldest first: <base>.N[.gz] … <base>.1[.gz].
async function rotatedNames(file: string): Promise<{ n: number; name: string; gz: boolean }[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const byN = new Map<number, { n: number; name: string; gz: boolean }>();
  for (const name of names) {
    if (!name.startsWith(base + '.')) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (!m) continue;
    const n = Number(m[1]);
    const gz = !!m[2];
    // Both exist for a moment while one is compressed: the plain one is whole.
    if (byN.has(n) && !gz) byN.set(n, { n, name, gz });
    else if (!byN.has(n)) byN.set(n, { n, name, gz });
  }
  return [...byN.values()].sort((a, b) => b.n - a.n).map((x) => ({ ...x, name: path.join(dir, x.name) }));
}

// ---- one consistent set of files for a read ----
//
// The writer (berth-logger) rotates in a burst of renames: the oldest goes,
// each <base>.N becomes <base>.N+1, the current file <base>.1, a new one
// is made, and <base>.2 is gzipped (.gz.tmp, renamed to .gz, the plain one
// removed). A reader that lists the names and then opens them can be
// overtaken by a rotation in between, and during a flood (a rotation every
// few ms) by several: opened by the old names, a file is then met twice or
// not at all (a whole rotated file was once skipped this way). So the set
// is taken as a snapshot: the names and their inodes, every file opened by
// fd (and checked to be the inode listed), then the names and inodes
// again; only when nothing moved in between is the set one generation of
// files. Files held open cannot be freed, so their inode numbers cannot be
// reused meanwhile: a rotation always shows as a change. The snapshot is
// made with synchronous calls (a few names, well under a millisecond), so
// that it fits between two rotations of even a fast flood; async calls,
// each a trip through the thread pool, took long enough under load for
// rotations to keep winning.

// The file-system calls a snapshot makes (a test injects its own).
export interface SnapshotFS {
  readdir(dir: string): string[];
  // undefined when there is no such file
  stat(p: string): { dev: number; ino: number } | undefined;
  open(p: string): number; // throws ENOENT
  fstat(fd: number): { dev: number; ino: number };
  close(fd: number): void;
}

const realFS: SnapshotFS = {
  readdir: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  stat: (p) => {
    try {
      return fs.statSync(p);
    } catch (err: any) {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }
  },
  open: (p) => fs.openSync(p, 'r'),
  fstat: (fd) => fs.fstatSync(fd),
  close: (fd) => fs.closeSync(fd),
};

export interface SnapshotFile {
  fd: number;
  name: string;
  gz: boolean;
}

// The names of the log and their inodes: the current file as n = 0, then
// <base>.N[.gz] (both while one is being gzipped).
function listing(file: string, io: SnapshotFS): { n: number; name: string; gz: boolean; key: string }[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const out: { n: number; name: string; gz: boolean; key: string }[] = [];
  const add = (n: number, name: string, gz: boolean) => {
    const st = io.stat(name);
    if (st) out.push({ n, name, gz, key: `${st.dev}:${st.ino}` });
  };
  add(0, file, false);
  for (const name of io.readdir(dir)) {
    if (!name.startsWith(base + '.')) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (m) add(Number(m[1]), path.join(dir, name), !!m[2]);
  }
  return out.sort((x, y) => x.n - y.n || Number(x.gz) - Number(y.gz));
}

const signature = (l: { name: string; key: string }[]) => l.map((x) => `${x.name}=${x.key}`).join('\n');

const ATTEMPTS = 1000;

// Every file of the log, oldest first (the current one last, when there
// is one), each open by fd. Throws rather than hand on a set that is not
// one generation (the writer would have to rotate faster than a few
// stat calls, a thousand times in a row).
export async function snapshotLogFiles(file: string, io: SnapshotFS = realFS): Promise<SnapshotFile[]> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = listing(file, io);
    // One file per generation: a plain one and its gzipped copy are the
    // same lines, and the plain one is whole (the .gz is only renamed in
    // once complete).
    const want = before.filter((x, i) => !(x.gz && before[i - 1]?.n === x.n));
    const opened: SnapshotFile[] = [];
    let same = true;
    for (const x of want) {
      let fd: number;
      try {
        fd = io.open(x.name);
      } catch (err: any) {
        if (err.code !== 'ENOENT') {
          for (const o of opened) io.close(o.fd);
          throw err;
        }
        same = false;
        break;
      }
      opened.push({ fd, name: x.name, gz: x.gz });
      const st = io.fstat(fd);
      if (`${st.dev}:${st.ino}` !== x.key) {
        same = false;
        break;
      }
    }
    if (same && signature(listing(file, io)) === signature(before)) return opened.reverse();
    for (const o of opened) io.close(o.fd);
    // Let the writer finish its rotation (and the daemon breathe) now and then.
    if (attempt % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  throw new Error(`the log ${path.basename(file)} kept rotating while it was opened`);
}

// The snapshot's files as file handles: reopened through /proc/self/fd,
// which names the open file itself (renamed or removed since, it is the
// same one).
async function openAll(file: string, io?: SnapshotFS): Promise<{ rotated: Opened[]; current?: fsp.FileHandle }> {
  const files = await snapshotLogFiles(file, io);
  const rotated: Opened[] = [];
  let current: fsp.FileHandle | undefined;
  try {
    for (const f of files) {
      const fh = await fsp.open(`/proc/self/fd/${f.fd}`, 'r');
      if (f.name === file) current = fh;
      else rotated.push({ fh, gz: f.gz });
    }
  } catch (err) {
    await current?.close().catch(() => {});
    for (const r of rotated) await r.fh.close().catch(() => {});
    throw err;
  } finally {
    for (const f of files) fs.closeSync(f.fd);
  }
  return { rotated, current };
}

async function sameFile(file: string, fh: fsp.FileHandle | undefined): Promise<boolean> {
  const st = await fsp.stat(file).catch(() => undefined);
  if (!fh) return !st;
  if (!st) return false;
  const mine = await fh.stat();
  return mine.ino === st.ino && mine.dev === st.dev;
}

async function openCurrent(file: string): Promise<Opened | undefined> {
  const fh = await fsp.open(file, 'r').catch(() => undefined);
  return fh && { fh, gz: false };
}

// The file written after the one with inode `ino`: found by its inode
// among the rotated names (<base>.N came before <base>.N-1, and <base>.1
// before the current file). One no longer found (compressed, or dropped
// while the reader lagged) leaves only the current file to go on with.
async function successor(file: string, ino: number): Promise<Opened | undefined> {
  const pause = () => new Promise((r) => setTimeout(r, 5));
  for (let attempt = 0; attempt < 10; attempt++) {
    const names = await rotatedNames(file);
    let n = 0;
    for (const r of names) {
      for (const name of r.gz ? [r.name] : [r.name, r.name + '.gz']) {
        const st = await fsp.stat(name).catch(() => undefined);
        if (st && st.ino === ino) n = r.n;
      }
    }
    if (n === 0) {
      // Not found: the writer may be between its renames (the names were
      // read one by one), so look again before giving up on it.
      if (attempt < 9) {
        await pause();
        continue;
      }
      return openCurrent(file);
    }
    const base = n === 1 ? file : `${file}.${n - 1}`;
    for (const [name, gz] of (n === 1 ? [[base, false]] : [[base, false], [base + '.gz', true]]) as [string, boolean][]) {
      const fh = await fsp.open(name, 'r').catch(() => undefined);
      if (!fh) continue;
      // Still where it was: no rotation came between the lookup and the open.
      const again = await fsp.stat(`${file}.${n}`).catch(() => undefined) ?? await fsp.stat(`${file}.${n}.gz`).catch(() => undefined);
      if (again && again.ino === ino) return { fh, gz };
      await fh.close();
      break;
    }
    // Between the writer's rename and its new file, or moved on meanwhile.
    await pause();
  }
  // Asked again at the next wakeup.
  return undefined;
}

async function* chunksOf(o: Opened): AsyncGenerator<Buffer> {
  const stream = o.fh.createReadStream({ autoClose: false, start: 0 });
  const src: AsyncIterable<Buffer> = o.gz ? stream.pipe(zlib.createGunzip()) : stream;
  try {
    for await (const c of src) yield c as Buffer;
  } catch (err: any) {
    // A gzip cut short (the disk filled while it was written): what it had.
    if (!o.gz) throw err;
  }
}

// Yields the log's records; with follow, keeps reading the current file
// (and the next ones) until `done` resolves (the container exited and its
// logger finished) and the file has been drained.
// (snapshotFS: a test's own file-system calls for the snapshot.)
export async function* readLog(file: string, driver: LogDriver, o: LogOptions, done: Promise<void>, signal?: AbortSignal, snapshotFS?: SnapshotFS): AsyncGenerator<LogRecord> {
  const { rotated, current } = await openAll(file, snapshotFS);
  let cur = current;
  let pos = 0;
  const buf = Buffer.allocUnsafe(1 << 16);
  let dec = decoderFor(driver);
  const readMore = async (): Promise<LogRecord[]> => {
    const out: LogRecord[] = [];
    if (!cur) return out;
    for (;;) {
      const { bytesRead } = await cur.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      for (const r of dec.push(buf.subarray(0, bytesRead))) if (wanted(r, o)) out.push(r);
    }
    return out;
  };
  // The tail is kept in a ring while everything is read once, oldest first.
  const tail = o.tail !== undefined && o.tail >= 0 ? o.tail : undefined;
  let ring: LogRecord[] = [];
  const emit = function* (recs: LogRecord[]): Generator<LogRecord> {
    if (tail === undefined) {
      yield* recs;
      return;
    }
    for (const r of recs) ring.push(r);
    if (ring.length > tail * 2 + 1024) ring = ring.slice(ring.length - tail);
  };
  let watcher: fs.FSWatcher | undefined;
  let finished = false;
  let dirty = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  try {
    if (o.follow) {
      // The directory: writes to the file, and its rotation, both show there.
      try {
        watcher = fs.watch(path.dirname(file), poke);
        watcher.on('error', poke);
      } catch {
        // Polled below.
      }
      done.then(() => { finished = true; poke(); });
      signal?.addEventListener('abort', poke, { once: true });
    }
    for (const r of rotated) {
      const d = decoderFor(driver);
      for await (const c of chunksOf(r)) yield* emit(d.push(c).filter((x) => wanted(x, o)));
      await r.fh.close();
    }
    rotated.length = 0;
    yield* emit(await readMore());
    if (tail !== undefined) {
      yield* (tail === 0 ? [] : ring.slice(Math.max(0, ring.length - tail)));
      ring = [];
    }
    if (!o.follow) return;
    while (!signal?.aborted) {
      dirty = false;
      // Taken before the read: all was written by the time it was set.
      const last = finished;
      const before = pos;
      yield* await readMore();
      if (pos !== before) continue;
      // Rotated: the old file is complete once its name has moved (the
      // writer closes it first), so drain it, then take the one written
      // after it (not merely the current one: several rotations may have
      // passed meanwhile).
      if (!(await sameFile(file, cur))) {
        yield* await readMore();
        let next = cur ? await successor(file, (await cur.stat()).ino) : await openCurrent(file);
        // One already compressed is complete: read it whole, then its own.
        while (next?.gz) {
          const d = decoderFor(driver);
          for await (const c of chunksOf(next)) yield* d.push(c).filter((x) => wanted(x, o));
          const ino = (await next.fh.stat()).ino;
          await next.fh.close();
          // (Going back to the old file would read this one again.)
          next = (await successor(file, ino)) ?? (await openCurrent(file));
        }
        if (next) {
          await cur?.close();
          cur = next.fh;
          pos = 0;
          dec = decoderFor(driver);
          continue;
        }
      } else if (cur && (await cur.stat()).size < pos) {
        // Emptied in place (max-file 1).
        pos = 0;
        dec = decoderFor(driver);
        continue;
      }
      if (last) return;
      if (!dirty) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(poke, 1000);
          wake = () => { clearTimeout(t); resolve(); };
        });
      }
    }
  } finally {
    watcher?.close();
    signal?.removeEventListener('abort', poke);
    for (const r of rotated) await r.fh.close().catch(() => {});
    await cur?.close().catch(() => {});
  }
}
