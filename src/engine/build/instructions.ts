// Parsed nodes → typed instructions grouped in stages (BuildKit's
// instructions package): each instruction's flags and argument count are
// checked here, with Docker's messages; variables are expanded later, when
// the step runs, with the environment of that moment.
import { chompHeredoc, goQuote, parse, parseHeredoc, ParseError, type Heredoc, type Node } from './parser';

export interface KV {
  key: string;
  value: string;
  noDelim?: boolean;
}

export interface HealthSpec {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface SourceContent {
  path: string; // the heredoc's name
  data: string;
  expand: boolean;
}

interface Base {
  node: Node;
  // As the classic builder prints it in "Step i/n : ...".
  code: string;
}

export type Instruction = Base &
  (
    | { kind: 'env'; pairs: KV[] }
    | { kind: 'label'; pairs: KV[] }
    | { kind: 'maintainer'; maintainer: string }
    | { kind: 'expose'; ports: string[] }
    | { kind: 'user'; user: string }
    | { kind: 'workdir'; path: string }
    | { kind: 'volume'; volumes: string[] }
    | { kind: 'stopsignal'; signal: string }
    | { kind: 'arg'; args: { key: string; value?: string }[] }
    | { kind: 'shell'; shell: string[] }
    | { kind: 'cmd' | 'entrypoint'; cmdLine: string[]; prependShell: boolean; files: Heredoc[] }
    | { kind: 'run'; cmdLine: string[]; prependShell: boolean; files: Heredoc[]; mounts: string[]; network?: string; security?: string }
    | { kind: 'healthcheck'; health: HealthSpec }
    | { kind: 'onbuild'; expression: string }
    | { kind: 'copy' | 'add'; sources: string[]; contents: SourceContent[]; dest: string; from?: string; chown?: string; chmod?: string; link: boolean; checksum?: string; excludes: string[]; parents: boolean }
  );

export interface Stage {
  index: number;
  name: string; // "" when unnamed (lower case)
  base: string; // unexpanded
  platform: string;
  code: string;
  line: number;
  commands: Instruction[];
}

export interface Dockerfile {
  metaArgs: (Instruction & { kind: 'arg' })[];
  stages: Stage[];
  escape: string;
  warnings: string[];
  directives: Record<string, string>;
}

export class DockerfileError extends Error {}

// bflag.go: `--name=value`, `--name` for a boolean.
class Flags {
  private defs = new Map<string, { kind: 'string' | 'bool' | 'strings'; value: string; values: string[] }>();
  private used = new Set<string>();
  constructor(private args: string[]) {}
  str(name: string) {
    const f = { kind: 'string' as const, value: '', values: [] as string[] };
    this.defs.set(name, f);
    return f;
  }
  bool(name: string) {
    const f = { kind: 'bool' as const, value: 'false', values: [] as string[] };
    this.defs.set(name, f);
    return f;
  }
  strs(name: string) {
    const f = { kind: 'strings' as const, value: '', values: [] as string[] };
    this.defs.set(name, f);
    return f;
  }
  isUsed(name: string): boolean {
    return this.used.has(name);
  }
  parse(): void {
    for (const a of this.args) {
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      let name = a.slice(2);
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      const f = this.defs.get(name);
      if (!f) throw new Error(`unknown flag: ${name}`);
      if (this.used.has(name) && f.kind !== 'strings') throw new Error(`duplicate flag specified: ${name}`);
      this.used.add(name);
      if (f.kind === 'bool') {
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${name}, not: ${value}`);
        f.value = v;
      } else {
        if (value === undefined) throw new Error(`missing a value on flag: ${name}`);
        if (f.kind === 'strings') f.values.push(value);
        else f.value = value;
      }
    }
  }
}

const errAtLeastOne = (c: string) => new Error(`${c} requires at least one argument`);
const errExactlyOne = (c: string) => new Error(`${c} requires exactly one argument`);
const errNoDest = (c: string) => new Error(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
const validStageName = /^[a-z][a-z0-9-_.]*$/;

// Go's time.ParseDuration for the HEALTHCHECK options, in nanoseconds.
function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || s === '') throw new Error(`time: invalid duration ${goQuote(s)}`);
  return Math.round(total);
}

function interval(name: string, v: string): number {
  if (v === '') return 0;
  const d = parseDuration(v);
  if (d === 0) return 0;
  if (d < 1e6) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

function kvps(args: string[], cmd: string): KV[] {
  if (args.length === 0) throw errAtLeastOne(cmd);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KV[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j].length === 0) throw new Error(`${cmd} names can not be blank`);
    out.push({ key: args[j], value: args[j + 1], ...(args[j + 2] === '' ? { noDelim: true } : {}) });
  }
  return out;
}

function shellDependent(n: Node, emptyAsNil: boolean): { cmdLine: string[]; prependShell: boolean; files: Heredoc[] } {
  let args = n.args;
  if (!n.json && args.length > 0) args = [args.join(' ')];
  if (emptyAsNil && args.length === 0) args = [];
  return { cmdLine: args, prependShell: !n.json, files: n.heredocs };
}

export function instructionOf(n: Node): Instruction {
  const code = n.original.trim();
  const base = { node: n, code };
  const flags = new Flags(n.flags);
  const upper = n.cmd.toUpperCase();
  switch (n.cmd) {
    case 'env':
    case 'label': {
      flags.parse();
      return { ...base, kind: n.cmd, pairs: kvps(n.args, upper) };
    }
    case 'maintainer':
      if (n.args.length !== 1) throw errExactlyOne('MAINTAINER');
      flags.parse();
      return { ...base, kind: 'maintainer', maintainer: n.args[0] };
    case 'add':
    case 'copy': {
      if (n.args.length < 2) throw errNoDest(upper);
      const chown = flags.str('chown');
      const chmod = flags.str('chmod');
      const link = flags.bool('link');
      const excludes = flags.strs('exclude');
      const from = n.cmd === 'copy' ? flags.str('from') : undefined;
      const parents = n.cmd === 'copy' ? flags.bool('parents') : undefined;
      const checksum = n.cmd === 'add' ? flags.str('checksum') : undefined;
      if (n.cmd === 'add') {
        flags.bool('keep-git-dir');
        flags.bool('unpack');
      }
      flags.parse();
      const dest = n.args[n.args.length - 1];
      if (parseHeredoc(dest)) throw new Error(`${upper} cannot accept a heredoc as a destination`);
      const sources: string[] = [];
      const contents: SourceContent[] = [];
      for (const s of n.args.slice(0, -1)) {
        const h = parseHeredoc(s);
        if (h) {
          const doc = n.heredocs.find((x) => x.name === h.name);
          let data = doc?.content ?? '';
          if (h.chomp) data = chompHeredoc(data);
          contents.push({ path: h.name, data, expand: h.expand });
        } else sources.push(s);
      }
      if (flags.isUsed('keep-git-dir') || flags.isUsed('unpack')) throw new Error(`ADD --keep-git-dir and --unpack are not supported by berth's builder yet`);
      return {
        ...base,
        kind: n.cmd,
        sources,
        contents,
        dest,
        ...(from?.value ? { from: from.value } : {}),
        ...(chown.value ? { chown: chown.value } : {}),
        ...(chmod.value ? { chmod: chmod.value } : {}),
        ...(checksum?.value ? { checksum: checksum.value } : {}),
        link: link.value === 'true',
        excludes: excludes.values,
        parents: parents?.value === 'true',
      };
    }
    case 'onbuild': {
      if (!n.sub) throw errAtLeastOne('ONBUILD');
      flags.parse();
      const trigger = n.sub.cmd.toUpperCase();
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = n.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of n.heredocs) expression += '\n' + h.content + h.name;
      return { ...base, kind: 'onbuild', expression };
    }
    case 'workdir':
      if (n.args.length !== 1) throw errExactlyOne('WORKDIR');
      flags.parse();
      return { ...base, kind: 'workdir', path: n.args[0] };
    case 'run': {
      const mounts = flags.strs('mount');
      const network = flags.str('network');
      const security = flags.str('security');
      flags.str('device');
      flags.parse();
      if (flags.isUsed('device')) throw new Error('RUN --device is not supported by berth\'s builder yet');
      return {
        ...base,
        kind: 'run',
        ...shellDependent(n, false),
        mounts: mounts.values,
        ...(network.value ? { network: network.value } : {}),
        ...(security.value ? { security: security.value } : {}),
      };
    }
    case 'cmd':
      flags.parse();
      return { ...base, kind: 'cmd', ...shellDependent(n, false) };
    case 'entrypoint':
      flags.parse();
      return { ...base, kind: 'entrypoint', ...shellDependent(n, true) };
    case 'healthcheck': {
      if (n.args.length === 0) throw errAtLeastOne('HEALTHCHECK');
      const typ = n.args[0].toUpperCase();
      const args = n.args.slice(1);
      if (typ === 'NONE') {
        if (args.length) throw new Error('HEALTHCHECK NONE takes no arguments');
        return { ...base, kind: 'healthcheck', health: { Test: ['NONE'] } };
      }
      const fi = flags.str('interval');
      const ft = flags.str('timeout');
      const fs = flags.str('start-period');
      const fsi = flags.str('start-interval');
      const fr = flags.str('retries');
      flags.parse();
      if (typ !== 'CMD') throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
      const cmd = !n.json && args.length ? [args.join(' ')] : args;
      if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
      const health: HealthSpec = { Test: [n.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
      const iv = interval('interval', fi.value);
      const to = interval('timeout', ft.value);
      const sp = interval('start-period', fs.value);
      const si = interval('start-interval', fsi.value);
      if (iv) health.Interval = iv;
      if (to) health.Timeout = to;
      if (sp) health.StartPeriod = sp;
      if (si) health.StartInterval = si;
      if (fr.value !== '') {
        if (!/^[+-]?\d+$/.test(fr.value)) throw new Error(`strconv.ParseInt: parsing ${goQuote(fr.value)}: invalid syntax`);
        const r = Number(fr.value);
        if (r < 0) throw new Error(`--retries cannot be negative (${r})`);
        if (r) health.Retries = r;
      }
      return { ...base, kind: 'healthcheck', health };
    }
    case 'expose':
      if (n.args.length === 0) throw errAtLeastOne('EXPOSE');
      flags.parse();
      return { ...base, kind: 'expose', ports: [...n.args].sort() };
    case 'user':
      if (n.args.length !== 1) throw errExactlyOne('USER');
      flags.parse();
      return { ...base, kind: 'user', user: n.args[0] };
    case 'volume': {
      if (n.args.length === 0) throw errAtLeastOne('VOLUME');
      flags.parse();
      const volumes = n.args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...base, kind: 'volume', volumes };
    }
    case 'stopsignal':
      if (n.args.length !== 1) throw errExactlyOne('STOPSIGNAL');
      return { ...base, kind: 'stopsignal', signal: n.args[0] };
    case 'arg': {
      if (n.args.length < 1) throw errAtLeastOne('ARG');
      const args = n.args.map((a) => {
        const i = a.indexOf('=');
        if (i < 0) return { key: a };
        if (i === 0) throw new Error('ARG names can not be blank');
        return { key: a.slice(0, i), value: a.slice(i + 1) };
      });
      return { ...base, kind: 'arg', args };
    }
    case 'shell': {
      flags.parse();
      const sh = !n.json && n.args.length ? [n.args.join(' ')] : n.args;
      if (sh.length === 0) throw errAtLeastOne('SHELL');
      if (!n.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'shell', shell: sh };
    }
  }
  throw new Error(`unknown instruction: ${n.original.trim().split(/\s+/)[0]}`);
}

function stageOf(n: Node, index: number): Stage {
  const a = n.args;
  let name = '';
  if (a.length === 3 && a[1].toLowerCase() === 'as') {
    name = a[2].toLowerCase();
    if (!validStageName.test(name)) throw new Error(`invalid name for build stage: ${goQuote(a[2])}, name can't start with a number or contain symbols`);
  } else if (a.length !== 1) throw new Error('FROM requires either one or three arguments');
  const flags = new Flags(n.flags);
  const platform = flags.str('platform');
  flags.parse();
  return { index, name, base: a[0], platform: platform.value, code: n.original.trim(), line: n.startLine, commands: [] };
}

const located = (n: Node, e: unknown) => new DockerfileError(`dockerfile parse error on line ${n.startLine}: ${(e as Error).message}`);

// The Dockerfile's text → its meta args and stages. Throws DockerfileError
// with Docker's message.
// Errors of the line parser are "failed to parse <name>: …" (dockerd's
// readAndParseDockerfile), those of an instruction "dockerfile parse error
// on line N: …".
export function parseDockerfile(text: string, name = 'Dockerfile'): Dockerfile {
  let r;
  try {
    r = parse(text);
  } catch (e) {
    if (e instanceof ParseError) throw new DockerfileError(`failed to parse ${name}: ${e.message}`);
    throw e;
  }
  const metaArgs: (Instruction & { kind: 'arg' })[] = [];
  const stages: Stage[] = [];
  for (const n of r.nodes) {
    try {
      if (n.cmd === 'from') {
        stages.push(stageOf(n, stages.length));
        continue;
      }
      const ins = instructionOf(n);
      if (stages.length === 0) {
        if (ins.kind === 'arg') {
          metaArgs.push(ins);
          continue;
        }
        throw new Error('no build stage in current context');
      }
      stages[stages.length - 1].commands.push(ins);
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      throw located(n, e);
    }
  }
  return { metaArgs, stages, escape: r.escape, warnings: r.warnings, directives: r.directives };
}
