// Type checks for the run-config fields an image config carries
// (ImageRunConfig), as a request gives them (a commit's body): each field
// of the wrong type is refused with 400 naming it, as dockerd's JSON
// decoding refuses it, before anything is stored.
import { invalidArgument } from '../../errors';

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const string: Check = (v) => typeof v === 'string';
const strings: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
// strslice: one string or a list of them.
const strslice: Check = (v) => typeof v === 'string' || strings(v);
const integer: Check = (v) => typeof v === 'number' && Number.isInteger(v);
// map[string]struct{}: {"80/tcp": {}}
const set: Check = (v) => isObject(v) && Object.values(v).every((x) => x === null || isObject(x));
const labels: Check = (v) => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

const WANT: Record<string, [Check, string]> = {
  User: [string, 'a string'],
  ExposedPorts: [set, 'a map of ports to {}'],
  Env: [strings, 'a list of strings'],
  Entrypoint: [strslice, 'a string or a list of strings'],
  Cmd: [strslice, 'a string or a list of strings'],
  Volumes: [set, 'a map of paths to {}'],
  WorkingDir: [string, 'a string'],
  Labels: [labels, 'a map of strings'],
  StopSignal: [string, 'a string'],
  Shell: [strslice, 'a string or a list of strings'],
  OnBuild: [strings, 'a list of strings'],
};

const HEALTHCHECK: Record<string, [Check, string]> = {
  Test: [strings, 'a list of strings'],
  Interval: [integer, 'an integer (nanoseconds)'],
  Timeout: [integer, 'an integer (nanoseconds)'],
  StartPeriod: [integer, 'an integer (nanoseconds)'],
  StartInterval: [integer, 'an integer (nanoseconds)'],
  Retries: [integer, 'an integer'],
};

function checkFields(o: Record<string, unknown>, want: Record<string, [Check, string]>, prefix: string): void {
  for (const [field, [ok, what]] of Object.entries(want)) {
    const v = o[field];
    if (v !== undefined && v !== null && !ok(v)) throw invalidArgument(`invalid ${prefix}${field}: ${JSON.stringify(v)} is not ${what}`);
  }
}

// Throws InvalidArgument naming the first run-config field of body that
// has the wrong type (null, as in dockerd's decoding, leaves a field
// unset); other fields are not looked at.
export function checkRunConfig(body: Record<string, unknown>): void {
  checkFields(body, WANT, '');
  const hc = body.Healthcheck;
  if (hc === undefined || hc === null) return;
  if (!isObject(hc)) throw invalidArgument(`invalid Healthcheck: ${JSON.stringify(hc)} is not an object`);
  checkFields(hc, HEALTHCHECK, 'Healthcheck.');
}
