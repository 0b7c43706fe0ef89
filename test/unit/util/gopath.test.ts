import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base, clean } from '../../../src/util/gopath';

describe("Go's path functions", () => {
  it('base is filepath.Base', () => {
    assert.equal(base(''), '.');
    assert.equal(base('/'), '/');
    assert.equal(base('///'), '/');
    assert.equal(base('/etc/'), 'etc');
    assert.equal(base('/etc/.'), '.');
    assert.equal(base('a'), 'a');
  });

  it('clean is filepath.Clean', () => {
    assert.equal(clean('a//b/../c/.'), 'a/c');
  });
});
