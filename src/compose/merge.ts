// The Compose Specification's merge rules, for several -f files and for
// extends: mappings merge key by key, scalars are replaced, command,
// entrypoint and healthcheck.test are replaced whole, ports are appended,
// volumes, secrets and configs are merged by target, the other sequences
// take the union; `!reset` drops a key, `!override` replaces it whole.
import type { Marks, PartialService } from './normalise';

type Any = Record<string, any>;

function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Any = { ...(a as Any) };
    for (const [k, v] of Object.entries(b as Any)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b;
}

function union<T>(a: T[] | undefined, b: T[]): T[] {
  const out = [...(a ?? [])];
  for (const x of b) if (!out.some((y) => JSON.stringify(y) === JSON.stringify(x))) out.push(x);
  return out;
}

function byKey<T>(a: T[] | undefined, b: T[], key: (x: T) => string): T[] {
  const out = [...(a ?? [])];
  for (const x of b) {
    const i = out.findIndex((y) => key(y) === key(x));
    if (i >= 0) out[i] = x;
    else out.push(x);
  }
  return out;
}

const REPLACED = new Set(['command', 'entrypoint']);
const MAPS = new Set(['environment', 'labels', 'extra_hosts', 'sysctls', 'ulimits', 'depends_on', 'networks', 'deploy', 'logging']);
const UNIONS = new Set(['expose', 'dns', 'dns_search', 'cap_add', 'cap_drop', 'tmpfs', 'group_add', 'security_opt', 'links', 'profiles', 'env_file']);

// `over` on top of `base`; `marks` are the !reset and !override keys of `over`.
export function mergeService(base: PartialService, over: PartialService, marks?: Marks): PartialService {
  const out: Any = { ...base };
  for (const k of marks?.reset ?? []) delete out[k];
  for (const [k, v] of Object.entries(over) as [string, any][]) {
    if (v === undefined) continue;
    if (marks?.override.has(k) || REPLACED.has(k) || out[k] === undefined) {
      out[k] = v;
      continue;
    }
    if (k === 'ports') out[k] = union(out[k], v);
    else if (k === 'volumes') out[k] = byKey(out[k], v, (x: Any) => x.target);
    else if (k === 'secrets' || k === 'configs') out[k] = byKey(out[k], v, (x: Any) => x.target ?? x.source);
    else if (UNIONS.has(k)) out[k] = union(out[k], v);
    else if (MAPS.has(k)) out[k] = deepMerge(out[k], v);
    else if (k === 'healthcheck') out[k] = { ...out[k], ...v };
    else if (k === 'build') {
      out[k] = { ...out[k], ...v };
      for (const sub of ['args', 'labels', 'extra_hosts']) if (out[k][sub] || (v as Any)[sub]) out[k][sub] = { ...out[k]?.[sub], ...(base.build as Any)?.[sub], ...(v as Any)[sub] };
      if ((v as Any).tags) out[k].tags = union((base.build as Any)?.tags, (v as Any).tags);
    } else out[k] = v;
  }
  return out as PartialService;
}

// Top-level networks/volumes/secrets/configs: mapping merge per entry.
export function mergeEntries<T>(base: Record<string, T>, over: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v) as T;
  return out;
}
