// The Dockerfile parser: text → a list of instruction nodes, with the rules
// of BuildKit's frontend/dockerfile/parser (the one dockerd's classic
// builder uses too): parser directives (`# syntax=`, `# escape=`) before
// anything else, the escape token ending a line continues it, comment lines
// are dropped even inside a continuation, flags (`--from=x`) come off the
// front of the arguments, and each instruction's arguments are split its
// own way (JSON or shell form, name=value pairs, words). Heredocs
// (`RUN <<EOF`, `COPY <<EOF /dst`) take the lines that follow. Errors are
// Docker's words, with the line.
import { ShellLex } from './lexer';

export interface Heredoc {
  name: string;
  content: string;
  expand: boolean; // the terminator was not quoted
  chomp: boolean; // <<- : leading tabs removed
  fd: number;
}

export interface Node {
  cmd: string; // lower case
  original: string; // the logical line, continuations joined
  flags: string[];
  // ENV, LABEL: [key, value, sep] triples (sep "" for the legacy
  // `ENV key value` form, "=" otherwise). HEALTHCHECK: [type, ...cmd].
  args: string[];
  json: boolean; // exec (JSON array) form
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
  sub?: Node; // ONBUILD's instruction
}

export interface ParseResult {
  nodes: Node[];
  escape: string;
  directives: Record<string, string>;
  warnings: string[];
}

export class ParseError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

const reWhitespace = /[\t\v\f\r ]+/;
const reDirective = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/;
const VALID_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_CMDS = new Set(['run', 'copy', 'add']);

type LineParser = (rest: string, d: Directives) => { args: string[]; json?: boolean; sub?: Node };

class Directives {
  escape = '\\';
  cont = /\\[ \t]*$/;
  done = false;
  seen = new Map<string, string>();

  setEscape(s: string): void {
    if (s !== '`' && s !== '\\') throw new Error(`invalid escape token '${s}' does not match \` or \\`);
    this.escape = s;
    this.cont = s === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
  }

  // A parser directive, while they may still come. True when it was one.
  possible(line: string): boolean {
    if (this.done) return false;
    const m = reDirective.exec(line);
    if (!m) {
      this.done = true;
      return false;
    }
    const k = m[1].toLowerCase();
    if (!VALID_DIRECTIVES.has(k)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(k)) throw new Error(`only one ${k} parser directive can be used`);
    this.seen.set(k, m[2]);
    if (k === 'escape') this.setEscape(m[2]);
    return true;
  }
}

const trimLeft = (s: string) => s.replace(/^\s+/u, '');
const isComment = (s: string) => trimLeft(s).startsWith('#');

// ---------------------------------------------------------------------------
// Argument parsers (line_parsers.go)

function parseWords(rest: string, d: Directives): string[] {
  const words: string[] = [];
  let inWord = false;
  let quote = '';
  let blankOK = false;
  let cur = '';
  const chars = [...rest];
  for (let i = 0; i <= chars.length; i++) {
    const end = i === chars.length;
    let ch = end ? '' : chars[i];
    if (!inWord && !quote) {
      if (end) break;
      if (/\s/u.test(ch)) continue;
      inWord = true;
    }
    if (end) {
      if (blankOK || cur.length > 0) words.push(cur);
      break;
    }
    if (!quote) {
      if (/\s/u.test(ch)) {
        inWord = false;
        if (blankOK || cur.length > 0) words.push(cur);
        cur = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === d.escape) {
        if (i + 1 === chars.length) continue;
        cur += ch;
        ch = chars[++i];
      }
      cur += ch;
      continue;
    }
    // in a quote
    if (ch === quote) quote = '';
    else if (ch === d.escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      cur += ch;
      ch = chars[++i];
    }
    cur += ch;
  }
  return words;
}

function parseNameVal(rest: string, key: string, d: Directives): string[] {
  const words = parseWords(rest, d);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const parts = splitN(rest, reWhitespace, 2);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    return [parts[0], parts[1], ''];
  }
  const out: string[] = [];
  for (const w of words) {
    if (!w.includes('=')) throw new Error(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    const i = w.indexOf('=');
    out.push(w.slice(0, i), w.slice(i + 1), '=');
  }
  return out;
}

function splitN(s: string, re: RegExp, n: number): string[] {
  const m = re.exec(s);
  if (!m || n < 2) return [s];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

function parseJSON(rest: string): string[] | undefined {
  rest = trimLeft(rest);
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

const parseMaybeJSON: LineParser = (rest) => {
  if (rest === '') return { args: [] };
  const j = parseJSON(rest);
  if (j) return { args: j, json: true };
  return { args: [rest] };
};

const parseStringsWhitespaceDelimited: LineParser = (rest) => (rest === '' ? { args: [] } : { args: rest.split(reWhitespace) });

const parseMaybeJSONToList: LineParser = (rest, d) => {
  const j = parseJSON(rest);
  if (j) return { args: j, json: true };
  return parseStringsWhitespaceDelimited(rest, d);
};

const parseString: LineParser = (rest) => (rest === '' ? { args: [] } : { args: [rest] });

const parseHealthConfig: LineParser = (rest, d) => {
  const m = /^(\S*)\s*/u.exec(rest)!;
  if (m[1] === '') return { args: [] };
  const cmd = parseMaybeJSON(rest.slice(m[0].length), d);
  return { args: [m[1], ...cmd.args], json: cmd.json };
};

const DISPATCH: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: (rest, d) => ({ args: parseWords(rest, d) }),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, d) => ({ args: parseNameVal(rest, 'ENV', d) }),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: (rest, d) => ({ args: parseNameVal(rest, 'LABEL', d) }),
  maintainer: parseString,
  onbuild: (rest, d) => (rest === '' ? { args: [] } : { args: [], sub: nodeFromLine(rest, d) }),
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

export const INSTRUCTIONS = Object.keys(DISPATCH);

// splitCommand + extractBuilderFlags.
function splitCommand(line: string, d: Directives): { cmd: string; flags: string[]; rest: string } {
  const parts = splitN(line.trim(), reWhitespace, 2);
  if (parts.length < 2) return { cmd: parts[0], flags: [], rest: '' };
  const { rest, flags } = extractFlags(parts[1], d);
  return { cmd: parts[0], flags, rest: rest.trim() };
}

function extractFlags(line: string, d: Directives): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let cur = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (cur !== '--' && (blankOK || cur.length > 0)) words.push(cur);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (cur === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || cur.length > 0) words.push(cur);
        cur = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === d.escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      cur += ch;
      continue;
    }
    // quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === d.escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      ch = line[++pos];
    }
    cur += ch;
  }
  return { rest: '', flags: words };
}

function nodeFromLine(line: string, d: Directives): Node {
  const { cmd, flags, rest } = splitCommand(line, d);
  const fn = DISPATCH[cmd.toLowerCase()];
  const r = fn ? fn(rest, d) : { args: [] };
  return { cmd: cmd.toLowerCase(), original: line, flags, args: r.args, json: !!r.json, heredocs: [], startLine: 0, endLine: 0, ...(r.sub ? { sub: r.sub } : {}) };
}

// A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or undefined.
export function parseHeredoc(src: string): Omit<Heredoc, 'content'> | undefined {
  const m = reHeredoc.exec(src);
  if (!m || m[3].length === 0) return undefined;
  const words = new ShellLex({ skipUnset: true }).processWords(m[3], () => undefined).words;
  if (words.length !== 1) return undefined;
  const raw = new ShellLex({ skipUnset: true, rawQuotes: true }).processWords(m[3], () => undefined).words;
  const count = (w: string) => (w.match(/['"]/g) ?? []).length;
  return { name: words[0], expand: count(words[0]) === count(raw[0]), chomp: m[2] === '-', fd: m[1] ? Number(m[1]) : 0 };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnset: true }).processWords(line, () => undefined).words;
  } catch {
    words = [];
  }
  return words.map(parseHeredoc).filter((h): h is Omit<Heredoc, 'content'> => !!h);
}

export function chompHeredoc(s: string): string {
  return s.replace(/^\t+/gm, '');
}

// Parses a Dockerfile. Throws ParseError.
export function parse(text: string): ParseResult {
  const d = new Directives();
  // bufio.ScanLines: \n ends a line, a \r before it is dropped.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let i = 0;
  let current = 0;
  const processLine = (raw: string, stripLeft: boolean): string => {
    let t = raw.replace(/\r$/, '');
    if (stripLeft) t = trimLeft(t);
    try {
      d.possible(t);
    } catch (e) {
      throw new ParseError((e as Error).message, current);
    }
    return t.startsWith('#') ? '' : t;
  };
  const trimCont = (s: string): [string, boolean] => (d.cont.test(s) ? [s.replace(d.cont, ''), false] : [s, true]);

  while (i < lines.length) {
    let bytes = processLine(lines[i++], true);
    current++;
    const start = current;
    let [line, eol] = trimCont(bytes);
    if (eol && line === '') continue;
    let emptyCont = false;
    while (!eol && i < lines.length) {
      const raw = lines[i++];
      bytes = processLine(raw, false);
      current++;
      if (isComment(raw)) continue;
      if (trimLeft(bytes) === '') {
        emptyCont = true;
        continue;
      }
      const [l, e] = trimCont(bytes);
      line += l;
      eol = e;
    }
    if (emptyCont) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    let node: Node;
    try {
      node = nodeFromLine(line, d);
    } catch (e) {
      throw new ParseError((e as Error).message, start);
    }
    if (HEREDOC_CMDS.has(node.cmd) && line.includes('<<')) {
      for (const h of heredocsFromLine(line)) {
        let content = '';
        let done = false;
        while (i < lines.length) {
          const raw = lines[i++];
          current++;
          let t = raw.replace(/\r$/, '');
          if (h.chomp) t = t.replace(/^\t+/, '');
          if (t === h.name) {
            done = true;
            break;
          }
          content += raw + '\n';
        }
        if (!done) throw new ParseError('unterminated heredoc', start);
        node.heredocs.push({ ...h, content });
      }
    }
    node.startLine = start;
    node.endLine = current;
    if (node.sub) {
      node.sub.startLine = start;
      node.sub.endLine = current;
    }
    nodes.push(node);
  }
  if (nodes.length === 0) throw new ParseError('file with no instructions', current);
  if (warnings.length) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  return { nodes, escape: d.escape, directives: Object.fromEntries(d.seen), warnings };
}

// Go's %q for the strings we quote.
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

// A node as BuildKit's Node.Dump prints it (its parser's golden files'
// format), with heredocs appended: for the golden-file tests.
export function dump(n: Node): string {
  let s = n.cmd;
  if (n.flags.length) s += ` [${n.flags.map((f) => goQuote(f)).join(' ')}]`;
  if (n.sub) s += ` (${dump(n.sub)})`;
  for (const a of n.args) s += ' ' + goQuote(a);
  for (const h of n.heredocs) s += ` <<${h.chomp ? '-' : ''}${h.name}${h.expand ? '' : '(raw)'} ${goQuote(h.content)}`;
  return `(${s})`;
}
