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
  const time = line.subarray(0, s1).toString().replace(/\+00:00$/, 'Z');
  return { stream: stream === 'stderr' ? 2 : 1, data: full ? Buffer.concat([content, Buffer.from('\n')]) : Buffer.from(content), time };
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
  try {
    let pos = 0;
    let rest: Buffer = Buffer.alloc(0);
    const readMore = async (): Promise<LogRecord[]> => {
      const out: LogRecord[] = [];
      const buf = Buffer.allocUnsafe(1 << 16);
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
    let first = await readMore();
    if (o.tail !== undefined && o.tail >= 0) first = first.slice(Math.max(0, first.length - o.tail));
    if (o.tail === 0) first = [];
    yield* first;
    if (!o.follow) return;
    let finished = false;
    done.then(() => { finished = true; });
    while (!signal?.aborted) {
      const changed = new Promise<void>((resolve) => {
        const w = fs.watch(file, () => { w.close(); resolve(); });
        w.on('error', () => { w.close(); resolve(); });
        const t = setTimeout(() => { w.close(); resolve(); }, 1000);
        done.then(() => { clearTimeout(t); w.close(); resolve(); });
        signal?.addEventListener('abort', () => { clearTimeout(t); w.close(); resolve(); }, { once: true });
      });
      const more = await readMore();
      yield* more;
      if (finished) {
        yield* await readMore();
        return;
      }
      if (more.length === 0) await changed;
    }
  } finally {
    await fh.close();
  }
}
