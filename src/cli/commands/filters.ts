// --filter values as docker's opts.FilterOpt parses them, and the API's
// filters parameter in docker's encodings: {"name":{"value":true}}, or
// map[string][]string for the list commands.
import { UsageError } from '../args';

export function parseFilterFlags(values: string[], flag = '--filter'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    const cur = out.get(key) ?? [];
    if (!cur.includes(value)) cur.push(value);
    out.set(key, cur);
  }
  return out;
}

export function filtersToJSON(filters: Map<string, string[]>): string | undefined {
  if (!filters.size) return undefined;
  const o: Record<string, Record<string, boolean>> = {};
  for (const k of [...filters.keys()].sort()) {
    o[k] = {};
    for (const v of [...filters.get(k)!].sort()) o[k][v] = true;
  }
  return JSON.stringify(o);
}

// Turns repeated -f key=value into the API's filters map (map[string][]string).
export function parseFilters(values: string[]): string | undefined {
  if (!values.length) return undefined;
  const filters: Record<string, string[]> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid argument "${v}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).trim().toLowerCase();
    (filters[key] ??= []).push(v.slice(eq + 1).trim());
  }
  return JSON.stringify(filters);
}
