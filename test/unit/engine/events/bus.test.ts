// The event bus: subscribers, and the ring of past events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus, type EngineEvent } from '../../../../src/engine/events/bus';

test('keeps the last events, oldest first, and forgets beyond its size', () => {
  const bus = new EventBus(() => {}, 3);
  for (let i = 0; i < 5; i++) bus.publish('container', `a${i}`, `id${i}`);
  assert.deepEqual(bus.past(0n).map((e) => e.action), ['a2', 'a3', 'a4']);
});

test('past takes since and until, both inclusive, in nanoseconds', () => {
  const bus = new EventBus();
  for (let i = 0; i < 4; i++) bus.publish('image', `a${i}`, 'x');
  const all = bus.past(0n);
  assert.ok(all.every((e, i) => i === 0 || e.timeNano > all[i - 1].timeNano), 'timeNano increases');
  assert.deepEqual(bus.past(all[1].timeNano, all[2].timeNano).map((e) => e.action), ['a1', 'a2']);
  assert.deepEqual(bus.past(all[3].timeNano + 1n), []);
});

test('subscribers get each event; one that throws neither stops the others nor the publisher', () => {
  const errors: unknown[] = [];
  const bus = new EventBus((err) => errors.push(err));
  const got: EngineEvent[] = [];
  bus.subscribe(() => { throw new Error('boom'); });
  const off = bus.subscribe((e) => got.push(e));
  bus.publish('container', 'start', 'c1', { name: 'web' });
  off();
  bus.publish('container', 'stop', 'c1');
  assert.deepEqual(got.map((e) => [e.action, e.attributes.name]), [['start', 'web']]);
  assert.equal(errors.length, 2);
});
