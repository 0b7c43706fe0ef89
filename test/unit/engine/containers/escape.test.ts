import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EscapeProxy } from '../../../../src/engine/containers/escape';

const b = (...x: (number | string)[]) => Buffer.concat(x.map((v) => (typeof v === 'number' ? Buffer.from([v]) : Buffer.from(v))));
const feed = (p: EscapeProxy, chunk: Buffer) => {
  const r = p.feed(chunk);
  return [r.pass.toString('latin1'), r.detached] as const;
};

test('the default sequence (ctrl-p, ctrl-q) detaches and is not passed on', () => {
  const p = new EscapeProxy();
  assert.deepEqual(feed(p, b('ls', 16, 17, 'after')), ['ls', true]);
});

test('the sequence split across reads still detaches; the held byte is not passed meanwhile', () => {
  const p = new EscapeProxy();
  assert.deepEqual(feed(p, b('x', 16)), ['x', false]);
  assert.deepEqual(feed(p, b(17)), ['', true]);
});

test('a partial match followed by other keys passes everything on, in order', () => {
  const p = new EscapeProxy();
  assert.deepEqual(feed(p, b(16)), ['', false]);
  assert.deepEqual(feed(p, b('a')), ['\x10a', false]);
  // As in Docker, the byte that broke a match does not start a new one.
  const q = new EscapeProxy();
  assert.deepEqual(feed(q, b(16, 16, 17)), ['\x10\x10\x11', false]);
  assert.deepEqual(feed(q, b(16, 17)), ['', true]);
});

test('custom keys, including a single key; an empty sequence means the default', () => {
  const p = new EscapeProxy(Buffer.from([1, 2, 3]));
  assert.deepEqual(feed(p, b(1, 2, 'z', 1, 2, 3)), ['\x01\x02z', true]);
  const one = new EscapeProxy(Buffer.from([24]));
  assert.deepEqual(feed(one, b('ab', 24)), ['ab', true]);
  const dflt = new EscapeProxy(Buffer.alloc(0));
  assert.deepEqual(feed(dflt, b(16, 17)), ['', true]);
});
