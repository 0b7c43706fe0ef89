// A small pflag-compatible parser: --long, --long=value, -s value, -svalue,
// -abc (bool shorthands), --, and "stop at the first argument" for commands
// like run whose trailing arguments belong to the container.

export type FlagType = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  desc?: string;
  default?: string | number | boolean;
  hidden?: boolean;
  // Other long names for the same flag (e.g. --time for --timeout).
  aliases?: string[];
  // Shown as the value's placeholder in help.
  meta?: string;
}

export type FlagValue = string | number | boolean | string[] | undefined;

export interface Parsed {
  flags: Record<string, any>;
  args: string[];
  // Flags given on the command line (as pflag's Changed).
  changed: Set<string>;
}

// Bad usage: printed with a hint to --help, exit status 125 like docker.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function flagLabel(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
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
  const args: string[] = [];

  const set = (spec: FlagSpec, value: string) => {
    changed.add(spec.name);
    switch (spec.type) {
      case 'bool': {
        const v = value.toLowerCase();
        if (['1', 't', 'true'].includes(v)) flags[spec.name] = true;
        else if (['0', 'f', 'false'].includes(v)) flags[spec.name] = false;
        else throw new UsageError(`invalid argument "${value}" for "${flagLabel(spec)}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
        break;
      }
      case 'int': {
        if (!/^[+-]?\d+$/.test(value)) {
          throw new UsageError(`invalid argument "${value}" for "${flagLabel(spec)}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
        }
        flags[spec.name] = Number(value);
        break;
      }
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
      if (eq >= 0) set(spec, a.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, 'true');
      else if (i < argv.length) set(spec, argv[i++]);
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
            set(spec, a.slice(j + 2));
            break;
          }
          set(spec, 'true');
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          value = argv[i++];
        }
        set(spec, value);
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
  return { flags, args, changed };
}

// Options section of a command's help, aligned like cobra's.
export function flagsHelp(specs: FlagSpec[]): string {
  const rows = specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const meta = s.type === 'bool' ? '' : ` ${s.meta ?? (s.type === 'int' ? 'int' : s.type === 'list' ? 'list' : 'string')}`;
      const left = s.short ? `  -${s.short}, --${s.name}${meta}` : `      --${s.name}${meta}`;
      const def = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${typeof s.default === 'string' ? `"${s.default}"` : s.default})` : '';
      return [left, `${s.desc ?? ''}${def}`];
    });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  // Continuation lines of a multi-line description line up under its first line.
  return rows.map(([l, r]) => `${l.padEnd(w)}   ${r.split('\n').join(`\n${' '.repeat(w + 3)}`)}`.trimEnd()).join('\n');
}
