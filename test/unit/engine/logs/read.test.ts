import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { decoderFor, fixedNanos, readLog, type LogOptions, type LogRecord } from '../../../../src/engine/logs/read';
import { nativeBuild } from '../../../../src/util/paths';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logread-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const opts = (o: Partial<LogOptions> = {}): LogOptions => ({ stdout: true, stderr: true, follow: false, ...o });

async function collect(gen: AsyncGenerator<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

const text = (recs: LogRecord[]) => recs.map((r) => r.data.toString()).join('');
const jl = (log: string, sec: number, stream = 'stdout') => `${JSON.stringify({ log, stream, time: `2024-01-01T00:00:0${sec}.5Z` })}\n`;
const EPOCH = Date.parse('2024-01-01T00:00:00Z') / 1000;

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

test('fixedNanos pads the fraction to nine digits, as docker logs -t prints it', () => {
  assert.equal(fixedNanos('2024-01-01T00:00:01.5Z'), '2024-01-01T00:00:01.500000000Z');
  assert.equal(fixedNanos('2024-01-01T00:00:01Z'), '2024-01-01T00:00:01.000000000Z');
  assert.equal(fixedNanos('2024-01-01T00:00:01.123456789Z'), '2024-01-01T00:00:01.123456789Z');
});

test('a decoder hands on only whole records: a line cut anywhere waits for its rest', () => {
  const line = Buffer.from(jl('hello "world"\n', 1) + jl('two\n', 2, 'stderr'));
  for (let cut = 1; cut < line.length; cut += 7) {
    const d = decoderFor('json-file');
    const a = d.push(line.subarray(0, cut));
    const b = d.push(line.subarray(cut));
    const all = [...a, ...b];
    assert.equal(all.length, 2);
    assert.equal(all[0].data.toString(), 'hello "world"\n');
    assert.equal(all[1].stream, 2);
    assert.equal(all[1].time, '2024-01-01T00:00:02.500000000Z');
  }
});

test('reads rotated, gzipped and current json-file files oldest first; tail, since and until span them', async () => {
  const f = path.join(dir, 'a-json.log');
  fs.writeFileSync(`${f}.2.gz`, zlib.gzipSync(jl('one\n', 1) + jl('two\n', 2)));
  fs.writeFileSync(`${f}.1`, jl('three\n', 3) + jl('err\n', 4, 'stderr'));
  fs.writeFileSync(f, jl('five\n', 5));
  assert.equal(text(await collect(readLog(f, 'json-file', opts(), Promise.resolve()))), 'one\ntwo\nthree\nerr\nfive\n');
  assert.equal(text(await collect(readLog(f, 'json-file', opts({ tail: 3 }), Promise.resolve()))), 'three\nerr\nfive\n');
  assert.equal(text(await collect(readLog(f, 'json-file', opts({ tail: 0 }), Promise.resolve()))), '');
  assert.equal(text(await collect(readLog(f, 'json-file', opts({ stderr: false }), Promise.resolve()))), 'one\ntwo\nthree\nfive\n');
  assert.equal(text(await collect(readLog(f, 'json-file', opts({ since: EPOCH + 2, until: EPOCH + 4 }), Promise.resolve()))), 'two\nthree\n');
  // A file being compressed shows as both names for a moment: read once.
  fs.writeFileSync(`${f}.2`, jl('one\n', 1) + jl('two\n', 2));
  assert.equal(text(await collect(readLog(f, 'json-file', opts(), Promise.resolve()))), 'one\ntwo\nthree\nerr\nfive\n');
});

test('a follow goes on through a rotation without losing or repeating a line, and ends once done and drained', async () => {
  const f = path.join(dir, 'b-json.log');
  fs.writeFileSync(f, jl('1\n', 1));
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const it = readLog(f, 'json-file', opts({ follow: true }), done)[Symbol.asyncIterator]();
  assert.equal(text(await take(it, 1)), '1\n');
  fs.appendFileSync(f, jl('2\n', 2));
  assert.equal(text(await take(it, 1)), '2\n');
  // The writer's rotation: the last line into the old file, rename, a new file.
  fs.appendFileSync(f, jl('3\n', 3));
  fs.renameSync(f, `${f}.1`);
  fs.writeFileSync(f, jl('4\n', 4));
  fs.appendFileSync(f, jl('5\n', 5));
  assert.equal(text(await take(it, 3)), '3\n4\n5\n');
  // Twice more, the second while the follower is not looking.
  fs.renameSync(`${f}.1`, `${f}.2`);
  fs.renameSync(f, `${f}.1`);
  fs.writeFileSync(f, jl('6\n', 6));
  fs.appendFileSync(f, jl('7\n', 7));
  resolve();
  const rest = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
  assert.equal(text(rest), '6\n7\n');
});

test('a follow that missed whole rotations reads the files written meanwhile, plain or compressed, in order', async () => {
  for (const compress of [false, true]) {
    const f = path.join(dir, `r${compress ? 'z' : 'p'}-json.log`);
    fs.writeFileSync(f, jl('a1\n', 1));
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const it = readLog(f, 'json-file', opts({ follow: true }), done)[Symbol.asyncIterator]();
    assert.equal(text(await take(it, 1)), 'a1\n');
    // Three rotations while the follower is not looking.
    fs.appendFileSync(f, jl('a2\n', 2));
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, jl('b\n', 3));
    fs.renameSync(`${f}.1`, `${f}.2`);
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, jl('c\n', 4));
    fs.renameSync(`${f}.2`, `${f}.3`);
    fs.renameSync(`${f}.1`, `${f}.2`);
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, jl('d\n', 5));
    if (compress) {
      fs.writeFileSync(`${f}.2.gz`, zlib.gzipSync(fs.readFileSync(`${f}.2`)));
      fs.rmSync(`${f}.2`);
    }
    resolve();
    const rest = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    assert.equal(text(rest), 'a2\nb\nc\nd\n', compress ? 'compressed' : 'plain');
  }
});

test('a follow of a file emptied in place (max-file 1) starts again from its beginning', async () => {
  const f = path.join(dir, 'c-json.log');
  fs.writeFileSync(f, jl('a\n', 1) + jl('b\n', 2));
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const it = readLog(f, 'json-file', opts({ follow: true }), done)[Symbol.asyncIterator]();
  assert.equal(text(await take(it, 2)), 'a\nb\n');
  fs.truncateSync(f, 0);
  fs.appendFileSync(f, jl('c\n', 3));
  assert.equal(text(await take(it, 1)), 'c\n');
  resolve();
  assert.equal((await it.next()).done, true);
});

// ---- through the real writer ----

const LOGGER = nativeBuild('berth-logger');

// Runs berth-logger on records fed through a FIFO, as conmon feeds it.
async function runLogger(args: string[], records: string): Promise<void> {
  const fifo = path.join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  const child = spawn(LOGGER, [fifo, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  fs.writeFileSync(fifo, records);
  assert.equal(await exited, 0);
}

const cri = (n: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', content: string) =>
  `2024-01-01T00:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}+00:00 ${stream} ${tag} ${content}\n`;

test('berth-logger escapes as docker does and reads back to the bytes written', async () => {
  const f = path.join(dir, 'd-json.log');
  const odd = 'q"uo\\te <a>&b \t tab \x01 é ✓ \u2028 end';
  await runLogger(['json', f, '0', '1', '0'], cri(1, 'stdout', 'F', odd) + cri(2, 'stderr', 'P', 'part') + cri(3, 'stderr', 'F', 'ial') + cri(4, 'stdout', 'F', ''));
  const raw = fs.readFileSync(f, 'utf8');
  assert.match(raw, /^\{"log":"q\\"uo\\\\te \\u003ca\\u003e\\u0026b \\u0009 tab \\u0001 é ✓ \\u2028 end\\n","stream":"stdout","time":"2024-01-01T00:00:01\.000000001Z"\}\n/);
  // conmon's pieces of one line are joined into one record, stamped with the first's time.
  assert.match(raw, /\{"log":"partial\\n","stream":"stderr","time":"2024-01-01T00:00:02.000000002Z"\}\n/);
  const recs = await collect(readLog(f, 'json-file', opts(), Promise.resolve()));
  assert.deepEqual(recs.map((r) => [r.stream, r.data.toString()]), [[1, `${odd}\n`], [2, 'partial\n'], [1, '\n']]);
  assert.equal(recs[0].time, '2024-01-01T00:00:01.000000001Z');
});

test('berth-logger rotates before a record would pass max-size: every file within it, every record whole, the newest kept in order', async () => {
  for (const [format, driver, compress] of [['json', 'json-file', '1'], ['json', 'json-file', '0'], ['local', 'local', '1']] as const) {
    const sub = fs.mkdtempSync(path.join(dir, 'rot-'));
    const f = path.join(sub, 'x.log');
    let input = '';
    const want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line = `line ${String(i).padStart(5, '0')} ${'x'.repeat(i % 97)}`;
      input += cri(i, i % 5 === 0 ? 'stderr' : 'stdout', 'F', line);
      want.push(`${line}\n`);
    }
    await runLogger([format, f, '4000', '3', compress], input);
    const names = fs.readdirSync(sub).sort();
    // The newest rotated file is compressed one rotation later.
    assert.deepEqual(names, compress === '1' ? ['x.log', 'x.log.1', 'x.log.2.gz'] : ['x.log', 'x.log.1', 'x.log.2']);
    let total = 0;
    for (const n of names) {
      const data = fs.readFileSync(path.join(sub, n));
      const size = n.endsWith('.gz') ? zlib.gunzipSync(data).length : data.length;
      assert.ok(size <= 4000, `${n} holds ${size} bytes, more than max-size`);
      total += fs.statSync(path.join(sub, n)).size;
    }
    assert.ok(total <= 3 * 4000, `${total} bytes on disk`);
    const got = (await collect(readLog(f, driver, opts(), Promise.resolve()))).map((r) => r.data.toString());
    assert.ok(got.length > 30, `only ${got.length} records kept`);
    // The newest records, consecutive, each exactly as written.
    assert.deepEqual(got, want.slice(want.length - got.length), format);
  }
});

test('berth-logger joins conmon\'s pieces of a line; a line past 16 KiB goes in pieces (local keeps their metadata); attributes', async () => {
  const f = path.join(dir, 'local.log');
  const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(8000));
  await runLogger(['local', f, '0', '1', '0', 'a=1\x01b=two'],
    cri(1, 'stdout', 'P', 'short ') + cri(2, 'stdout', 'F', 'line') + cri(3, 'stdout', 'P', a) + cri(4, 'stdout', 'P', b) + cri(5, 'stdout', 'P', c) + cri(6, 'stdout', 'F', 'd') + cri(7, 'stderr', 'F', 'e') + cri(8, 'stdout', 'P', 'no newline at the end'));
  const recs = await collect(readLog(f, 'local', opts(), Promise.resolve()));
  assert.deepEqual(recs.map((r) => r.data.length), [11, 16384, 24001 - 16384 + 1, 2, 21]);
  assert.equal(recs[0].data.toString(), 'short line\n');
  assert.equal(Buffer.concat([recs[1].data, recs[2].data]).toString(), `${a}${b}${c}d\n`);
  assert.equal(recs[4].data.toString(), 'no newline at the end');
  assert.deepEqual(recs[3].attrs, { a: '1', b: 'two' });
  assert.equal(recs[3].stream, 2);
  assert.equal(recs[0].time, '2024-01-01T00:00:01.000000001Z');
});
