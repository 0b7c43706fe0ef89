// What an upload is compressed with (engine/layers compressionOf).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compressionOf } from '../../../../src/engine/layers';
import { BerthError } from '../../../../src/errors';

const invalid = (re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  if (re) assert.match(err.message, re);
  return true;
};

describe('compressionOf', () => {
  test('sniffs gzip, refuses zstd, bzip2 and xz', () => {
    assert.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])), 'gzip');
    assert.equal(compressionOf(Buffer.from('ustar\0')), 'none');
    assert.throws(() => compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), invalid(/zstd/));
    assert.throws(() => compressionOf(Buffer.from('BZh91A')), invalid(/bzip2/));
    assert.throws(() => compressionOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), invalid(/xz/));
  });
});
