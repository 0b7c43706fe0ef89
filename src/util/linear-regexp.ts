// Regular expressions a client sends (filters) run in V8's linear-time
// engine, as dockerd runs them in Go's RE2: a backtracking engine lets one
// pattern like ^(a+)+$ stall the whole daemon. Patterns come in Go's syntax;
// translate() turns the forms clients use into JavaScript's, and anything
// the linear engine cannot run (or Go would reject) gives `undefined`, which
// callers treat as matching nothing, as dockerd does with an invalid pattern.
//
// Limits of V8's linear engine that Go does not have: no case-insensitive
// flag (so (?i) is translated by folding ASCII letters), no Unicode classes,
// and counted repetitions only up to 16 (a{2,1000} and a{20} are refused).
import * as v8 from 'node:v8';

v8.setFlagsFromString('--enable-experimental-regexp-engine');

// Whether this V8 runs the linear engine (the flag above took effect).
export const linearEngine = (() => {
  try {
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
})();

class Refused extends Error {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

// Escapes that mean the same in Go and in JavaScript.
const SAME_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'n', 't', 'r', 'f', 'v']);

const isLetter = (c: string) => /^[A-Za-z]$/.test(c);
const otherCase = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
const escapeChar = (c: string) => (/[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c);

interface Flags { i: boolean; s: boolean }

// A Go (RE2) pattern as JavaScript source and flags; throws Refused.
export function translate(pattern: string): { source: string; flags: string } {
  let pos = 0;
  let out = '';
  let multiline = false;
  let flags: Flags = { i: false, s: false };
  const stack: Flags[] = [];
  const peek = (s: string) => pattern.startsWith(s, pos);

  const literal = (c: string) => (flags.i && isLetter(c) ? `[${c}${otherCase(c)}]` : escapeChar(c));

  // "(?ims-ims" up to ")" or ":"; returns the flags it sets.
  const flagGroup = (): { set: Flags; end: string; m: boolean } => {
    let neg = false;
    let m = false;
    const set = { ...flags };
    for (;;) {
      const c = pattern[pos++];
      if (c === ')' || c === ':') return { set, end: c, m };
      if (c === '-') neg = true;
      else if (c === 'i' || c === 's') set[c] = !neg;
      else if (c === 'm' && !neg) m = true;
      else throw new Refused(`flag ${c}`);
    }
  };

  const classItem = (add: (s: string) => void): string | undefined => {
    // One class member: returns the char for a single literal (so a range can use it).
    const c = pattern[pos++];
    if (c === undefined) throw new Refused('unterminated class');
    if (c === '[' && peek(':')) {
      const end = pattern.indexOf(':]', pos + 1);
      const name = end < 0 ? '' : pattern.slice(pos + 1, end);
      if (!POSIX[name]) throw new Refused(`class [:${name}:]`);
      pos = end + 2;
      add(POSIX[name]);
      return undefined;
    }
    if (c === '\\') {
      const e = pattern[pos++];
      if (e === undefined) throw new Refused('trailing backslash');
      if (SAME_ESCAPES.has(e) && e !== 'b' && e !== 'B') {
        add(`\\${e}`);
        return undefined;
      }
      if (/[A-Za-z0-9]/.test(e)) throw new Refused(`escape \\${e}`);
      return e;
    }
    return c;
  };

  const charClass = () => {
    let body = '';
    const add = (s: string) => (body += s);
    const neg = peek('^');
    if (neg) pos++;
    let first = true;
    while (first || !peek(']')) {
      if (pos >= pattern.length) throw new Refused('unterminated class');
      first = false;
      const lo = classItem(add);
      if (lo === undefined) continue;
      let hi = lo;
      if (peek('-') && pattern[pos + 1] !== ']' && pos + 1 < pattern.length) {
        pos++;
        const h = classItem(() => {
          throw new Refused('class in a range');
        });
        hi = h!;
        if (hi < lo) throw new Refused('bad range');
      }
      add(lo === hi ? escapeChar(lo) : `${escapeChar(lo)}-${escapeChar(hi)}`);
      if (flags.i) {
        // The other case of every ASCII letter in lo..hi, as ranges.
        for (const [a, z, shift] of [['a', 'z', -32], ['A', 'Z', 32]] as const) {
          const from = Math.max(lo.charCodeAt(0), a.charCodeAt(0));
          const to = Math.min(hi.charCodeAt(0), z.charCodeAt(0));
          if (from <= to) add(`${String.fromCharCode(from + shift)}-${String.fromCharCode(to + shift)}`);
        }
      }
    }
    pos++; // ]
    out += `[${neg ? '^' : ''}${body}]`;
  };

  while (pos < pattern.length) {
    const c = pattern[pos++];
    if (c === '\\') {
      const e = pattern[pos++];
      if (e === undefined) throw new Refused('trailing backslash');
      if (e === 'Q') {
        const end = pattern.indexOf('\\E', pos);
        const text = end < 0 ? pattern.slice(pos) : pattern.slice(pos, end);
        pos = end < 0 ? pattern.length : end + 2;
        for (const ch of text) out += literal(ch);
      } else if (e === 'A' || e === 'z') {
        if (multiline) throw new Refused(`\\${e} with (?m)`);
        out += e === 'A' ? '^' : '$';
      } else if (SAME_ESCAPES.has(e)) {
        out += `\\${e}`;
      } else if (/[A-Za-z0-9]/.test(e)) {
        // Go has no backreferences; \p, \x{…}, \C and octal are not translated.
        throw new Refused(`escape \\${e}`);
      } else {
        out += literal(e);
      }
    } else if (c === '[') {
      charClass();
    } else if (c === '(') {
      if (peek('?P<') || peek('?<')) {
        if (peek('?<=') || peek('?<!')) throw new Refused('lookbehind');
        pos += peek('?P<') ? 3 : 2;
        stack.push(flags);
        out += '(?<';
      } else if (peek('?')) {
        pos++;
        if (peek('=') || peek('!')) throw new Refused('lookahead');
        const atStart = out === '' && stack.length === 0;
        const g = flagGroup();
        if (g.m) {
          if (!atStart || g.end !== ')') throw new Refused('(?m) other than at the start');
          multiline = true;
        }
        if (g.end === ')') {
          flags = g.set;
        } else {
          stack.push(flags);
          flags = g.set;
          out += '(?:';
        }
      } else {
        stack.push(flags);
        out += '(';
      }
    } else if (c === ')') {
      const f = stack.pop();
      if (!f) throw new Refused('unbalanced )');
      flags = f;
      out += ')';
    } else if (c === '.') {
      out += flags.s ? '[\\s\\S]' : '[^\\n]';
    } else if ('*+?{}|^$'.includes(c)) {
      out += c;
    } else {
      out += literal(c);
    }
  }
  if (stack.length) throw new Refused('unbalanced (');
  return { source: out, flags: multiline ? 'm' : '' };
}

// A linear-time RegExp for a client's Go pattern, or undefined (match nothing).
export function linearRegExp(pattern: string): RegExp | undefined {
  if (!linearEngine) return undefined;
  try {
    const { source, flags } = translate(pattern);
    return new RegExp(source, `${flags}l`);
  } catch {
    return undefined;
  }
}
