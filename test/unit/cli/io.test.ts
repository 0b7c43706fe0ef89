import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readLine } from '../../../src/cli/io';

describe('prompts', () => {
  it('reads answers one line at a time', async () => {
    const input = Readable.from([Buffer.from('y\nsecond line\r\nrest')]);
    assert.equal(await readLine(input), 'y');
    assert.equal(await readLine(input), 'second line');
    assert.equal(await readLine(input), 'rest');
    assert.equal(await readLine(input), undefined);
  });
});
