// `berth build --check`: what a Dockerfile does that makes its image big,
// its rebuilds slow or its secrets leak, each with the line and a fix.
// checkDockerfile is static (the parsed Dockerfile and what is known of the
// context); the builder then builds and adds what it measured (measure
// below: the size each step's layer adds, and what a fix would save).
import type { Dockerfile, Instruction, Stage } from './instructions';

export type Rule =
  | 'copy-before-install'
  | 'apt-no-recommends'
  | 'apt-lists'
  | 'consecutive-run'
  | 'deleted-later'
  | 'add-not-copy'
  | 'base-tag'
  | 'no-user'
  | 'secret-arg'
  | 'no-dockerignore';

export interface Finding {
  rule: Rule;
  line: number; // 1-based, in the Dockerfile
  message: string;
  fix: string;
  // What the build measured for it (filled by the builder).
  measured?: string;
  // For the measurement: the line of the step whose layer holds the
  // bytes, and the paths (absolute in the image) that cost them.
  layerLine?: number;
  paths?: string[];
}

export interface CheckContext {
  hasDockerignore: boolean;
  contextBytes: number;
  contextFiles: number;
  // Top-level names of the context (".git", "node_modules" are telling).
  topLevel: string[];
}

// A context bigger than this without a .dockerignore is reported.
export const LARGE_CONTEXT = 10 * 1024 * 1024;

const INSTALLERS: { re: RegExp; what: string; manifests: string; step: string }[] = [
  { re: /\bnpm\s+(ci|install|i)\b|\byarn(\s+install)?\s*($|&&|;)|\bpnpm\s+(install|i)\b/, what: 'npm', manifests: 'package.json package-lock.json', step: 'RUN npm ci' },
  { re: /\bpip3?\s+install\b/, what: 'pip', manifests: 'requirements.txt', step: 'RUN pip install -r requirements.txt' },
  { re: /\bapt-get\s+(-\S+\s+)*install\b/, what: 'apt-get', manifests: 'the files the install needs (or none)', step: 'RUN apt-get install …' },
  { re: /\bbundle\s+install\b/, what: 'bundler', manifests: 'Gemfile Gemfile.lock', step: 'RUN bundle install' },
  { re: /\bgo\s+mod\s+download\b/, what: 'go', manifests: 'go.mod go.sum', step: 'RUN go mod download' },
  { re: /\bcomposer\s+install\b/, what: 'composer', manifests: 'composer.json composer.lock', step: 'RUN composer install' },
];

const SECRET = /(^|_)(PASS(WORD|WD)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)($|_)/i;
const ARCHIVE = /\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst)|gz|bz2|xz)$/i;
const URL = /^[a-z][a-z0-9+.-]*:\/\//i;

function lineOf(ins: Instruction): number {
  return ins.node.startLine;
}

// A RUN's shell text (heredocs included); '' for the exec form's argv joined.
function runText(ins: Instruction & { kind: 'run' }): string {
  return [...ins.cmdLine, ...ins.files.map((f) => f.content)].join('\n');
}

// Does a COPY/ADD take the whole context?
function wholeContext(ins: Instruction & { kind: 'copy' | 'add' }): boolean {
  return !ins.from && ins.sources.some((s) => ['.', './', '*', './*', '/'].includes(s));
}

// Paths a RUN removes: the operands of each `rm` in it.
export function removedPaths(text: string): string[] {
  const out: string[] = [];
  for (const seg of text.split(/&&|\|\||;|\n|\|/)) {
    const words = seg.trim().split(/\s+/);
    const i = words.indexOf('rm');
    if (i < 0) continue;
    for (const w of words.slice(i + 1)) if (!w.startsWith('-') && w !== '') out.push(w.replace(/^["']|["']$/g, ''));
  }
  return out;
}

// Paths a RUN writes that a later step may remove: downloads and archives.
function writtenPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\b(?:wget\b[^&;|\n]*?\s-O\s*|curl\b[^&;|\n]*?\s-o\s*)(\S+)/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bdd\b[^&;|\n]*?\bof=(\S+)/g)) out.push(m[1]);
  for (const m of text.matchAll(/[^2&]>>?\s*(\/[^\s;&|]+)/g)) if (!m[1].startsWith('/dev/')) out.push(m[1]);
  return out;
}

const norm = (p: string, workdir: string) => {
  const abs = p.startsWith('/') ? p : `${workdir.replace(/\/$/, '')}/${p}`;
  const parts: string[] = [];
  for (const s of abs.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return '/' + parts.join('/');
};

// Whether removing r removes (part of) a: r is a or above it, or below it.
function overlaps(a: string, r: string): boolean {
  if (r.includes('*')) {
    // rm DIR/* empties DIR: what was added there, or under it, goes.
    const pre = r.slice(0, r.indexOf('*')).replace(/\/$/, '');
    return a === pre || a.startsWith(pre) || pre.startsWith(a + '/');
  }
  return a === r || a.startsWith(r + '/') || r.startsWith(a + '/');
}

function checkStage(stage: Stage, isTarget: boolean, out: Finding[]): void {
  const cmds = stage.commands;
  let workdir = '/';
  let wholeCopy: (Instruction & { kind: 'copy' | 'add' }) | undefined;
  let prev: Instruction | undefined;
  // What earlier steps put in the image, for "deleted later".
  const added: { path: string; line: number }[] = [];
  let user: string | undefined;
  for (const ins of cmds) {
    const line = lineOf(ins);
    switch (ins.kind) {
      case 'workdir':
        workdir = norm(ins.path, workdir);
        break;
      case 'user':
        user = ins.user;
        break;
      case 'arg':
        for (const a of ins.args) {
          if (SECRET.test(a.key)) out.push({ rule: 'secret-arg', line, message: `ARG ${a.key} looks like a secret: a build arg is kept in the image's history (docker history shows it)`, fix: `pass it as a secret instead: RUN --mount=type=secret,id=${a.key.toLowerCase()} … and build with --secret id=${a.key.toLowerCase()},src=FILE` });
        }
        break;
      case 'env':
        for (const p of ins.pairs) {
          if (SECRET.test(p.key)) out.push({ rule: 'secret-arg', line, message: `ENV ${p.key} looks like a secret: it stays in the image's config for anyone who pulls it`, fix: `do not bake it in: give it at run time (docker run -e ${p.key}) or use RUN --mount=type=secret for the build` });
        }
        break;
      case 'add': {
        const local = ins.sources.filter((s) => !URL.test(s) && !s.startsWith('git@'));
        if (ins.contents.length === 0 && local.length === ins.sources.length && !local.some((s) => ARCHIVE.test(s))) {
          out.push({ rule: 'add-not-copy', line, message: 'ADD of local files that are not archives: ADD also extracts archives and fetches URLs, so it says less than COPY', fix: `COPY ${[...ins.sources, ins.dest].join(' ')}` });
        }
        if (wholeContext(ins)) wholeCopy ??= ins;
        for (const d of [ins.dest]) added.push({ path: norm(d, workdir), line });
        break;
      }
      case 'copy':
        if (wholeContext(ins)) wholeCopy ??= ins;
        added.push({ path: norm(ins.dest, workdir), line });
        break;
      case 'run': {
        const text = runText(ins);
        if (wholeCopy) {
          const inst = INSTALLERS.find((x) => x.re.test(text));
          if (inst) {
            out.push({
              rule: 'copy-before-install',
              line: lineOf(wholeCopy),
              message: `${wholeCopy.code} comes before the ${inst.what} install on line ${line}: any edit to any file of the context re-runs the install`,
              fix: `copy only the dependency manifests first, install, then copy the rest: COPY ${inst.manifests} ./ ; ${inst.step} ; then ${wholeCopy.code}`,
              layerLine: line,
            });
            wholeCopy = undefined; // once per COPY
          }
        }
        if (/\bapt-get\s+(-\S+\s+)*install\b/.test(text)) {
          if (!/--no-install-recommends|APT::Install-Recommends/.test(text)) {
            out.push({ rule: 'apt-no-recommends', line, message: 'apt-get install without --no-install-recommends also installs every recommended package', fix: 'apt-get install -y --no-install-recommends …' });
          }
          if (!/rm\s+(-\S+\s+)*\/var\/lib\/apt\/lists/.test(text)) {
            out.push({ rule: 'apt-lists', line, message: 'apt-get install without removing /var/lib/apt/lists in the same RUN: the package lists stay in this layer', fix: 'end the same RUN with && rm -rf /var/lib/apt/lists/*', layerLine: line, paths: ['/var/lib/apt/lists'] });
          }
        }
        if (prev?.kind === 'run' && prev.mounts.length === 0 && ins.mounts.length === 0 && prev.network === ins.network && prev.prependShell && ins.prependShell) {
          out.push({ rule: 'consecutive-run', line, message: `RUN right after the RUN on line ${lineOf(prev)}: two layers where one would do (and files one removes stay in the other)`, fix: `join them: RUN <line ${lineOf(prev)}> && <line ${line}>` });
        }
        for (const r of removedPaths(text)) {
          const abs = norm(r, workdir);
          const hit = added.find((a) => overlaps(a.path, abs));
          if (hit && hit.line !== line) {
            out.push({ rule: 'deleted-later', line, message: `rm ${r} removes what line ${hit.line} added: the bytes stay in that earlier layer, the image is no smaller`, fix: `remove it in the step that adds it (line ${hit.line}), or in a build stage whose result you COPY --from`, layerLine: hit.line, paths: [abs.includes('*') || hit.path.startsWith(abs + '/') ? hit.path : abs] });
          }
        }
        for (const w of writtenPaths(text)) added.push({ path: norm(w, workdir), line });
        if (/\bapt-get\s+(-\S+\s+)*(update|install)\b/.test(text)) added.push({ path: '/var/lib/apt/lists', line });
        break;
      }
    }
    prev = ins;
  }
  if (isTarget && (user === undefined || /^(root|0)(:.*)?$/.test(user))) {
    out.push({ rule: 'no-user', line: user === undefined ? stage.line : lineOf(cmds.filter((c) => c.kind === 'user').pop()!), message: user === undefined ? 'no USER in the final stage: the container runs as root' : `USER ${user}: the container runs as root`, fix: 'add a user and switch to it at the end: RUN adduser -D app (or useradd -r app) ; USER app' });
  }
}

// The static checks. target: the index of the stage built (the last one by default).
export function checkDockerfile(df: Dockerfile, ctx: CheckContext, target = df.stages.length - 1): Finding[] {
  const out: Finding[] = [];
  const names = new Set(df.stages.map((s) => s.name).filter(Boolean));
  const meta = new Map(df.metaArgs.flatMap((a) => a.args.map((x) => [x.key, x.value ?? ''] as const)));
  for (const a of df.metaArgs) {
    for (const x of a.args) {
      if (SECRET.test(x.key)) out.push({ rule: 'secret-arg', line: lineOf(a), message: `ARG ${x.key} looks like a secret: a build arg is kept in the image's history (docker history shows it)`, fix: `pass it as a secret instead: RUN --mount=type=secret,id=${x.key.toLowerCase()} …` });
    }
  }
  df.stages.forEach((stage, i) => {
    const base = stage.base.replace(/\$\{?(\w+)\}?/g, (_, k) => meta.get(k) ?? '');
    const lower = base.toLowerCase();
    if (lower !== 'scratch' && !names.has(lower) && !/^\d+$/.test(base) && !base.includes('@')) {
      const last = base.slice(base.lastIndexOf('/') + 1);
      const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
      if (tag === '' || tag === 'latest') {
        out.push({ rule: 'base-tag', line: stage.line, message: tag === '' ? `FROM ${base} without a tag means :latest, which moves: the same Dockerfile builds something else next month` : `FROM ${base}: latest moves; the same Dockerfile builds something else next month`, fix: `pin a version: FROM ${base.replace(/:latest$/, '')}:<version> (or @sha256:<digest>)` });
      }
    }
    checkStage(stage, i === target, out);
  });
  if (!ctx.hasDockerignore && (ctx.contextBytes > LARGE_CONTEXT || ctx.topLevel.some((n) => n === '.git' || n === 'node_modules'))) {
    const has = ctx.topLevel.filter((n) => ['.git', 'node_modules'].includes(n));
    out.push({ rule: 'no-dockerignore', line: 1, message: `no .dockerignore, and the context is ${formatBytes(ctx.contextBytes)} in ${ctx.contextFiles} files${has.length ? ` (with ${has.join(', ')})` : ''}: all of it is sent on every build, and COPY . . takes it in`, fix: `add a .dockerignore listing what the image does not need${has.length ? `, e.g. ${has.join(', ')}` : ''}`, measured: `the context is ${formatBytes(ctx.contextBytes)}` });
  }
  return out.sort((a, b) => a.line - b.line);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${(n / 1000).toFixed(1)} kB`;
  if (n < 1000 * 1000 * 1000) return `${(n / 1000 / 1000).toFixed(1)} MB`;
  return `${(n / 1000 / 1000 / 1000).toFixed(2)} GB`;
}

// What the build measured, per step: the layer it added (bytes), and a way
// to size a path inside that layer.
export interface StepMeasure {
  line: number;
  code: string;
  bytes: number; // 0: no layer
  ms: number;
  sizeOf(absPath: string): number; // bytes under the path in this step's layer
}

// Adds the measurements to the findings that have some.
export function measure(findings: Finding[], steps: Map<number, StepMeasure>): void {
  for (const f of findings) {
    const s = f.layerLine !== undefined ? steps.get(f.layerLine) : undefined;
    if (!s) continue;
    if (f.rule === 'copy-before-install') f.measured = `every edit re-runs line ${s.line}, which took ${(s.ms / 1000).toFixed(1)} s and adds ${formatBytes(s.bytes)}`;
    else if (f.paths) {
      const saved = f.paths.reduce((n, p) => n + s.sizeOf(p), 0);
      f.measured = `${f.paths.join(', ')} holds ${formatBytes(saved)} in the layer of line ${s.line}: the fix saves that`;
    }
  }
}
