// docker events' output: its one-line form, or a Go template over
// events.Message (Go field names for {{.Field}}, its JSON names for
// {{json .}}), and the --since/--until timestamps as docker computes them.
import { parseDuration } from '../args';
import { GoStruct } from './template';

export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time?: number;
  // Nanoseconds since the epoch need more than a double's 53 bits.
  timeNano?: bigint;
}

// One event from the stream's JSON text, keeping timeNano exact.
export function parseEvent(text: string): EventMessage {
  const quoted = text.replace(/("timeNano"\s*:\s*)(-?\d+)/, '$1"$2"');
  const e = JSON.parse(quoted) as EventMessage & { timeNano?: string | bigint };
  if (e.timeNano !== undefined) e.timeNano = BigInt(e.timeNano as unknown as string);
  return e;
}

function pad(n: number | bigint, w = 2): string {
  return String(n).padStart(w, '0');
}

// Go's Format("2006-01-02T15:04:05.000000000Z07:00") in the local zone.
export function rfc3339NanoFixed(sec: bigint, nsec: number): string {
  const d = new Date(Number(sec) * 1000);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(nsec, 9)}${zone}`;
}

// docker's prettyPrintEvent.
export function prettyEvent(e: EventMessage): string {
  let out = '';
  if (e.timeNano) {
    const sec = e.timeNano / 1_000_000_000n;
    out += `${rfc3339NanoFixed(sec, Number(e.timeNano % 1_000_000_000n))} `;
  } else if (e.time) out += `${rfc3339NanoFixed(BigInt(e.time), 0)} `;
  out += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${out}\n`;
}

class Struct extends GoStruct {
  constructor(typeName: string, methods: Record<string, () => unknown>, private readonly json: () => string) {
    super(typeName, methods);
  }

  override marshalJSON(): string {
    return this.json();
  }
}

const str = (s: string | undefined) => JSON.stringify(s ?? '').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function sortedMap(m: Record<string, string> | null | undefined): string {
  if (!m) return 'null';
  return `{${Object.keys(m).sort().map((k) => `${str(k)}:${str(m[k])}`).join(',')}}`;
}

// An events.Message for a template.
export function eventContext(e: EventMessage): GoStruct {
  const actor = new Struct('events.Actor', {
    ID: () => e.Actor?.ID ?? '',
    Attributes: () => e.Actor?.Attributes ?? null,
  }, () => `{"ID":${str(e.Actor?.ID)},"Attributes":${sortedMap(e.Actor?.Attributes)}}`);
  return new Struct('*events.Message', {
    Status: () => e.status ?? '',
    ID: () => e.id ?? '',
    From: () => e.from ?? '',
    Type: () => e.Type ?? '',
    Action: () => e.Action ?? '',
    Actor: () => actor,
    Scope: () => e.scope ?? '',
    Time: () => e.time ?? 0,
    TimeNano: () => e.timeNano ?? 0n,
  }, () => {
    let j = '{';
    if (e.status) j += `"status":${str(e.status)},`;
    if (e.id) j += `"id":${str(e.id)},`;
    if (e.from) j += `"from":${str(e.from)},`;
    j += `"Type":${str(e.Type)},"Action":${str(e.Action)},"Actor":${actor.marshalJSON()},`;
    j += `"scope":${str(e.scope)},"time":${e.time ?? 0},"timeNano":${e.timeNano ?? 0n}}`;
    return j;
  });
}

// docker's timetypes.GetTimestamp: a Go duration counts back from `now`;
// a date (RFC 3339, with or without zone, down to a bare day) becomes
// "seconds.nanoseconds"; a Unix time passes through.
export function getTimestamp(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      const ns = parseDuration(value);
      return String(Math.floor((now * 1e6 - ns) / 1e9));
    } catch {
      // not a duration
    }
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
    let ms: number;
    if (zone) {
      ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
      if (zone !== 'z' && zone !== 'Z') {
        const sign = zone[0] === '-' ? -1 : 1;
        ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
      }
    } else {
      ms = new Date(+y, +mo - 1, +d, +h, +mi, +s).getTime();
    }
    return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0')}`;
  }
  if (!value.includes('-') && /^\d+(\.\d{1,9})?$/.test(value)) return value;
  throw new Error(`failed to parse value as time or duration: "${value}"`);
}
