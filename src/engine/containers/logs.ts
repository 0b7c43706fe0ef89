// Reads conmon's k8s-file log ("<time> stdout|stderr F|P <content>") back
// into exactly the bytes the process wrote, stdout and stderr kept apart.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface LogRecord {
  stream: 1 | 2;
  data: Buffer;
  time: string; // RFC 3339 with nanoseconds, UTC ("...Z")
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  tail?: number; // lines from the end; undefined = all
  since?: number; // unix seconds
  until?: number;
  follow: boolean;
}

export function parseLine(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(32);
  const s2 = line.indexOf(32, s1 + 1);
  const s3 = line.indexOf(32, s2 + 1);
  if (s1 < 0 || s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString();
  const tag = s3 < 0 ? line.subarray(s2 + 1).toString() : line.subarray(s2 + 1, s3).toString();
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const full = tag.split(':').includes('F');
  const time = toUTC(line.subarray(0, s1).toString());
  return { stream: stream === 'stderr' ? 2 : 1, data: full ? Buffer.concat([content, Buffer.from('\n')]) : Buffer.from(content), time };
}

// conmon writes local time with an offset; Docker prints UTC with "Z".
// Converted by hand to keep the nanoseconds Date would drop.
export function toUTC(t: string): string {
  const m = t.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  if (!m) return t;
  if (m[3] === 'Z' || m[3] === '+00:00' || m[3] === '-00:00') return `${m[1]}${m[2] ?? ''}Z`;
  return `${new Date(m[1] + m[3]).toISOString().slice(0, 19)}${m[2] ?? ''}Z`;
}

export function timeOf(rec: LogRecord): number {
  return Date.parse(rec.time) / 1000;
}

// Splits a buffer on newlines; returns the complete lines and the rest.
function splitLines(buf: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, start)) {
    lines.push(buf.subarray(start, i));
    start = i + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

function wanted(rec: LogRecord, o: LogOptions): boolean {
  if (rec.stream === 1 ? !o.stdout : !o.stderr) return false;
  if (o.since !== undefined && timeOf(rec) < o.since) return false;
  if (o.until !== undefined && timeOf(rec) > o.until) return false;
  return true;
}

// Yields log records; with follow, keeps reading until `done` resolves
// (the container exited) and the file has been drained.
export async function* readLogs(file: string, o: LogOptions, done: Promise<void>, signal?: AbortSignal): AsyncGenerator<LogRecord> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw err;
    if (!o.follow) return;
    await done;
    try {
      fh = await fsp.open(file, 'r');
    } catch {
      return;
    }
  }
  let pos = 0;
  let rest: Buffer = Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(1 << 16);
  const readMore = async (): Promise<LogRecord[]> => {
    const out: LogRecord[] = [];
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const split = splitLines(Buffer.concat([rest, buf.subarray(0, bytesRead)]));
      rest = Buffer.from(split.rest);
      for (const l of split.lines) {
        const rec = parseLine(l);
        if (rec && wanted(rec, o)) out.push(rec);
      }
    }
    return out;
  };
  // One watcher and one set of listeners for the whole follow; `dirty`
  // covers changes that land between a read and the next wait.
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
      watcher = fs.watch(file, poke);
      watcher.on('error', poke);
      done.then(() => { finished = true; poke(); });
      signal?.addEventListener('abort', poke, { once: true });
    }
    let first = await readMore();
    if (o.tail !== undefined && o.tail >= 0) first = o.tail === 0 ? [] : first.slice(Math.max(0, first.length - o.tail));
    yield* first;
    if (!o.follow) return;
    while (!signal?.aborted) {
      dirty = false;
      const more = await readMore();
      yield* more;
      if (finished) {
        yield* await readMore();
        return;
      }
      if (more.length === 0 && !dirty) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(poke, 1000);
          wake = () => { clearTimeout(t); resolve(); };
        });
      }
    }
  } finally {
    watcher?.close();
    signal?.removeEventListener('abort', poke);
    await fh.close();
  }
}
