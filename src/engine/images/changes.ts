// `docker import --change` / `commit --change`: a few Dockerfile
// instructions applied to an image's run config.
import { invalidArgument } from '../../errors';
import { goDuration, parseGoDuration } from '../../util/duration';
import type { ImageRunConfig } from './types';

function jsonOrShell(arg: string, shell = true): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // not JSON: falls through to the shell form like Docker does
    }
  }
  return shell ? ['/bin/sh', '-c', t] : t.split(/\s+/).filter(Boolean);
}

// A double-quoted value is a JSON string: a bad escape ("\q") or a raw
// control character in it is the client's mistake, named with its change.
function unquote(v: string, change: string): string {
  try {
    return JSON.parse(v);
  } catch {
    const what = /[\x00-\x1f]/.test(v) ? 'a control character' : 'a bad escape';
    throw invalidArgument(`invalid change ${JSON.stringify(change)}: the quoted value ${v} has ${what}`);
  }
}

// KEY=VALUE pairs, with optional double quotes; or the old "KEY VALUE" form.
function keyValues(arg: string, change: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  // The old "KEY VALUE" form applies when the first word has no "=".
  const first = arg.trim().split(/\s+/)[0] ?? '';
  if (!first.includes('=')) {
    const m = arg.trim().match(/^(\S+)\s+(.*)$/);
    if (!m) throw invalidArgument(`invalid change: expected KEY=VALUE in ${JSON.stringify(arg)}`);
    return [[m[1], m[2]]];
  }
  for (const m of arg.matchAll(re)) {
    let v = m[2];
    if (v.startsWith('"')) v = unquote(v, change);
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1], v]);
  }
  return out;
}

const HEALTH_FLAGS = ['interval', 'timeout', 'start-period', 'start-interval', 'retries'];
const MIN_DURATION_NS = 1e6;

// A Dockerfile's `HEALTHCHECK [--interval=D …] CMD command` or
// `HEALTHCHECK NONE`, as the builder reads it: the shell form runs through
// the shell (CMD-SHELL), the JSON form as is (CMD); durations are Go's,
// at least 1ms.
function healthcheck(arg: string): Record<string, unknown> {
  let rest = arg.trim();
  const flags: Record<string, string> = {};
  for (;;) {
    const m = /^--([^\s=]+)(=\S*)?(?:\s+|$)/.exec(rest);
    if (!m) break;
    if (!HEALTH_FLAGS.includes(m[1])) throw invalidArgument(`Unknown flag: ${m[1]}`);
    if (m[2] === undefined) throw invalidArgument(`Missing a value on flag: --${m[1]}`);
    flags[m[1]] = m[2].slice(1);
    rest = rest.slice(m[0].length);
  }
  const m = /^(\S+)\s*(.*)$/s.exec(rest);
  if (!m) throw invalidArgument('HEALTHCHECK requires at least one argument');
  const type = m[1].toUpperCase();
  const args = m[2].trim();
  if (type === 'NONE') {
    if (args || Object.keys(flags).length) throw invalidArgument('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw invalidArgument(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (!args) throw invalidArgument('Missing command after HEALTHCHECK CMD');
  let test: string[] = ['CMD-SHELL', args];
  if (args.startsWith('[')) {
    try {
      const v = JSON.parse(args);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        if (v.length === 0) throw invalidArgument('Missing command after HEALTHCHECK CMD');
        test = ['CMD', ...v];
      }
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  const interval = (name: string): number => {
    const v = flags[name];
    if (!v) return 0;
    let ns: number;
    try {
      ns = parseGoDuration(v);
    } catch (err) {
      throw invalidArgument((err as Error).message);
    }
    if (ns !== 0 && ns < MIN_DURATION_NS) throw invalidArgument(`Interval ${JSON.stringify(name)} cannot be less than ${goDuration(MIN_DURATION_NS)}`);
    return ns;
  };
  // Zero fields are left out, as Go's omitempty leaves them.
  const hc: Record<string, unknown> = { Test: test };
  for (const [field, flag] of [['Interval', 'interval'], ['Timeout', 'timeout'], ['StartPeriod', 'start-period'], ['StartInterval', 'start-interval']]) {
    const ns = interval(flag);
    if (ns) hc[field] = ns;
  }
  if (flags.retries) {
    if (!/^[+-]?\d+$/.test(flags.retries)) throw invalidArgument(`strconv.ParseInt: parsing ${JSON.stringify(flags.retries)}: invalid syntax`);
    const n = Number(flags.retries);
    if (n < 0) throw invalidArgument(`--retries cannot be negative (${n})`);
    if (n) hc.Retries = n;
  }
  return hc;
}

export function applyChanges(cfg: ImageRunConfig, changes: string[]): ImageRunConfig {
  const c: ImageRunConfig = { ...cfg };
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = line.match(/^(\w+)\s*(.*)$/s);
    if (!m) throw invalidArgument(`invalid change: ${JSON.stringify(raw)}`);
    const op = m[1].toUpperCase();
    const arg = m[2];
    switch (op) {
      case 'CMD':
        c.Cmd = jsonOrShell(arg);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = jsonOrShell(arg);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(arg, line)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(arg, line)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of arg.split(/\s+/).filter(Boolean)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        c.User = arg.trim();
        break;
      case 'WORKDIR':
        c.WorkingDir = arg.trim();
        break;
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(arg);
        break;
      case 'STOPSIGNAL':
        c.StopSignal = arg.trim();
        break;
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of jsonOrShell(arg, false)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      default:
        throw invalidArgument(`${op} is not a valid change command`);
    }
  }
  return c;
}
