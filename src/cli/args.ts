// A small pflag-compatible parser: --long, --long=value, -s value, -svalue,
// -abc (bool shorthands), --, and "stop at the first argument" for commands
// like run whose trailing arguments belong to the container. Flags berth
// knows from docker but does not apply yet are parsed like the others and
// refused by refuseUnsupported.

// How a value is read (docker's flag types): bool, string, int, uint16 and
// uint (strconv), bytes ("512m", go-units RAMInBytes), duration ("1m30s",
// Go's time.ParseDuration), decimal ("1.5", docker's NanoCPUs), and list (a
// repeatable string).
export type FlagType = 'bool' | 'string' | 'int' | 'uint16' | 'uint' | 'bytes' | 'duration' | 'decimal' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  desc?: string;
  default?: string | number | boolean;
  hidden?: boolean;
  // Other long names for the same flag (e.g. --time for --timeout).
  aliases?: string[];
  // Shown as the value's placeholder in help (docker's type name: map, filter, ...).
  meta?: string;
  // docker has it, berth does not apply it yet: refused unless given its
  // default (or zero) value, which asks for nothing.
  unsupported?: boolean;
  // Checks (and normalizes) one value as it is parsed, like a pflag Value's Set.
  validate?: (value: string) => string;
}

export type FlagValue = string | number | boolean | string[] | undefined;

export interface Parsed {
  flags: Record<string, any>;
  args: string[];
  // Flags given on the command line (as pflag's Changed).
  changed: Set<string>;
  // The form each given flag was typed in ("-p" or "--publish"), for messages.
  typed: Map<string, string>;
}

// Bad usage: printed with a hint to --help, exit status 125 like docker.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// A docker flag (or value) berth does not apply yet.
export class UnsupportedError extends UsageError {
  constructor(what: string) {
    super(`\`${what}\` is not supported by berth yet`);
    this.name = 'UnsupportedError';
  }
}

function flagLabel(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

// go-units RAMInBytes: "512", "512k", "1.5g", "2 GiB" (binary units).
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m || !Number.isFinite(Number(m[1]))) throw new Error(`invalid size: '${value}'`);
  return Math.trunc(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]);
}

// Go's time.ParseDuration, in nanoseconds.
import { parseGoDuration as parseDuration } from '../util/duration';
export { parseDuration };

// docker's opts.ParseCPUs: a rational number of CPUs, in billionths.
export function parseDecimal(value: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\/(\d+))?$/.exec(value);
  const n = m ? Number(m[1]) / (m[2] ? Number(m[2]) : 1) : NaN;
  if (!Number.isFinite(n)) throw new Error(`failed to parse ${value} as a rational number`);
  const nano = n * 1e9;
  if (Math.abs(nano - Math.round(nano)) > 1e-6) throw new Error('value is too precise');
  return Math.round(nano);
}

// The value of a flag nobody gave: its default, else its type's zero.
function zeroOf(spec: FlagSpec): FlagValue {
  if (spec.type === 'list') return [];
  if (spec.default !== undefined) return spec.default;
  if (spec.type === 'bool') return false;
  if (spec.type === 'string') return undefined;
  return 0;
}

// Whether a given flag asks for nothing: the default, its type's zero, or
// for a string the empty string.
export function isNoop(spec: FlagSpec, value: FlagValue): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (value === zeroOf(spec)) return true;
  if (spec.type === 'string') return value === '' || value === undefined;
  if (spec.default === undefined) return value === 0 || value === false;
  return false;
}

// Refuses the first flag berth does not apply that asks for something, in
// the form the user typed it.
export function refuseUnsupported(p: Parsed, specs: FlagSpec[]): void {
  for (const [name, form] of p.typed) {
    const spec = specs.find((s) => s.name === name);
    if (spec?.unsupported && !isNoop(spec, p.flags[name])) throw new UnsupportedError(form);
  }
}

export function parseArgs(argv: string[], specs: FlagSpec[], opts: { interspersed?: boolean } = {}): Parsed {
  const interspersed = opts.interspersed ?? true;
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byLong.set(s.name, s);
    for (const a of s.aliases ?? []) byLong.set(a, s);
    if (s.short) byShort.set(s.short, s);
  }
  const flags: Record<string, any> = {};
  for (const s of specs) {
    if (s.type === 'list') flags[s.name] = [];
    else if (s.default !== undefined) flags[s.name] = s.default;
    else if (s.type === 'bool') flags[s.name] = false;
  }
  const changed = new Set<string>();
  const typed = new Map<string, string>();
  const args: string[] = [];

  const set = (spec: FlagSpec, value: string, form: string) => {
    changed.add(spec.name);
    typed.set(spec.name, form);
    const invalid = (err: string) => new UsageError(`invalid argument "${value}" for "${flagLabel(spec)}" flag: ${err}`);
    const parse = (fn: (v: string) => number) => {
      try {
        return fn(value);
      } catch (e) {
        throw invalid((e as Error).message);
      }
    };
    if (spec.validate) {
      try {
        value = spec.validate(value);
      } catch (e) {
        throw invalid((e as Error).message);
      }
    }
    switch (spec.type) {
      case 'bool': {
        const v = value.toLowerCase();
        if (['1', 't', 'true'].includes(v)) flags[spec.name] = true;
        else if (['0', 'f', 'false'].includes(v)) flags[spec.name] = false;
        else throw new UsageError(`invalid argument "${value}" for "${flagLabel(spec)}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
        break;
      }
      case 'int': {
        if (!/^[+-]?\d+$/.test(value)) throw invalid(`strconv.ParseInt: parsing "${value}": invalid syntax`);
        flags[spec.name] = Number(value);
        break;
      }
      case 'uint16':
      case 'uint': {
        if (!/^\d+$/.test(value)) throw invalid(`strconv.ParseUint: parsing "${value}": invalid syntax`);
        if (spec.type === 'uint16' && Number(value) > 65535) throw invalid(`strconv.ParseUint: parsing "${value}": value out of range`);
        flags[spec.name] = Number(value);
        break;
      }
      case 'bytes':
        // docker's MemSwapBytes: --memory-swap also takes -1, "unlimited".
        flags[spec.name] = spec.name === 'memory-swap' && value === '-1' ? -1 : parse(parseBytes);
        break;
      case 'duration':
        flags[spec.name] = parse(parseDuration);
        break;
      case 'decimal':
        flags[spec.name] = parse(parseDecimal);
        break;
      case 'list':
        flags[spec.name].push(value);
        break;
      default:
        flags[spec.name] = value;
    }
  };

  let i = 0;
  while (i < argv.length) {
    const a = argv[i++];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      const form = `--${name}`;
      if (eq >= 0) set(spec, a.slice(eq + 1), form);
      else if (spec.type === 'bool') set(spec, 'true', form);
      else if (i < argv.length) set(spec, argv[i++], form);
      else throw new UsageError(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A group of shorthands; a non-bool one takes the rest (or the next arg).
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        if (spec.type === 'bool') {
          if (a[j + 1] === '=') {
            set(spec, a.slice(j + 2), `-${c}`);
            break;
          }
          set(spec, 'true', `-${c}`);
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          value = argv[i++];
        }
        set(spec, value, `-${c}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (!interspersed) {
      args.push(...argv.slice(i));
      break;
    }
  }
  return { flags, args, changed, typed };
}

// Options section of a command's help, aligned like cobra's.
export function flagsHelp(specs: FlagSpec[]): string {
  const rows = specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const meta = s.type === 'bool' ? '' : ` ${s.meta ?? s.type}`;
      const left = s.short ? `  -${s.short}, --${s.name}${meta}` : `      --${s.name}${meta}`;
      const def = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${typeof s.default === 'string' ? `"${s.default}"` : s.default})` : '';
      return [left, `${s.desc ?? ''}${def}${s.unsupported ? ' (not supported yet)' : ''}`];
    });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  // Continuation lines of a multi-line description line up under its first line.
  return rows.map(([l, r]) => `${l.padEnd(w)}   ${r.split('\n').join(`\n${' '.repeat(w + 3)}`)}`.trimEnd()).join('\n');
}
