// Restart policies' decision and back-off (restart.ts), on a fake clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, nextBackoff, PendingRestarts, shouldRestart, type RestartPolicy } from '../../../../src/engine/containers/restart';
import { FakeClock } from './fake-clock';

const facts = (o: Partial<{ exitCode: number; manuallyStopped: boolean; restartCount: number }> = {}) => ({ exitCode: 0, manuallyStopped: false, restartCount: 0, ...o });

describe('restart policies', () => {
  test('each policy decides as dockerd does', () => {
    const cases: [RestartPolicy | undefined, Parameters<typeof facts>[0], boolean][] = [
      [undefined, { exitCode: 1 }, false],
      [{ name: 'no' }, { exitCode: 1 }, false],
      [{ name: 'always' }, { exitCode: 0 }, true],
      [{ name: 'always' }, { exitCode: 137, manuallyStopped: true }, true],
      [{ name: 'unless-stopped' }, { exitCode: 0 }, true],
      [{ name: 'unless-stopped' }, { exitCode: 143, manuallyStopped: true }, false],
      [{ name: 'on-failure' }, { exitCode: 0 }, false],
      [{ name: 'on-failure' }, { exitCode: 3, restartCount: 1000 }, true],
      [{ name: 'on-failure', maxRetries: 2 }, { exitCode: 3, restartCount: 1 }, true],
      [{ name: 'on-failure', maxRetries: 2 }, { exitCode: 3, restartCount: 2 }, false],
      // dockerd's on-failure does not look at a stop by hand.
      [{ name: 'on-failure', maxRetries: 2 }, { exitCode: 143, manuallyStopped: true }, true],
    ];
    for (const [p, f, want] of cases) assert.equal(shouldRestart(p, facts(f)), want, `${JSON.stringify(p)} ${JSON.stringify(f)}`);
  });

  test('the back-off starts at 100 ms, doubles up to a minute, and starts over after a 10 s run', () => {
    const seen: number[] = [];
    let last = 0;
    for (let i = 0; i < 12; i++) seen.push((last = nextBackoff(last, 50)));
    assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
    assert.equal(nextBackoff(60000, 9_999), 60000);
    assert.equal(nextBackoff(60000, 10_000), 100);
  });

  test('decide: a called-off restart moves the back-off on but does not restart; `no` keeps none', () => {
    const always: RestartPolicy = { name: 'always' };
    assert.deepEqual(decide(always, { ...facts(), ranMs: 5, lastBackoffMs: 400, canceled: false }), { delayMs: 800, backoffMs: 800 });
    assert.deepEqual(decide(always, { ...facts(), ranMs: 5, lastBackoffMs: 400, canceled: true }), { backoffMs: 800 });
    assert.deepEqual(decide({ name: 'on-failure' }, { ...facts({ exitCode: 0 }), ranMs: 5, lastBackoffMs: 0, canceled: false }), { backoffMs: 100 });
    assert.deepEqual(decide(undefined, { ...facts({ exitCode: 1 }), ranMs: 5, lastBackoffMs: 0, canceled: false }), { backoffMs: 0 });
  });

  test('pending restarts run when due, one per container, and can be called off', () => {
    const clock = new FakeClock();
    const p = new PendingRestarts(clock);
    const ran: string[] = [];
    p.schedule('a', 100, () => ran.push('a'));
    p.schedule('b', 50, () => ran.push('b'));
    p.schedule('a', 200, () => ran.push('a2')); // replaces the first
    assert.deepEqual(clock.pending(), [50, 200]);
    clock.advance(150);
    assert.deepEqual(ran, ['b']);
    assert.ok(p.has('a') && !p.has('b'));
    assert.equal(p.cancel('a'), true);
    assert.equal(p.cancel('a'), false);
    clock.advance(1000);
    assert.deepEqual(ran, ['b']);
    p.schedule('c', -5, () => ran.push('c')); // overdue: at once
    p.schedule('d', 10, () => ran.push('d'));
    p.cancelAll();
    clock.advance(0);
    assert.deepEqual(ran, ['b']);
  });
});
