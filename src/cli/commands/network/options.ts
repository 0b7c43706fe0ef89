// Flag value helpers the network commands share with docker: pflag's
// string slices ("a,b" is two values, read as CSV) and MapOpts (KEY=VALUE).
import { readCSVRecord } from '../../opts/csv';

export function splitStrings(values: string[]): string[] {
  return values.flatMap((v) => (v === '' ? [] : readCSVRecord(v)));
}

// opts.MapOpts: KEY=VALUE, or KEY for an empty value; the last one wins.
export function parseMapOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

// opts.ValidateLabel (--label of network and volume create).
export function validateLabel(value: string): string {
  const eq = value.indexOf('=');
  const key = (eq < 0 ? value : value.slice(0, eq)).replace(/^[ \t\n\v\f\r]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t\n\v\f\r]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}
