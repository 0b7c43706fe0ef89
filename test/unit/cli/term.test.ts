// Detach keys: moby/term's key names, and the scanner that finds them in
// typed or pasted input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ESCAPE_KEYS, detachKeyBytes, EscapeScanner } from '../../../src/cli/term';

describe('detach keys', () => {
  it('reads docker key names', () => {
    assert.deepEqual([...detachKeyBytes('ctrl-p,ctrl-q')], [16, 17]);
    assert.deepEqual([...detachKeyBytes('ctrl-@,ctrl-[,ctrl-_,DEL,a')], [0, 27, 31, 127, 97]);
    assert.throws(() => detachKeyBytes('foo'), /^Error: Unknown character: 'foo'$/);
    assert.throws(() => detachKeyBytes('ctrl-P'), /Unknown character/);
  });

  it('passes input on, holds a partial match, and stops at the full one', () => {
    const s = new EscapeScanner(DEFAULT_ESCAPE_KEYS);
    assert.deepEqual(s.push(Buffer.from('ab')), { data: Buffer.from('ab'), detached: false });
    assert.deepEqual(s.push(Buffer.from([16])), { data: Buffer.alloc(0), detached: false });
    // Not the second key: the held ctrl-p was input after all.
    assert.deepEqual(s.push(Buffer.from('x')), { data: Buffer.from([16, 120]), detached: false });
    assert.deepEqual(s.push(Buffer.from([99, 16, 17, 100])), { data: Buffer.from([99]), detached: true });
  });

  it('finds a sequence split across chunks, and a repeated first key', () => {
    const s = new EscapeScanner(detachKeyBytes('ctrl-x,ctrl-x,q'));
    assert.deepEqual(s.push(Buffer.from([24])).data, Buffer.alloc(0));
    // A third ctrl-x: the first was input, the last two may begin the sequence.
    assert.deepEqual(s.push(Buffer.from([24, 24])), { data: Buffer.from([24]), detached: false });
    assert.deepEqual(s.push(Buffer.from('q')), { data: Buffer.alloc(0), detached: true });
  });
});
