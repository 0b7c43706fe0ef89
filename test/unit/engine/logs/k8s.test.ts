import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { getEventListeners } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseLine } from '../../../../src/engine/logs/k8s';
import { readLog, timeOf, type LogOptions, type LogRecord } from '../../../../src/engine/logs/read';

const readLogs = (file: string, o: LogOptions, done: Promise<void>, signal?: AbortSignal) => readLog(file, 'k8s-file', o, done, signal);

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const T = (sec: number, frac = '000000000') => `2024-01-01T00:00:0${sec}.${frac}+00:00`;
const EPOCH = Date.parse('2024-01-01T00:00:00Z') / 1000;

const LINES = [
  `${T(1)} stdout F one`,
  `${T(2)} stderr F two`,
  `${T(3)} stdout P thr`,
  `${T(3, '500000000')} stdout F ee`,
  `${T(4)} stderr F four`,
];

function opts(o: Partial<LogOptions> = {}): LogOptions {
  return { stdout: true, stderr: true, follow: false, ...o };
}

async function collect(gen: AsyncGenerator<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

const text = (recs: LogRecord[]) => recs.map((r) => `${r.stream}:${r.data.toString()}`);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const never = new Promise<void>(() => {});

function logFile(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
  return f;
}

// Pulls records from an iterator until `n` arrived, failing after `ms`.
async function take(it: AsyncIterator<LogRecord>, n: number, ms = 5000): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const timer = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out waiting for ${n} records, got ${out.length}`)), ms).unref());
  while (out.length < n) {
    const r = await Promise.race([it.next(), timer]);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

test('parseLine: a full stdout line gets its newline back; +00:00 becomes Z', () => {
  const r = parseLine(Buffer.from('2024-01-02T03:04:05.123456789+00:00 stdout F hello world'))!;
  assert.equal(r.stream, 1);
  assert.equal(r.data.toString(), 'hello world\n');
  assert.equal(r.time, '2024-01-02T03:04:05.123456789Z');
  assert.equal(timeOf(r), Date.parse('2024-01-02T03:04:05.123Z') / 1000);
});

test('parseLine: a partial stderr line has no newline', () => {
  const r = parseLine(Buffer.from(`${T(1)} stderr P part`))!;
  assert.equal(r.stream, 2);
  assert.equal(r.data.toString(), 'part');
});

test('parseLine: content keeps inner and trailing spaces and raw bytes', () => {
  assert.equal(parseLine(Buffer.from(`${T(1)} stdout F  a  b `))!.data.toString(), ' a  b \n');
  const bin = Buffer.concat([Buffer.from(`${T(1)} stdout P `), Buffer.from([0xff, 0x00, 0xfe])]);
  assert.deepEqual(parseLine(bin)!.data, Buffer.from([0xff, 0x00, 0xfe]));
});

test('parseLine: empty full line is just a newline', () => {
  assert.equal(parseLine(Buffer.from(`${T(1)} stdout F`))!.data.toString(), '\n');
  assert.equal(parseLine(Buffer.from(`${T(1)} stdout F `))!.data.toString(), '\n');
});

test('parseLine: multi-part tags with F', () => {
  assert.equal(parseLine(Buffer.from(`${T(1)} stdout F:x y`))!.data.toString(), 'y\n');
});

test('parseLine: other offsets are converted to UTC, keeping nanoseconds', () => {
  assert.equal(parseLine(Buffer.from('2024-01-01T02:00:00.123456789+02:00 stdout F x'))!.time, '2024-01-01T00:00:00.123456789Z');
  assert.equal(parseLine(Buffer.from('2024-01-01T00:30:00.5-01:00 stdout F x'))!.time, '2024-01-01T01:30:00.5Z');
});

test('parseLine: malformed lines give undefined', () => {
  assert.equal(parseLine(Buffer.from('garbage')), undefined);
  assert.equal(parseLine(Buffer.from('time stdout')), undefined);
  assert.equal(parseLine(Buffer.alloc(0)), undefined);
});

test('readLogs: everything, in order, streams kept apart', async () => {
  const f = logFile('all.log', LINES);
  const recs = await collect(readLogs(f, opts(), never));
  assert.deepEqual(text(recs), ['1:one\n', '2:two\n', '1:thr', '1:ee\n', '2:four\n']);
  assert.equal(recs[0].time, '2024-01-01T00:00:01.000000000Z');
});

test('readLogs: stdout only and stderr only', async () => {
  const f = logFile('sel.log', LINES);
  assert.deepEqual(text(await collect(readLogs(f, opts({ stderr: false }), never))), ['1:one\n', '1:thr', '1:ee\n']);
  assert.deepEqual(text(await collect(readLogs(f, opts({ stdout: false }), never))), ['2:two\n', '2:four\n']);
  assert.deepEqual(await collect(readLogs(f, opts({ stdout: false, stderr: false }), never)), []);
});

test('readLogs: tail', async () => {
  const f = logFile('tail.log', LINES);
  assert.deepEqual(text(await collect(readLogs(f, opts({ tail: 2 }), never))), ['1:ee\n', '2:four\n']);
  assert.deepEqual(text(await collect(readLogs(f, opts({ tail: 0 }), never))), []);
  assert.equal((await collect(readLogs(f, opts({ tail: 100 }), never))).length, 5);
  // tail counts the selected stream only.
  assert.deepEqual(text(await collect(readLogs(f, opts({ tail: 1, stdout: false }), never))), ['2:four\n']);
});

test('readLogs: since and until (unix seconds, inclusive)', async () => {
  const f = logFile('time.log', LINES);
  assert.deepEqual(text(await collect(readLogs(f, opts({ since: EPOCH + 2 }), never))), ['2:two\n', '1:thr', '1:ee\n', '2:four\n']);
  assert.deepEqual(text(await collect(readLogs(f, opts({ until: EPOCH + 3 }), never))), ['1:one\n', '2:two\n', '1:thr']);
  assert.deepEqual(text(await collect(readLogs(f, opts({ since: EPOCH + 2, until: EPOCH + 3.5 }), never))), ['2:two\n', '1:thr', '1:ee\n']);
  assert.deepEqual(text(await collect(readLogs(f, opts({ since: EPOCH + 10 }), never))), []);
});

test('readLogs: a big file is read across buffer boundaries without losing lines', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) lines.push(`${T(1)} stdout F line ${i} ${'x'.repeat(i % 50)}`);
  const f = logFile('big.log', lines);
  const recs = await collect(readLogs(f, opts(), never));
  assert.equal(recs.length, 5000);
  assert.equal(recs[4999].data.toString(), `line 4999 ${'x'.repeat(4999 % 50)}\n`);
  assert.equal(recs[1234].data.toString(), `line 1234 ${'x'.repeat(1234 % 50)}\n`);
});

test('readLogs: a missing file gives nothing without follow', async () => {
  assert.deepEqual(await collect(readLogs(path.join(dir, 'nope.log'), opts(), never)), []);
});

test('readLogs: follow on a missing file ends once done resolves', async () => {
  const d = deferred();
  const p = collect(readLogs(path.join(dir, 'nope2.log'), opts({ follow: true }), d.promise));
  setTimeout(d.resolve, 20);
  assert.deepEqual(await p, []);
});

test('readLogs: follow on a file that appears before done reads it after done', async () => {
  const f = path.join(dir, 'late.log');
  const d = deferred();
  const p = collect(readLogs(f, opts({ follow: true }), d.promise));
  setTimeout(() => {
    fs.writeFileSync(f, `${T(1)} stdout F late\n`);
    d.resolve();
  }, 20);
  assert.deepEqual(text(await p), ['1:late\n']);
});

test('readLogs: follow picks up appended lines and ends when done resolves', async () => {
  const f = logFile('follow.log', LINES.slice(0, 2));
  const d = deferred();
  const it = readLogs(f, opts({ follow: true }), d.promise);
  assert.deepEqual(text(await take(it, 2)), ['1:one\n', '2:two\n']);

  fs.appendFileSync(f, `${T(5)} stdout F appended\n`);
  assert.deepEqual(text(await take(it, 1)), ['1:appended\n']);

  // A line is only delivered once its newline is there.
  fs.appendFileSync(f, `${T(6)} stderr F ha`);
  const pending = take(it, 1);
  await new Promise((r) => setTimeout(r, 100));
  fs.appendFileSync(f, 'lf\n');
  assert.deepEqual(text(await pending), ['2:half\n']);

  // Lines written just before the container exits are drained, then it ends.
  fs.appendFileSync(f, `${T(7)} stdout F last\n`);
  d.resolve();
  const rest = await take(it, 10);
  assert.deepEqual(text(rest), ['1:last\n']);
  assert.equal((await it.next()).done, true);
});

test('readLogs: follow with tail starts from the end', async () => {
  const f = logFile('follow-tail.log', LINES);
  const d = deferred();
  const it = readLogs(f, opts({ follow: true, tail: 1 }), d.promise);
  assert.deepEqual(text(await take(it, 1)), ['2:four\n']);
  fs.appendFileSync(f, `${T(8)} stdout F new\n`);
  assert.deepEqual(text(await take(it, 1)), ['1:new\n']);
  d.resolve();
  assert.deepEqual(await take(it, 10), []);
});

test('readLogs: follow stops when the signal aborts', async () => {
  const f = logFile('abort.log', LINES.slice(0, 1));
  const ac = new AbortController();
  const it = readLogs(f, opts({ follow: true }), never, ac.signal);
  assert.deepEqual(text(await take(it, 1)), ['1:one\n']);
  setTimeout(() => ac.abort(), 20);
  const start = Date.now();
  assert.deepEqual(await take(it, 10), []);
  assert.ok(Date.now() - start < 900, 'abort ends the wait right away');
});

test('readLogs: a long follow does not pile up abort listeners', async () => {
  const f = logFile('listeners.log', []);
  const ac = new AbortController();
  const it = readLogs(f, opts({ follow: true }), never, ac.signal);
  try {
    for (let i = 0; i < 20; i++) {
      const next = take(it, 1);
      await new Promise((r) => setTimeout(r, 5));
      fs.appendFileSync(f, `${T(1)} stdout F n${i}\n`);
      assert.deepEqual(text(await next), [`1:n${i}\n`]);
    }
    assert.ok(getEventListeners(ac.signal, 'abort').length <= 2, `${getEventListeners(ac.signal, 'abort').length} abort listeners`);
  } finally {
    ac.abort();
    await it.return(undefined);
  }
});
