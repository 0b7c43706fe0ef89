// Layer identities: chain ids and the empty layer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { chainIDOf, chainIDs, EMPTY_LAYER_DIFFID } from '../../../src/oci/layers';

const sha = (s: string | Buffer) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const diff = (s: string) => sha(s);

test('chainIDOf: the base layer\'s chain id is its diff id; the rest hash "parent diffID"', () => {
  const a = diff('a');
  const b = diff('b');
  assert.equal(chainIDOf(undefined, a), a);
  const expected = 'sha256:' + createHash('sha256').update(`${a} ${b}`).digest('hex');
  assert.equal(chainIDOf(a, b), expected);
  assert.notEqual(chainIDOf(a, b), chainIDOf(b, a));
});

test('the empty layer digest is that of two zero blocks', () => {
  assert.equal(sha(Buffer.alloc(1024)), EMPTY_LAYER_DIFFID);
});

test('chainIDs: the chain id of every layer, bottom first', () => {
  const [a, b, c] = [diff('a'), diff('b'), diff('c')];
  assert.deepEqual(chainIDs([]), []);
  assert.deepEqual(chainIDs([a, b, c]), [a, chainIDOf(a, b), chainIDOf(chainIDOf(a, b), c)]);
});
