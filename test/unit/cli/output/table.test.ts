import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable } from '../../../../src/cli/output/table';

describe('formatTable (text/tabwriter, minwidth 10, padding 3)', () => {
  it('pads every column but the last', () => {
    const out = formatTable([
      ['CONTAINER ID', 'IMAGE', 'NAMES'],
      ['abc', 'busybox:latest', 'x'],
    ]);
    assert.equal(out, 'CONTAINER ID   IMAGE            NAMES\nabc            busybox:latest   x\n');
  });

  it('counts wide characters as two columns', () => {
    assert.equal(formatTable([['中文', 'x'], ['ab', 'y']]), '中文      x\nab        y\n');
  });
});
