// Docker's detach key format (moby/term's ToBytes): comma-separated keys,
// each a single character (itself), `ctrl-<x>` for x in @, a-z, [, \, ],
// ^ and _ (bytes 0-31), or `DEL` (127). The daemon and the CLIs parse it
// alike; each words its own error around the one thrown here.
export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]); // ctrl-p, ctrl-q

const CTRL = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

export function parseDetachKeys(keys: string): Buffer {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    // One character (one byte as Go counts: an ASCII one).
    if (key.length === 1 && key.charCodeAt(0) < 128) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    const i = m ? CTRL.indexOf(m[1]) : -1;
    if (i >= 0) out.push(i);
    else if (key === 'DEL') out.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(out);
}
