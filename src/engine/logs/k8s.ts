// conmon's k8s-file (CRI) records: "<time> stdout|stderr F|P <content>",
// what containers made before the log drivers have on disk, and what conmon
// hands berth-logger.
import type { LogRecord } from './types';

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
