// Variable substitution in Dockerfile words, with the rules of BuildKit's
// shell lexer (frontend/dockerfile/shell): single quotes are literal,
// double quotes let the escape token escape `"`, `$` and itself only,
// `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
// `${NAME+word}`, `${NAME:?msg}` and `${NAME?msg}`. Quotes are removed
// (unless rawQuotes); in words mode unquoted whitespace, from the text or
// from an expansion, separates words.

export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  escape?: string; // '\\' or '`'
  rawQuotes?: boolean; // keep quote characters in the result
  rawEscapes?: boolean; // keep escape tokens in the result
  skipUnset?: boolean; // leave `$NAME` of an unset variable as written
}

export interface WordResult {
  text: string;
  // Variables the word looked up (set or not): what a cache key depends on.
  used: Set<string>;
}

export class LexError extends Error {}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isNameChar = (c: string) => /[\p{L}\p{N}_]/u.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';
const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

// Collects output, as one string or as words.
class Words {
  words: string[] = [];
  cur = '';
  inWord = false; // a quoted "" makes a word even when empty
  constructor(private split: boolean) {}
  add(s: string): void {
    if (!this.split) {
      this.cur += s;
      return;
    }
    for (const c of s) {
      if (isSpace(c)) {
        if (this.inWord) this.end();
        continue;
      }
      this.cur += c;
      this.inWord = true;
    }
  }
  addRaw(s: string): void {
    this.cur += s;
    this.inWord = true;
  }
  end(): void {
    if (this.inWord || this.cur) this.words.push(this.cur);
    this.cur = '';
    this.inWord = false;
  }
}

class Scan {
  pos = 0;
  used = new Set<string>();
  constructor(readonly s: string, readonly env: EnvLookup, readonly o: Required<LexOptions>) {}
  peek(): string | undefined {
    return this.pos < this.s.length ? this.s[this.pos] : undefined;
  }
  next(): string | undefined {
    return this.pos < this.s.length ? this.s[this.pos++] : undefined;
  }

  // Processes until stop (consumed) or the end; returns the text and
  // whether stop was found.
  run(out: Words, stop?: string): boolean {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return false;
      if (stop !== undefined && c === stop) {
        this.pos++;
        return true;
      }
      if (c === "'") {
        out.addRaw(this.single());
      } else if (c === '"') {
        out.addRaw(this.double());
      } else if (c === '$') {
        out.add(this.dollar());
      } else if (c === this.o.escape) {
        this.pos++;
        const n = this.next();
        if (n === undefined) return false; // an escape at the end is dropped
        out.addRaw((this.o.rawEscapes ? c : '') + n);
      } else {
        this.pos++;
        out.add(c);
      }
    }
  }

  private single(): string {
    this.pos++; // '
    let r = this.o.rawQuotes ? "'" : '';
    for (;;) {
      const c = this.next();
      if (c === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return r + (this.o.rawQuotes ? "'" : '');
      r += c;
    }
  }

  private double(): string {
    this.pos++; // "
    let r = this.o.rawQuotes ? '"' : '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (c === '"') {
        this.pos++;
        return r + (this.o.rawQuotes ? '"' : '');
      }
      if (c === '$') {
        r += this.dollar();
        continue;
      }
      this.pos++;
      if (c === this.o.escape) {
        const n = this.peek();
        if (n === undefined) continue;
        if (n === '"' || n === '$' || n === this.o.escape) {
          if (this.o.rawEscapes) r += c;
          r += this.next()!;
          continue;
        }
      }
      r += c;
    }
  }

  private name(): string {
    let name = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) return name;
      if (name === '' && isDigit(c)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL.has(c)) return this.next()!;
      if (!isNameChar(c)) return name;
      name += this.next();
    }
  }

  private lookup(name: string): string | undefined {
    this.used.add(name);
    return this.env(name);
  }

  // At a '$': the expansion.
  private dollar(): string {
    this.pos++; // $
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && this.o.skipUnset) return '$' + name;
      return v ?? '';
    }
    this.pos++; // {
    const name = this.name();
    let c = this.next();
    if (c === undefined) throw new LexError("syntax error: missing '}'");
    if (c === '}') {
      const v = this.lookup(name);
      if (v === undefined && this.o.skipUnset) return '${' + name + '}';
      return v ?? '';
    }
    let colon = false;
    if (c === ':') {
      colon = true;
      c = this.next();
      if (c === undefined) throw new LexError("syntax error: missing '}'");
    }
    if (c !== '-' && c !== '+' && c !== '?') {
      if (colon) throw new LexError(`unsupported modifier (${c}) in substitution`);
      throw new LexError(`unsupported modifier (${c}) in substitution`);
    }
    const w = new Words(false);
    if (!this.run(w, '}')) throw new LexError("syntax error: missing '}'");
    const word = w.cur;
    const v = this.lookup(name);
    const set = colon ? v !== undefined && v !== '' : v !== undefined;
    if (v === undefined && this.o.skipUnset && c !== '+') return '${' + name + (colon ? ':' : '') + c + word + '}';
    switch (c) {
      case '-':
        return set ? v! : word;
      case '+':
        return set ? word : '';
      default:
        if (!set) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        return v!;
    }
  }
}

export class ShellLex {
  private o: Required<LexOptions>;
  constructor(o: LexOptions = {}) {
    this.o = { escape: o.escape ?? '\\', rawQuotes: !!o.rawQuotes, rawEscapes: !!o.rawEscapes, skipUnset: !!o.skipUnset };
  }

  // The word with its variables expanded and quotes removed; whitespace kept.
  processWord(word: string, env: EnvLookup): WordResult {
    const sc = new Scan(word, env, this.o);
    const w = new Words(false);
    sc.run(w);
    return { text: w.cur, used: sc.used };
  }

  // The same, split into words on unquoted whitespace.
  processWords(word: string, env: EnvLookup): { words: string[]; used: Set<string> } {
    const sc = new Scan(word, env, this.o);
    const w = new Words(true);
    sc.run(w);
    w.end();
    return { words: w.words, used: sc.used };
  }
}

// An env list ("K=V" strings) as a lookup; the last one wins.
export function envLookup(...lists: (string[] | Map<string, string> | undefined)[]): EnvLookup {
  const m = new Map<string, string>();
  for (const l of lists) {
    if (!l) continue;
    if (l instanceof Map) for (const [k, v] of l) m.set(k, v);
    else
      for (const kv of l) {
        const i = kv.indexOf('=');
        if (i < 0) m.set(kv, '');
        else m.set(kv.slice(0, i), kv.slice(i + 1));
      }
  }
  return (n) => m.get(n);
}
