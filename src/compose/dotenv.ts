// .env files as compose reads them: KEY=VALUE lines, `export ` prefixes,
// comments, single quotes (literal), double quotes (with \n escapes and
// interpolation), unquoted values (a ` #` starts a comment), and a bare KEY
// that takes the value from the environment.
import { ComposeError } from './errors';
import { interpolateString, type Lookup } from './interpolate';

export function parseDotenv(text: string, file: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const look: Lookup = (n) => (n in out ? out[n] : lookup(n));
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.\-]*$/.test(key)) throw new ComposeError('', `failed to read ${file}: line ${i + 1}: unexpected character in variable name "${key}"`);
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      continue;
    }
    let raw = line.slice(eq + 1).trimStart();
    const q = raw[0];
    if (q === "'" || q === '"') {
      // A quoted value may span lines.
      let j = 1;
      let acc = raw;
      for (;;) {
        const close = findClose(acc, q, j);
        if (close >= 0) {
          raw = acc.slice(1, close);
          break;
        }
        if (i + 1 >= lines.length) throw new ComposeError('', `failed to read ${file}: line ${i + 1}: unterminated quoted value`);
        j = acc.length;
        acc += `\n${lines[++i]}`;
      }
      if (q === "'") out[key] = raw;
      else {
        const unescaped = raw.replace(/\\([nrt"\\$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c] ?? (c === '$' ? '$$' : c));
        out[key] = interpolateString(unescaped, look, file);
      }
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash >= 0) raw = raw.slice(0, hash);
    out[key] = interpolateString(raw.trim(), look, file);
  }
  return out;
}

function findClose(s: string, q: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\' && q === '"') {
      i++;
      continue;
    }
    if (s[i] === q) return i;
  }
  return -1;
}
