// JSON output as docker prints it: raw daemon JSON re-indented (Go's
// json.Indent keeps key order and number text), and a small subset of Go
// templates for --format.
import { UsageError } from './args';

// Go's json.Indent(dst, src, "", indent).
export function indentJSON(src: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let pendingOpen = false; // just wrote { or [; newline only if not empty
  const nl = () => '\n' + indent.repeat(depth);
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (pendingOpen && c !== '}' && c !== ']') {
      pendingOpen = false;
      depth++;
      out += nl();
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j;
      continue;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        pendingOpen = true;
        break;
      case '}':
      case ']':
        if (pendingOpen) pendingOpen = false;
        else {
          depth--;
          out += nl();
        }
        out += c;
        break;
      case ',':
        out += ',' + nl();
        break;
      case ':':
        out += ': ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Go's fmt %v of a decoded JSON value.
export function goValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
}

function lookup(data: unknown, path: string): unknown {
  if (path === '.') return data;
  let cur: any = data;
  for (const key of path.slice(1).split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

function evalArg(data: unknown, tok: string): unknown {
  if (tok.startsWith('.')) return lookup(data, tok);
  if (/^"(?:[^"\\]|\\.)*"$/.test(tok)) return JSON.parse(tok);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  throw new UsageError(`template parsing error: unsupported argument ${tok}`);
}

// Supports {{.Path}}, {{json .Path}}, {{index .Path "key"}}, {{upper|lower|len .Path}},
// and "\t"/"\n" escapes, which covers everyday `inspect -f` use.
export function renderTemplate(tmpl: string, data: unknown): string {
  tmpl = tmpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return tmpl.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, action: string) => {
    const toks = action.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    if (!toks[0]) throw new UsageError('template parsing error: missing value for command');
    const [fn, ...rest] = toks;
    if (fn.startsWith('.')) {
      if (rest.length) throw new UsageError(`template parsing error: can't give argument to non-function ${fn}`);
      return goValue(lookup(data, fn));
    }
    const args = rest.map((t) => evalArg(data, t));
    switch (fn) {
      case 'json':
        // docker's json function does not escape HTML characters either.
        return JSON.stringify(args[0] ?? null);
      case 'index': {
        let v: any = args[0];
        for (const k of args.slice(1)) v = v == null ? undefined : v[k as any];
        return goValue(v);
      }
      case 'upper':
        return goValue(args[0]).toUpperCase();
      case 'lower':
        return goValue(args[0]).toLowerCase();
      case 'len': {
        const v: any = args[0];
        return String(Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0);
      }
      case 'print':
        return args.map(goValue).join(' ');
      default:
        throw new UsageError(`template parsing error: function "${fn}" not defined`);
    }
  });
}
