import assert from 'node:assert/strict';
import * as os from 'node:os';
import { test } from 'node:test';
import { BerthError } from '../../../src/errors';
import { humanDuration } from '../../../src/util/duration';
import { KeyedLock } from '../../../src/util/lock';
import { parseSignal } from '../../../src/util/signals';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

// ---- KeyedLock ----

test('KeyedLock serializes operations on the same key, in call order', async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const gate = deferred();
  const a = lock.run('k', async () => {
    log.push('a start');
    await gate.promise;
    log.push('a end');
    return 'A';
  });
  const b = lock.run('k', async () => {
    log.push('b start');
    return 'B';
  });
  const c = lock.run('k', async () => {
    log.push('c start');
    return 'C';
  });
  await tick();
  assert.deepEqual(log, ['a start']);
  gate.resolve();
  assert.deepEqual(await Promise.all([a, b, c]), ['A', 'B', 'C']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'c start']);
});

test('KeyedLock runs different keys concurrently', async () => {
  const lock = new KeyedLock();
  const gate = deferred();
  let aDone = false;
  const a = lock.run('a', async () => {
    await gate.promise;
    aDone = true;
  });
  const b = await lock.run('b', async () => 'b ran');
  assert.equal(b, 'b ran');
  assert.equal(aDone, false, 'b finished while a was still holding its key');
  gate.resolve();
  await a;
});

test('KeyedLock: a failure is reported to its caller and does not block the next one', async () => {
  const lock = new KeyedLock();
  const first = lock.run('k', async () => {
    throw new Error('first failed');
  });
  const second = lock.run('k', async () => 'second ok');
  await assert.rejects(first, /first failed/);
  assert.equal(await second, 'second ok');
});

test('KeyedLock forgets idle keys', async () => {
  const lock = new KeyedLock();
  await Promise.all([lock.run('x', async () => 1), lock.run('x', async () => 2), lock.run('y', async () => 3)]);
  await lock.run('z', async () => {
    throw new Error('z');
  }).catch(() => {});
  assert.equal((lock as unknown as { tails: Map<string, unknown> }).tails.size, 0);
});

// ---- parseSignal ----

test('parseSignal accepts names with or without SIG, any case, and numbers', () => {
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('kill'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal(' HUP '), 1);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('64'), 64);
  assert.equal(parseSignal('USR1'), os.constants.signals.SIGUSR1);
});

test('parseSignal falls back to the default', () => {
  assert.equal(parseSignal(undefined), 9);
  assert.equal(parseSignal(''), 9);
  assert.equal(parseSignal('  '), 9);
  assert.equal(parseSignal(undefined, 'SIGTERM'), 15);
  assert.equal(parseSignal('', 'INT'), 2);
});

test('parseSignal rejects unknown names and out-of-range numbers', () => {
  for (const bad of ['0', '65', '-1', 'FOO', 'SIGFOO', 'SIG', '9x', 'KILL9']) {
    assert.throws(
      () => parseSignal(bad),
      (err: unknown) => err instanceof BerthError && err.kind === 'InvalidArgument' && err.message === `Invalid signal: ${bad}`,
      bad,
    );
  }
});

// ---- humanDuration (Docker's units.HumanDuration) ----

test('humanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [2 * s, '2 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [364 * d, '12 months'],
    [2 * 365 * d, '2 years'],
    [10 * 365 * d, '10 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});
