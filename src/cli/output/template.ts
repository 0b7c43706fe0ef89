// A Go text/template interpreter, big enough for what docker users put in
// --format: fields and method calls (`.Label "k"`), pipelines, parentheses,
// variables, if/else/with/range, comments, trim markers, and the functions
// docker adds (json, split, join, title, lower, upper, pad, truncate) next to
// Go's own (index, len, print, printf, println, eq, ne, lt, le, gt, ge, and,
// or, not, slice).
//
// Values: plain JS objects act as Go maps (a missing key prints "<no value>"),
// GoStruct values as Go structs whose fields are methods (an unknown field is
// an error, as in docker's formatter contexts).

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// A Go struct seen by a template: each field is a method (called with the
// template's arguments). `fallback` makes it a map with methods (docker's
// SubHeaderContext). `json` is what {{json .}} prints (docker's MarshalJSON).
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly methods: Record<string, (...args: any[]) => unknown>,
    readonly fallback?: Record<string, unknown>,
  ) {}

  // docker's formatter.MarshalJSON: every exported method without arguments,
  // as a JSON object with sorted keys (json.Marshal escapes <, > and &).
  marshalJSON(): string {
    const keys = Object.keys(this.methods).filter((k) => this.methods[k].length === 0).sort();
    return `{${keys.map((k) => `${goJSON(k, true)}:${goJSON(this.methods[k](), true)}`).join(',')}}`;
  }
}

// Go's encoding/json for plain values. Objects keep their key order: raw
// daemon JSON already has the order of docker's structs.
export function goJSON(v: unknown, escapeHTML = false): string {
  if (v instanceof GoStruct) return v.marshalJSON();
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return goJSONString(v, escapeHTML);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  // An int64 beyond a double's precision (an event's timeNano).
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => goJSON(x, escapeHTML)).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).map((k) => `${goJSONString(k, escapeHTML)}:${goJSON(o[k], escapeHTML)}`).join(',')}}`;
}

export function goJSONString(s: string, escapeHTML = false): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x2028 || c === 0x2029 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&'))) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

// Go's fmt %v of a value.
export function goValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (v instanceof GoStruct) return `{${v.typeName}}`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
}

// ---- lexing and parsing ----

interface TokBase {
  pos: number;
  end: number;
  // Directly after the previous token (".A.B" is one chain, ".A .B" two operands).
  adj: boolean;
}

type Tok = TokBase &
  (
    | { t: 'field'; v: string }
    | { t: 'dot' }
    | { t: 'var'; v: string }
    | { t: 'str'; v: string }
    | { t: 'num'; v: number }
    | { t: 'ident'; v: string }
    | { t: 'op'; v: '(' | ')' | '|' | ':=' | '=' | ',' }
  );

type Operand =
  | { k: 'field'; names: string[]; pos: number; text: string }
  | { k: 'var'; name: string; names: string[]; pos: number; text: string }
  | { k: 'pipe'; pipe: Pipe; names: string[]; pos: number; text: string }
  | { k: 'lit'; v: unknown; pos: number; text: string }
  | { k: 'fn'; name: string; pos: number; text: string }
  | { k: 'dot'; pos: number; text: string };

interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Operand[][];
  pos: number;
}

type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipe }
  | { k: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { k: 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { k: 'break' | 'continue' };

export interface Template {
  source: string;
  root: Node[];
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') n++;
  return n;
}

function parseError(src: string, pos: number, msg: string): TemplateError {
  return new TemplateError(`template: :${lineOf(src, pos)}: ${msg}`);
}

function unquote(src: string, raw: string, pos: number): string {
  if (raw[0] === '`') return raw.slice(1, -1);
  try {
    return JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b').replace(/\\'/g, "'"));
  } catch {
    throw parseError(src, pos, `invalid syntax: ${raw}`);
  }
}

function lexAction(src: string, start: number, end: number, funcs: Set<string>): Tok[] {
  const toks: Tok[] = [];
  let i = start;
  let prevEnd = -1;
  while (i < end) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const pos = i;
    const adj = prevEnd === i;
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < end && src[j] !== c) {
        if (c === '"' && src[j] === '\\') j++;
        if (c === '"' && src[j] === '\n') throw parseError(src, pos, 'unterminated quoted string');
        j++;
      }
      if (j >= end) throw parseError(src, pos, c === '"' ? 'unterminated quoted string' : 'unterminated raw quoted string');
      toks.push({ t: 'str', v: unquote(src, src.slice(i, j + 1), pos), pos, adj, end: 0 });
      i = j + 1;
    } else if (c === "'") {
      const m = /^'(\\.|[^'\\])'/.exec(src.slice(i, end));
      if (!m) throw parseError(src, pos, 'unterminated character constant');
      const ch = m[1].length === 2 ? unquote(src, `"${m[1]}"`, pos) : m[1];
      toks.push({ t: 'num', v: ch.codePointAt(0)!, pos, adj, end: 0 });
      i += m[0].length;
    } else if (c === '.' && !/[0-9]/.test(src[i + 1] ?? '')) {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, end));
      if (m) {
        toks.push({ t: 'field', v: m[0].slice(1), pos, adj, end: 0 });
        i += m[0].length;
      } else {
        toks.push({ t: 'dot', pos, adj, end: 0 });
        i++;
      }
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i, end))!;
      toks.push({ t: 'var', v: m[0], pos, adj, end: 0 });
      i += m[0].length;
    } else if (/[0-9+\-.]/.test(c)) {
      const m = /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?)/.exec(src.slice(i, end));
      if (!m || !m[0] || /^[+-]$/.test(m[0])) throw parseError(src, pos, `bad number syntax: "${src.slice(i, Math.min(end, i + 10)).split(/\s/)[0]}"`);
      toks.push({ t: 'num', v: Number(m[0].replace(/_/g, '')), pos, adj, end: 0 });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, end))!;
      const w = m[0];
      if (!KEYWORDS.has(w) && !funcs.has(w)) throw parseError(src, pos, `function "${w}" not defined`);
      toks.push({ t: 'ident', v: w, pos, adj, end: 0 });
      i += w.length;
    } else if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: 'op', v: ':=', pos, adj, end: 0 });
      i += 2;
    } else if (c === '(' || c === ')' || c === '|' || c === '=' || c === ',') {
      toks.push({ t: 'op', v: c, pos, adj, end: 0 });
      i++;
    } else {
      throw parseError(src, pos, `unexpected "${c}" in operand`);
    }
    prevEnd = i;
    toks[toks.length - 1].end = i; // the token's end, now that it is consumed
  }
  return toks;
}

class ActionParser {
  private i = 0;
  constructor(private src: string, private toks: Tok[], private endPos: number) {}

  peek(): Tok | undefined {
    return this.toks[this.i];
  }

  done(): boolean {
    return this.i >= this.toks.length;
  }

  pipe(ctxName: string, allowDecl: boolean): Pipe {
    const pos = this.peek()?.pos ?? this.endPos;
    const decl: string[] = [];
    let assign = false;
    // $x := ... or $k, $v := ...
    if (allowDecl && this.peek()?.t === 'var') {
      let j = this.i;
      const names: string[] = [];
      while (this.toks[j]?.t === 'var') {
        names.push((this.toks[j] as any).v);
        j++;
        if (this.toks[j]?.t === 'op' && (this.toks[j] as any).v === ',') j++;
        else break;
      }
      const op = this.toks[j];
      if (op?.t === 'op' && (op.v === ':=' || op.v === '=')) {
        decl.push(...names);
        assign = op.v === '=';
        this.i = j + 1;
      }
    }
    const cmds: Operand[][] = [];
    for (;;) {
      const cmd: Operand[] = [];
      while (!this.done()) {
        const t = this.peek()!;
        if (t.t === 'op' && (t.v === '|' || t.v === ')')) break;
        cmd.push(this.operand());
      }
      if (!cmd.length) throw parseError(this.src, pos, `missing value for ${ctxName}`);
      cmds.push(cmd);
      const t = this.peek();
      if (t?.t === 'op' && t.v === '|') {
        this.i++;
        continue;
      }
      break;
    }
    return { decl, assign, cmds, pos };
  }

  operand(): Operand {
    const t = this.toks[this.i++];
    let op: Operand;
    switch (t.t) {
      case 'field': {
        const names = [t.v];
        // Go places a chained field (.A.B) at its second name.
        const chainPos = this.peek()?.t === 'field' && this.peek()!.adj ? this.peek()!.pos : t.pos;
        while (this.peek()?.t === 'field' && this.peek()!.adj) names.push((this.toks[this.i++] as any).v);
        op = { k: 'field', names, pos: chainPos, text: '' };
        break;
      }
      case 'dot':
        op = { k: 'dot', pos: t.pos, text: '.' };
        break;
      case 'var': {
        const names: string[] = [];
        const chainPos = this.peek()?.t === 'field' && this.peek()!.adj ? this.peek()!.pos : t.pos;
        while (this.peek()?.t === 'field' && this.peek()!.adj) names.push((this.toks[this.i++] as any).v);
        op = { k: 'var', name: t.v, names, pos: chainPos, text: '' };
        break;
      }
      case 'str':
      case 'num':
        op = { k: 'lit', v: t.v, pos: t.pos, text: '' };
        break;
      case 'ident':
        if (t.v === 'true' || t.v === 'false') op = { k: 'lit', v: t.v === 'true', pos: t.pos, text: '' };
        else if (t.v === 'nil') op = { k: 'lit', v: null, pos: t.pos, text: '' };
        else if (KEYWORDS.has(t.v)) throw parseError(this.src, t.pos, `unexpected <${t.v}> in command`);
        else op = { k: 'fn', name: t.v, pos: t.pos, text: '' };
        break;
      case 'op':
        if (t.v === '(') {
          const pipe = this.pipe('parenthesized pipeline', true);
          const close = this.toks[this.i++];
          if (!close || close.t !== 'op' || close.v !== ')') throw parseError(this.src, t.pos, 'unclosed left paren');
          const names: string[] = [];
          while (this.peek()?.t === 'field' && this.peek()!.adj) names.push((this.toks[this.i++] as any).v);
          op = { k: 'pipe', pipe, names, pos: t.pos, text: '' };
          break;
        }
        throw parseError(this.src, t.pos, `unexpected "${t.v}" in operand`);
    }
    op.text = this.src.slice(t.pos, this.toks[this.i - 1].end);
    return op;
  }
}

interface RawAction {
  start: number; // index of the action's content
  end: number;
  pos: number; // index of "{{"
}

export function parseTemplate(src: string, funcNames: Iterable<string> = Object.keys(FUNCS)): Template {
  const funcs = new Set(funcNames);
  // Split into text and actions, honouring trim markers and comments.
  const pieces: ({ text: string } | RawAction)[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /[ \t\r\n]/.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text) pieces.push({ text });
    // Find the closing }} outside quoted strings.
    let j = start;
    let close = -1;
    const isComment = /^\s*\/\*/.test(src.slice(start, start + 8));
    if (isComment) {
      const endC = src.indexOf('*/', start);
      if (endC < 0) throw parseError(src, open, 'unclosed comment');
      close = src.indexOf('}}', endC);
      if (close < 0) throw parseError(src, open, 'comment ends before closing delimiter');
    } else {
      while (j < src.length) {
        const c = src[j];
        if (c === '"' || c === '`') {
          let k = j + 1;
          while (k < src.length && src[k] !== c) {
            if (c === '"' && src[k] === '\n') break;
            k += c === '"' && src[k] === '\\' ? 2 : 1;
          }
          if (k >= src.length || src[k] !== c) throw parseError(src, j, c === '"' ? 'unterminated quoted string' : 'unterminated raw quoted string');
          j = k + 1;
          continue;
        }
        if (c === "'") {
          let k = j + 1;
          while (k < src.length && src[k] !== "'") k += src[k] === '\\' ? 2 : 1;
          j = k + 1;
          continue;
        }
        if (c === '}' && src[j + 1] === '}') {
          close = j;
          break;
        }
        j++;
      }
      if (close < 0) throw parseError(src, open, 'unclosed action');
    }
    let end = close;
    if (src[close - 1] === '-' && /[ \t\r\n]/.test(src[close - 2] ?? '')) {
      end = close - 2;
      trimNext = true;
    }
    if (!isComment) pieces.push({ start, end, pos: open });
    i = close + 2;
  }

  let p = 0;
  const parseList = (inside: string | undefined, depthRange: number): { list: Node[]; term: 'end' | 'else' | 'eof'; elseToks?: { toks: Tok[]; act: RawAction } } => {
    const list: Node[] = [];
    while (p < pieces.length) {
      const piece = pieces[p++];
      if ('text' in piece) {
        list.push({ k: 'text', text: piece.text });
        continue;
      }
      const toks = lexAction(src, piece.start, piece.end, funcs);
      if (!toks.length) throw parseError(src, piece.pos, 'missing value for command');
      const first = toks[0];
      const kw = first.t === 'ident' ? first.v : '';
      if (kw === 'end') {
        if (!inside) throw parseError(src, first.pos, 'unexpected {{end}}');
        if (toks.length > 1) throw parseError(src, first.pos, 'unexpected token in end');
        return { list, term: 'end' };
      }
      if (kw === 'else') {
        if (!inside) throw parseError(src, first.pos, 'unexpected {{else}}');
        return { list, term: 'else', elseToks: { toks: toks.slice(1), act: piece } };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        list.push(parseControl(kw, toks.slice(1), piece, depthRange));
        continue;
      }
      if (kw === 'break' || kw === 'continue') {
        if (!depthRange) throw parseError(src, first.pos, `{{${kw}}} outside {{range}}`);
        list.push({ k: kw });
        continue;
      }
      if (kw === 'define' || kw === 'template' || kw === 'block') throw parseError(src, first.pos, `{{${kw}}} is not supported`);
      const ap = new ActionParser(src, toks, piece.end);
      const pipe = ap.pipe('command', true);
      if (!ap.done()) throw parseError(src, ap.peek()!.pos, `unexpected "${src[ap.peek()!.pos]}" in command`);
      list.push({ k: 'action', pipe });
    }
    if (inside) throw parseError(src, src.length, 'unexpected EOF');
    return { list, term: 'eof' };
  };

  const parseControl = (kw: 'if' | 'with' | 'range', toks: Tok[], piece: RawAction, depthRange: number): Node => {
    const ap = new ActionParser(src, toks, piece.end);
    if (ap.done()) throw parseError(src, piece.pos, `missing value for ${kw}`);
    const pipe = ap.pipe(kw, true);
    if (!ap.done()) throw parseError(src, ap.peek()!.pos, `unexpected "${src[ap.peek()!.pos]}" in ${kw}`);
    const body = parseList(kw, kw === 'range' ? depthRange + 1 : depthRange);
    const node: any = { k: kw, pipe, list: body.list };
    if (body.term === 'else') {
      const et = body.elseToks!;
      const ek = et.toks[0]?.t === 'ident' ? (et.toks[0] as any).v : '';
      if (ek === 'if' || ek === 'with') {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}}{{end}}: the nested
        // node consumes the shared {{end}}.
        node.elseList = [parseControl(ek, et.toks.slice(1), et.act, depthRange)];
      } else {
        if (et.toks.length) throw parseError(src, et.toks[0].pos, 'unexpected token in else');
        const rest = parseList(kw, depthRange);
        if (rest.term !== 'end') throw parseError(src, et.act.pos, 'expected end; found {{else}}');
        node.elseList = rest.list;
      }
    }
    return node;
  };

  const top = parseList(undefined, 0);
  return { source: src, root: top.list };
}

// ---- execution ----

type Fn = (...args: any[]) => unknown;

function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoStruct) return true;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function str(v: unknown, fn: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) throw new TemplateError(`error calling ${fn}: invalid value; expected string`);
  throw new TemplateError(`wrong type for value; expected string; got ${Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}'}`);
}

function cmpArgs(a: unknown, b: unknown, fn: string): number {
  if (typeof a !== typeof b && !(a == null && b == null)) throw new TemplateError(`error calling ${fn}: incompatible types for comparison`);
  if (typeof a === 'string' || typeof a === 'number') return a < (b as any) ? -1 : a > (b as any) ? 1 : 0;
  if (fn === 'eq' || fn === 'ne') return a === b ? 0 : 1;
  throw new TemplateError(`error calling ${fn}: invalid type for comparison`);
}

// Go's fmt.Sprintf for the common verbs (%s %v %d %q %f %t %x %%, width, precision, '-').
export function goSprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g, (_m, flags: string, width: string, prec: string, verb: string) => {
    if (verb === '%') return '%';
    if (width === '*') width = String(args[ai++]);
    if (prec === '*') prec = String(args[ai++]);
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++];
    let s: string;
    switch (verb) {
      case 'd':
        s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeof a}=${goValue(a)})`;
        break;
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec ? Number(prec) : 6) : `%!f(${typeof a}=${goValue(a)})`;
        prec = '';
        break;
      case 'q':
        s = goJSONString(goValue(a));
        break;
      case 'x':
        s = typeof a === 'number' ? a.toString(16) : Buffer.from(goValue(a)).toString('hex');
        break;
      case 't':
      case 's':
      case 'v':
      default:
        s = goValue(a);
    }
    if (prec && (verb === 's' || verb === 'v' || verb === 'q')) s = Array.from(s).slice(0, Number(prec)).join('');
    const w = width ? Number(width) : 0;
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
    return s;
  });
}

function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = !/[\p{L}\p{N}_]/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

export const FUNCS: Record<string, Fn> = {
  // docker's templates.basicFunctions
  json: (v: unknown) => goJSON(v),
  split: (s: unknown, sep: unknown) => {
    const a = str(s, 'split');
    const b = str(sep, 'split');
    return b === '' ? Array.from(a) : a.split(b);
  },
  join: (a: unknown, sep: unknown) => {
    if (!Array.isArray(a)) throw new TemplateError('error calling join: wrong type for value; expected []string');
    return a.map((x) => goValue(x)).join(str(sep, 'join'));
  },
  title: (s: unknown) => title(str(s, 'title')),
  lower: (s: unknown) => str(s, 'lower').toLowerCase(),
  upper: (s: unknown) => str(s, 'upper').toUpperCase(),
  pad: (s: unknown, prefix: unknown, suffix: unknown) => {
    const v = str(s, 'pad');
    return v === '' ? v : ' '.repeat(Number(prefix)) + v + ' '.repeat(Number(suffix));
  },
  truncate: (s: unknown, n: unknown) => {
    const v = str(s, 'truncate');
    const len = Number(n);
    return Buffer.byteLength(v) < len ? v : Buffer.from(v).subarray(0, len).toString();
  },
  // Go's builtins
  index: (v: unknown, ...keys: unknown[]) => {
    let cur: any = v;
    for (const k of keys) {
      if (cur === undefined || cur === null) throw new TemplateError('error calling index: index of untyped nil');
      if (Array.isArray(cur)) {
        if (typeof k !== 'number' || k < 0 || k >= cur.length) throw new TemplateError(`error calling index: index out of range: ${goValue(k)}`);
        cur = cur[k];
      } else if (typeof cur === 'object' && !(cur instanceof GoStruct)) cur = Object.hasOwn(cur, String(k)) ? cur[String(k)] : undefined;
      else throw new TemplateError(`error calling index: can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  slice: (v: unknown, ...idx: unknown[]) => {
    if (typeof v === 'string') return v.slice(Number(idx[0] ?? 0), idx[1] === undefined ? undefined : Number(idx[1]));
    if (Array.isArray(v)) return v.slice(Number(idx[0] ?? 0), idx[1] === undefined ? undefined : Number(idx[1]));
    throw new TemplateError("error calling slice: can't slice item");
  },
  len: (v: unknown) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object' && !(v instanceof GoStruct)) return Object.keys(v).length;
    throw new TemplateError(`error calling len: len of ${v === undefined || v === null ? 'nil pointer' : `type ${typeof v}`}`);
  },
  print: (...args: unknown[]) => {
    // Go's Sprint adds spaces between operands when neither is a string.
    let out = '';
    args.forEach((a, i) => {
      if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
      out += goValue(a);
    });
    return out;
  },
  println: (...args: unknown[]) => args.map(goValue).join(' ') + '\n',
  printf: (format: unknown, ...args: unknown[]) => goSprintf(str(format, 'printf'), args),
  not: (v: unknown) => !truth(v),
  and: (...args: unknown[]) => {
    for (const a of args) if (!truth(a)) return a;
    return args[args.length - 1];
  },
  or: (...args: unknown[]) => {
    for (const a of args) if (truth(a)) return a;
    return args[args.length - 1];
  },
  eq: (a: unknown, ...bs: unknown[]) => bs.some((b) => cmpArgs(a, b, 'eq') === 0),
  ne: (a: unknown, b: unknown) => cmpArgs(a, b, 'ne') !== 0,
  lt: (a: unknown, b: unknown) => cmpArgs(a, b, 'lt') < 0,
  le: (a: unknown, b: unknown) => cmpArgs(a, b, 'le') <= 0,
  gt: (a: unknown, b: unknown) => cmpArgs(a, b, 'gt') > 0,
  ge: (a: unknown, b: unknown) => cmpArgs(a, b, 'ge') >= 0,
};

// docker's templates.HeaderFunctions: a table header keeps the column name.
export const HEADER_FUNCS: Record<string, Fn> = {
  ...FUNCS,
  json: (v: unknown) => v,
  split: (v: unknown) => v,
  join: (v: unknown) => v,
  title: (v: unknown) => v,
  lower: (v: unknown) => v,
  upper: (v: unknown) => v,
  truncate: (v: unknown) => v,
};

class BreakSignal {}
class ContinueSignal {}

class Exec {
  private vars: { name: string; value: unknown }[][] = [];
  out = '';

  constructor(private t: Template, private funcs: Record<string, Fn>, root: unknown, private missingKeyError = false) {
    this.vars.push([{ name: '$', value: root }]);
  }

  private fail(pos: number, at: string, msg: string): never {
    const src = this.t.source;
    const line = lineOf(src, pos);
    const col = pos - (src.lastIndexOf('\n', pos - 1) + 1);
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${at}>: ${msg}`);
  }

  private lookupVar(name: string, pos: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const scope = this.vars[i];
      for (let j = scope.length - 1; j >= 0; j--) if (scope[j].name === name) return scope[j].value;
    }
    this.fail(pos, name, `undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        const v = this.vars[i].find((x) => x.name === name);
        if (v) {
          v.value = value;
          return;
        }
      }
    }
    this.vars[this.vars.length - 1].push({ name, value });
  }

  private field(recv: unknown, name: string, args: unknown[], op: Operand, last: boolean): unknown {
    if (recv instanceof GoStruct) {
      const m = Object.hasOwn(recv.methods, name) ? recv.methods[name] : undefined;
      if (m) {
        if (m.length !== args.length && !(m.length === 0 && args.length === 0)) {
          this.fail(op.pos, op.text, `wrong number of args for ${name}: want ${m.length} got ${args.length}`);
        }
        return m(...args);
      }
      if (recv.fallback) {
        if (args.length) this.fail(op.pos, op.text, `${name} is not a method but has arguments`);
        return Object.hasOwn(recv.fallback, name) ? recv.fallback[name] : undefined;
      }
      this.fail(op.pos, op.text, `can't evaluate field ${name} in type ${recv.typeName}`);
    }
    if (args.length && last) this.fail(op.pos, op.text, `${name} is not a method but has arguments`);
    if (recv === undefined || recv === null) return undefined;
    if (typeof recv !== 'object' || Array.isArray(recv)) {
      this.fail(op.pos, op.text, `can't evaluate field ${name} in type ${Array.isArray(recv) ? '[]interface {}' : typeof recv === 'string' ? 'string' : typeof recv === 'number' ? 'float64' : 'bool'}`);
    }
    if (Object.hasOwn(recv, name)) return (recv as any)[name];
    // Go's Option("missingkey=error"), which docker's inspect uses on raw JSON.
    if (this.missingKeyError) this.fail(op.pos, op.text, `map has no entry for key "${name}"`);
    return undefined;
  }

  private chain(recv: unknown, names: string[], args: unknown[], op: Operand): unknown {
    let cur = recv;
    names.forEach((n, i) => {
      const last = i === names.length - 1;
      cur = this.field(cur, n, last ? args : [], op, last);
    });
    return cur;
  }

  private arg(dot: unknown, op: Operand): unknown {
    switch (op.k) {
      case 'lit':
        return op.v;
      case 'dot':
        return dot;
      case 'field':
        return this.chain(dot, op.names, [], op);
      case 'var':
        return this.chain(this.lookupVar(op.name, op.pos), op.names, [], op);
      case 'pipe':
        return this.chain(this.pipe(dot, op.pipe), op.names, [], op);
      case 'fn':
        return this.call(dot, op, [], undefined, false);
    }
  }

  private call(dot: unknown, fnOp: Operand & { k: 'fn' }, rest: Operand[], final: unknown, hasFinal: boolean): unknown {
    const fn = this.funcs[fnOp.name];
    if (!fn) this.fail(fnOp.pos, fnOp.name, `function "${fnOp.name}" not defined`);
    const args = rest.map((a) => this.arg(dot, a));
    if (hasFinal) args.push(final);
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof TemplateError && !e.message.startsWith('template:')) {
        const msg = e.message.startsWith('error calling') ? e.message : `error calling ${fnOp.name}: ${e.message}`;
        this.fail(fnOp.pos, fnOp.name, msg);
      }
      throw e;
    }
  }

  private command(dot: unknown, cmd: Operand[], final: unknown, hasFinal: boolean): unknown {
    const [first, ...rest] = cmd;
    if (first.k === 'fn') return this.call(dot, first, rest, final, hasFinal);
    const args = rest.map((a) => this.arg(dot, a));
    if (hasFinal) args.push(final);
    if (first.k === 'field' || ((first.k === 'var' || first.k === 'pipe') && first.names.length)) {
      const base = first.k === 'field' ? dot : first.k === 'var' ? this.lookupVar(first.name, first.pos) : this.pipe(dot, first.pipe);
      return this.chain(base, first.names, args, first);
    }
    if (args.length) this.fail(first.pos, first.text, `can't give argument to non-function ${first.text}`);
    return this.arg(dot, first);
  }

  pipe(dot: unknown, p: Pipe): unknown {
    let v: unknown;
    p.cmds.forEach((cmd, i) => {
      v = this.command(dot, cmd, v, i > 0);
    });
    for (const name of p.decl) this.setVar(name, v, p.assign);
    return v;
  }

  list(dot: unknown, nodes: Node[]): void {
    for (const n of nodes) this.node(dot, n);
  }

  private scoped(fn: () => void): void {
    this.vars.push([]);
    try {
      fn();
    } finally {
      this.vars.pop();
    }
  }

  node(dot: unknown, n: Node): void {
    switch (n.k) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.pipe(dot, n.pipe);
        if (!n.pipe.decl.length) this.out += goValue(v);
        return;
      }
      case 'if':
      case 'with':
        this.scoped(() => {
          const v = this.pipe(dot, n.pipe);
          if (truth(v)) this.list(n.k === 'with' ? v : dot, n.list);
          else if (n.elseList) this.list(dot, n.elseList);
        });
        return;
      case 'range':
        this.scoped(() => {
          const decl = n.pipe.decl;
          const p = { ...n.pipe, decl: [] };
          const v = this.pipe(dot, p);
          let entries: [unknown, unknown][];
          if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
          else if (v && typeof v === 'object' && !(v instanceof GoStruct)) entries = Object.keys(v).sort().map((k) => [k, (v as any)[k]]);
          else if (typeof v === 'number') entries = Array.from({ length: v }, (_, i) => [i, i]);
          else if (v === undefined || v === null) entries = [];
          else {
            const last = n.pipe.cmds[n.pipe.cmds.length - 1][0];
            this.fail(last.pos, last.text, `range can't iterate over ${goValue(v)}`);
          }
          if (!entries.length) {
            if (n.elseList) this.list(dot, n.elseList);
            return;
          }
          for (const [k, x] of entries) {
            if (decl.length === 1) this.setVar(decl[0], x, false);
            else if (decl.length === 2) {
              this.setVar(decl[0], k, false);
              this.setVar(decl[1], x, false);
            }
            try {
              this.list(x, n.list);
            } catch (e) {
              if (e instanceof BreakSignal) break;
              if (e instanceof ContinueSignal) continue;
              throw e;
            }
          }
        });
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }
}

export function executeTemplate(t: Template, data: unknown, funcs: Record<string, Fn> = FUNCS, opts: { missingKeyError?: boolean } = {}): string {
  const ex = new Exec(t, funcs, data, opts.missingKeyError);
  try {
    ex.list(data, t.root);
  } catch (e) {
    // What was written before the error (docker keeps it for table headers).
    if (e instanceof TemplateError) (e as TemplateError & { partial?: string }).partial = ex.out;
    throw e;
  }
  return ex.out;
}
