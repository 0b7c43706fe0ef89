import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { randomName, validateName } from '../../../../src/engine/containers/names';

test('validateName adds the leading slash', () => {
  assert.equal(validateName('web'), '/web');
  assert.equal(validateName('/web'), '/web');
  assert.equal(validateName('My_app.1-x'), '/My_app.1-x');
  assert.equal(validateName('0a'), '/0a');
});

test('validateName rejects names outside [a-zA-Z0-9][a-zA-Z0-9_.-]+', () => {
  for (const bad of ['', '/', 'a', '/a', '-web', '_web', '.web', 'we b', 'a/b', 'web!', '//web', 'wéb']) {
    assert.throws(
      () => validateName(bad),
      (err: unknown) => {
        assert.ok(err instanceof BerthError, bad);
        assert.equal(err.kind, 'InvalidArgument');
        assert.equal(err.message, `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
        return true;
      },
    );
  }
});

test('randomName returns an adjective_surname that is a valid name', () => {
  const seen: string[] = [];
  const n = randomName((x) => {
    seen.push(x);
    return false;
  });
  assert.match(n, /^\/[a-z]+_[a-z]+$/);
  assert.deepEqual(seen, [n]);
  assert.equal(validateName(n), n);
});

test('randomName retries taken names and adds digits after repeated clashes', () => {
  let calls = 0;
  const asked: string[] = [];
  const n = randomName((x) => {
    asked.push(x);
    return ++calls <= 11;
  });
  assert.equal(calls, 12);
  assert.match(n, /^\/[a-z]+_[a-z]+\d{1,2}$/);
  for (const a of asked.slice(0, 11)) assert.match(a, /^\/[a-z]+_[a-z]+$/);
});

test('randomName never returns a taken name', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = randomName((x) => taken.has(x));
    assert.ok(!taken.has(n));
    taken.add(n);
  }
  assert.equal(taken.size, 200);
});
