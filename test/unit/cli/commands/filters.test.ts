import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilters } from '../../../../src/cli/commands/filters';

describe('filters', () => {
  it('encodes ps filters as map[string][]string', () => {
    assert.equal(parseFilters([]), undefined);
    assert.equal(parseFilters(['status=exited', 'status=created', 'name=web']), '{"status":["exited","created"],"name":["web"]}');
    assert.throws(() => parseFilters(['nope']), /bad format of filter/);
  });
});
