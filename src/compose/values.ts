// Type checks for raw YAML values, each naming the key path when it fails.
import { ComposeError } from './errors';
import { parseGoDuration } from '../util/duration';

export type Raw = unknown;

export function isMap(v: Raw): v is Record<string, Raw> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

export function mapOf(v: Raw, path: string): Record<string, Raw> {
  if (!isMap(v)) throw new ComposeError(path, 'must be a mapping');
  return v;
}

export function str(v: Raw, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ComposeError(path, 'must be a string');
}

export function bool(v: Raw, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false|yes|no|y|n|on|off)$/i.test(v)) return /^(true|yes|y|on)$/i.test(v);
  throw new ComposeError(path, 'must be a boolean');
}

export function int(v: Raw, path: string, min = -Infinity): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new ComposeError(path, 'must be an integer');
  if (n < min) throw new ComposeError(path, `must be at least ${min}`);
  return n;
}

export function num(v: Raw, path: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new ComposeError(path, 'must be a number');
  return n;
}

// A string or a list of strings, as a list.
export function strList(v: Raw, path: string): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw new ComposeError(path, 'must be a string or a list of strings');
  return v.map((x, i) => str(x, `${path}[${i}]`));
}

export function list(v: Raw, path: string): Raw[] {
  if (!Array.isArray(v)) throw new ComposeError(path, 'must be a list');
  return v;
}

// A list of "KEY=VALUE" (a bare KEY is null) or a mapping; `sep` is "=" or ":" (extra_hosts).
export function dict(v: Raw, path: string, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const s = str(x, `${path}[${i}]`);
      let at = s.indexOf(sep);
      if (sep === ':' && at < 0) at = s.indexOf('=');
      if (at < 0) out[s] = null;
      else out[s.slice(0, at)] = s.slice(at + 1);
    });
    return out;
  }
  if (!isMap(v)) throw new ComposeError(path, 'must be a mapping or a list of strings');
  for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? null : str(x, `${path}.${k}`);
  return out;
}

export function strDict(v: Raw, path: string): Record<string, string> {
  const d = dict(v, path);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(d)) out[k] = x ?? '';
  return out;
}

// A Go duration ("1m30s"); kept as written.
export function duration(v: Raw, path: string): string {
  const s = typeof v === 'number' ? `${v}s` : str(v, path);
  try {
    parseGoDuration(s);
  } catch {
    throw new ComposeError(path, `invalid duration "${s}"`);
  }
  return s;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

// A byte size: a number, or "512m", "1.5g", "2GiB", "100kb".
export function bytes(v: Raw, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(v.trim()) : null;
  if (!m) throw new ComposeError(path, `invalid size "${String(v)}"`);
  return Math.trunc(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

// shellwords: how compose splits a string command into words.
export function shellSplit(s: string, path: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && (s[i + 1] === '"' || s[i + 1] === '\\')) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (q) throw new ComposeError(path, `unterminated quote in "${s}"`);
  if (inWord) words.push(cur);
  return words;
}
