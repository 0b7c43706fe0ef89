// The set of files a one-shot read takes while the writer rotates: a
// rotation between the listing and the opens once made a read skip a whole
// rotated file. Here the rotations are made by a hook on the reader's own
// file-system calls, at the worst moments, on real files: no timers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { readLog, snapshotLogFiles, type SnapshotFS } from '../../../../src/engine/logs/read';
import type { LogRecord } from '../../../../src/engine/logs/types';

const LINES = 50; // per file

// A log written as berth-logger writes it, generation by generation, with
// its rotation done exactly as logger-main.c's rotate() does it (max-file 3,
// compress): .2 dropped, .1 -> .2, current -> .1, a new current, .2 gzipped
// through .2.gz.tmp and the plain .2 removed. `steps` stops part-way.
class Log {
  gen = 0;
  constructor(readonly file: string) {
    this.write();
  }
  private line = (g: number, i: number) => `${JSON.stringify({ log: `${String(g * LINES + i).padStart(9, '0')}\n`, stream: 'stdout', time: '2024-01-01T00:00:01.5Z' })}\n`;
  private write(): void {
    let s = '';
    for (let i = 0; i < LINES; i++) s += this.line(this.gen, i);
    fs.writeFileSync(this.file, s);
  }
  rotate(steps = Infinity): void {
    const f = this.file;
    const do_ = [
      () => { fs.rmSync(`${f}.2`, { force: true }); fs.rmSync(`${f}.2.gz`, { force: true }); },
      () => { if (fs.existsSync(`${f}.1`)) fs.renameSync(`${f}.1`, `${f}.2`); },
      () => fs.renameSync(f, `${f}.1`),
      () => { this.gen++; this.write(); },
      () => { if (fs.existsSync(`${f}.2`)) fs.writeFileSync(`${f}.2.gz.tmp`, zlib.gzipSync(fs.readFileSync(`${f}.2`))); },
      () => { if (fs.existsSync(`${f}.2.gz.tmp`)) fs.renameSync(`${f}.2.gz.tmp`, `${f}.2.gz`); },
      () => fs.rmSync(`${f}.2`, { force: true }),
    ];
    for (const [i, s] of do_.entries()) if (i < steps) s();
  }
}

const real: SnapshotFS = {
  readdir: (d) => fs.readdirSync(d),
  stat: (p) => (fs.existsSync(p) ? fs.statSync(p) : undefined),
  open: (p) => fs.openSync(p, 'r'),
  fstat: (fd) => fs.fstatSync(fd),
  close: (fd) => fs.closeSync(fd),
};

// The real calls, with `hook(call, n)` run before the n-th call of each kind.
function hooked(hook: (call: keyof SnapshotFS, n: number) => void): SnapshotFS & { count: Record<string, number> } {
  const count: Record<string, number> = {};
  const wrap = <K extends keyof SnapshotFS>(k: K): SnapshotFS[K] =>
    ((...args: unknown[]) => {
      count[k] = (count[k] ?? 0) + 1;
      hook(k, count[k]);
      return (real[k] as (...a: unknown[]) => unknown)(...args);
    }) as SnapshotFS[K];
  return { readdir: wrap('readdir'), stat: wrap('stat'), open: wrap('open'), fstat: wrap('fstat'), close: wrap('close'), count };
}

// The line numbers in the files handed back, in their order.
function numbers(fds: { fd: number; gz: boolean }[]): number[] {
  const out: number[] = [];
  for (const f of fds) {
    const st = fs.fstatSync(f.fd);
    const buf = Buffer.alloc(st.size);
    fs.readSync(f.fd, buf, 0, st.size, 0);
    const text = (f.gz ? zlib.gunzipSync(buf) : buf).toString();
    for (const l of text.split('\n').filter(Boolean)) out.push(Number(JSON.parse(l).log));
  }
  return out;
}

function contiguous(nums: number[], what: string): void {
  assert.ok(nums.length > 0, `${what}: nothing read`);
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `${what}: line ${nums[i - 1]} is followed by ${nums[i]}`);
}

describe('a one-shot read\'s files while the writer rotates', () => {
  let dir: string;
  let log: Log;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logsnap-'));
    log = new Log(path.join(dir, 'c-json.log'));
    for (let i = 0; i < 4; i++) log.rotate(); // .2.gz, .1, current
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the race itself: a rotation between two opens by name skips a whole file', () => {
    // What a reader that lists and then opens by name meets.
    const names = [`${log.file}.2.gz`, `${log.file}.1`, log.file];
    const fds = [{ fd: fs.openSync(names[0], 'r'), gz: true }];
    log.rotate();
    for (const n of names.slice(1)) fds.push({ fd: fs.openSync(n, 'r'), gz: false });
    const nums = numbers(fds);
    for (const f of fds) fs.closeSync(f.fd);
    assert.throws(() => contiguous(nums, 'by name'), new RegExp(`line ${3 * LINES - 1} is followed by ${4 * LINES}`));
  });

  test('a rotation between the listing and the opens, seven times in a row: one generation, nothing skipped or repeated', async () => {
    let rotations = 0;
    // The second open of each of the first seven attempts (more than the
    // five the reader used to try before it settled for a mixed set).
    const io = hooked((call, n) => {
      if (call === 'open' && n % 3 === 2 && rotations < 7) {
        log.rotate();
        rotations++;
      }
    });
    const files = await snapshotLogFiles(log.file, io);
    assert.equal(rotations, 7);
    assert.deepEqual(files.map((f) => path.basename(f.name)), ['c-json.log.2.gz', 'c-json.log.1', 'c-json.log']);
    const nums = numbers(files);
    contiguous(nums, 'snapshot');
    // The newest generation when it settled, whole.
    assert.equal(nums.at(-1), (log.gen + 1) * LINES - 1);
    assert.equal(nums.length, 3 * LINES);
    for (const f of files) fs.closeSync(f.fd);
  });

  test('a rotation caught part-way, at every step, before or after the opens: never a mixed set', async () => {
    for (let steps = 1; steps <= 7; steps++) {
      for (const when of ['open', 'fstat'] as const) {
        let stage = 0;
        const io = hooked((call, n) => {
          // Part of a rotation at the first `when`, the rest at the next one.
          if (call !== when) return;
          if (stage === 0 && n === 1) {
            log.rotate(steps);
            stage = 1;
          } else if (stage === 1) {
            finish(steps);
            stage = 2;
          }
        });
        const finish = (done: number) => {
          // The steps of rotate() after `done`, as one more partial call cannot express.
          const f = log.file;
          const rest = [
            () => { fs.rmSync(`${f}.2`, { force: true }); fs.rmSync(`${f}.2.gz`, { force: true }); },
            () => { if (fs.existsSync(`${f}.1`)) fs.renameSync(`${f}.1`, `${f}.2`); },
            () => fs.renameSync(f, `${f}.1`),
            () => { log.gen++; fs.writeFileSync(f, ''); },
            () => { if (fs.existsSync(`${f}.2`)) fs.writeFileSync(`${f}.2.gz.tmp`, zlib.gzipSync(fs.readFileSync(`${f}.2`))); },
            () => { if (fs.existsSync(`${f}.2.gz.tmp`)) fs.renameSync(`${f}.2.gz.tmp`, `${f}.2.gz`); },
            () => fs.rmSync(`${f}.2`, { force: true }),
          ];
          for (const [i, s] of rest.entries()) if (i >= done) s();
        };
        const files = await snapshotLogFiles(log.file, io);
        const nums = numbers(files);
        contiguous(nums, `steps ${steps}, at ${when}`);
        for (const f of files) fs.closeSync(f.fd);
        // The rotation was finished by the reader's next call.
        assert.equal(stage, 2, `steps ${steps}, at ${when}: the rotation was not finished`);
        // Start each round from a settled log of three files.
        for (const n of fs.readdirSync(dir)) fs.rmSync(path.join(dir, n));
        log = new Log(log.file);
        for (let i = 0; i < 4; i++) log.rotate();
      }
    }
  });

  test('readLog reads the snapshot through the files it holds, whatever the names did after', async () => {
    let rotated = 0;
    const io = hooked((call, n) => {
      if (call === 'open' && n === 2 && rotated === 0) {
        log.rotate();
        rotated++;
      }
    });
    const recs: LogRecord[] = [];
    for await (const r of readLog(log.file, 'json-file', { stdout: true, stderr: true, follow: false }, Promise.resolve(), undefined, io)) {
      recs.push(r);
      // Rotations while it reads: the files are held, the names move on.
      if (recs.length % 40 === 0) log.rotate();
    }
    const nums = recs.map((r) => Number(r.data.toString()));
    contiguous(nums, 'readLog');
    assert.equal(nums.length, 3 * LINES);
  });
});
