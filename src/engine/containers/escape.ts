// Watches a TTY client's keystrokes for the detach sequence (moby/term's
// escape proxy): the sequence itself never reaches the process; a partial
// match is held back until the next byte decides, and passed on when it
// turns out not to be the sequence.
import { DEFAULT_DETACH_KEYS } from '../../util/detach-keys';

export class EscapeProxy {
  private matched = 0;

  constructor(private keys: Buffer = DEFAULT_DETACH_KEYS) {
    if (keys.length === 0) this.keys = DEFAULT_DETACH_KEYS;
  }

  // What to pass on from `chunk`, and whether the sequence is now complete
  // (then nothing after it in the chunk counts).
  feed(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.matched = 0;
          return { pass: Buffer.from(out), detached: true };
        }
        continue;
      }
      // Not the sequence after all: what was held goes through with this
      // byte (which, as in Docker, does not start the sequence anew).
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]);
      this.matched = 0;
      out.push(b);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
