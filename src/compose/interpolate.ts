// The Compose Specification's interpolation: $VAR, ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+replacement},
// ${VAR+replacement}, nested in defaults, and $$ for a literal $.
import { ComposeError, keyPath } from './errors';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

// Interpolates one string; `where` names the key for errors.
export function interpolateString(s: string, lookup: Lookup, where = ''): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new ComposeError(where, `invalid interpolation format for ${s}: unterminated "\${"`);
      out += braced(s.slice(i + 2, end), lookup, where, s);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (m) {
      out += lookup(m[0]) ?? '';
      i += 1 + m[0].length;
      continue;
    }
    // A lone $ stays as it is.
    out += '$';
    i++;
  }
  return out;
}

// The index of the } that closes a ${ starting at `from`, skipping nested ${…}.
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

function braced(body: string, lookup: Lookup, where: string, whole: string): string {
  const m = NAME.exec(body);
  if (!m) throw new ComposeError(where, `invalid interpolation format for ${whole}: "\${${body}}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new ComposeError(where, `invalid interpolation format for ${whole}: "\${${body}}"`);
  const arg = rest.slice(op.length);
  const unsetOrEmpty = value === undefined || value === '';
  const missing = op.startsWith(':') ? unsetOrEmpty : value === undefined;
  switch (op.replace(':', '')) {
    case '-':
      return missing ? interpolateString(arg, lookup, where) : (value as string);
    case '+':
      return missing ? '' : interpolateString(arg, lookup, where);
    default: {
      if (!missing) return value as string;
      const msg = interpolateString(arg, lookup, where);
      throw new ComposeError(where, `required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`);
    }
  }
}

// Interpolates every string value (not keys) of a parsed YAML tree.
export function interpolateTree(v: unknown, lookup: Lookup, where = ''): unknown {
  if (typeof v === 'string') return interpolateString(v, lookup, where);
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, lookup, keyPath(where, i)));
  if (v && typeof v === 'object' && !(v instanceof Tagged)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolateTree(x, lookup, keyPath(where, k));
    return out;
  }
  if (v instanceof Tagged) return new Tagged(v.tag, interpolateTree(v.value, lookup, where));
  return v;
}

// A value carrying a YAML tag the merge reads: !reset or !override.
export class Tagged {
  constructor(readonly tag: '!reset' | '!override', readonly value: unknown) {}
}
