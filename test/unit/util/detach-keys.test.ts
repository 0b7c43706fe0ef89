import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../../src/util/detach-keys';

test('parseDetachKeys reads Docker\'s format: ctrl-<x>, single characters, DEL, comma separated', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...DEFAULT_DETACH_KEYS], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 1, 26, 27, 28, 29, 30, 31]);
  assert.deepEqual([...parseDetachKeys('a,b,Z,1,DEL')], [97, 98, 90, 49, 127]);
  assert.deepEqual([...parseDetachKeys('ctrl-x')], [24]);
});

test('parseDetachKeys refuses what moby/term refuses, naming the key', () => {
  for (const [keys, key] of [['ctrl-P', 'ctrl-P'], ['ctrl-p,', ''], ['ab', 'ab'], ['ctrl-1', 'ctrl-1'], ['', ''], ['del', 'del'], ['é', 'é']]) {
    assert.throws(() => parseDetachKeys(keys), new RegExp(`^Error: Unknown character: '${key.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}'$`), keys);
  }
});
