// .dockerignore, with Docker's semantics (moby/patternmatcher and
// buildkit's dockerignore.ReadAll): one pattern a line, `#` comments,
// patterns cleaned and made relative (a leading `/` dropped), `*` and `?`
// within a path element, `**` across any number of them, `[...]` classes,
// `\` escapes; a later `!pattern` re-includes what an earlier one excluded,
// and a pattern matching a parent directory matches everything under it.
// Shared by the CLI (which leaves excluded files out of the context it
// sends) and the builder (which applies it again to a context it is sent).
import * as path from 'node:path';

export interface IgnorePattern {
  text: string; // as cleaned, without the "!"
  exclusion: boolean; // a "!" pattern
  re: RegExp;
}

// The lines of a .dockerignore → its patterns ("!" kept on exceptions).
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let line of lines) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (line === '') continue;
    let invert = false;
    if (line[0] === '!') {
      invert = true;
      line = line.slice(1).trim();
    }
    if (line.length > 0) {
      line = path.posix.normalize(line);
      if (line.length > 1 && line.endsWith('/')) line = line.slice(0, -1);
      if (line.length > 1 && line[0] === '/') line = line.slice(1);
    }
    out.push(invert ? '!' + line : line);
  }
  return out;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        if (i + 1 >= pattern.length) re += '.*';
        else re += '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ESCAPE.has(ch)) re += '\\' + ch;
    else if (ch === '\\') {
      if (i + 1 < pattern.length) re += '\\' + pattern[++i];
      else re += '\\\\';
    } else if (ch === '[' || ch === ']') re += ch;
    else if (ch === '^') re += '\\^';
    else re += ch;
  }
  re += '$';
  try {
    return new RegExp(re, 's');
  } catch {
    throw new Error(`syntax error in pattern: ${pattern}`);
  }
}

export class IgnoreMatcher {
  readonly patterns: IgnorePattern[];

  constructor(patterns: string[]) {
    this.patterns = [];
    for (let p of patterns) {
      p = p.trim();
      if (p === '') continue;
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      p = path.posix.normalize(p);
      if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
      this.patterns.push({ text: p, exclusion, re: compile(p) });
    }
  }

  static fromText(text: string): IgnoreMatcher {
    return new IgnoreMatcher(readDockerignore(text));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  // Whether a path of the context (relative, "/"-separated) is excluded:
  // patterns in order, each matching the path or one of its parents.
  matches(file: string): boolean {
    file = path.posix.normalize(file).replace(/^\/+/, '').replace(/\/+$/, '');
    const parent = path.posix.dirname(file);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = p.re.test(file);
      if (!m && parent !== '.') {
        for (let i = 0; i < parentDirs.length; i++) {
          if (p.re.test(parentDirs.slice(0, i + 1).join('/'))) {
            m = true;
            break;
          }
        }
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  // Whether a walk must still enter an excluded directory: some exception
  // could re-include something below it.
  hasExceptions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }
}
