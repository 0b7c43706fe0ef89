// GET /events: the event bus as Docker's JSON stream. Past events (kept in
// the bus's ring) for `since`/`until`, then live ones until `until` or the
// client hangs up; `filters` as dockerd applies them.
import type { EngineEvent, EventBus } from '../../engine/events/bus';
import { nowNano } from '../../engine/events/bus';
import { invalidArgument } from '../../errors';
import { filtersParam, timestampValue } from '../http';
import type { Router } from '../router';

// What the events route needs of the daemon.
export interface EventsBackend {
  events: Pick<EventBus, 'past' | 'subscribe'>;
}

// The filters dockerd knows that mean something here (plugin, node,
// service, secret and config are swarm's and plugins').
const FILTER_KEYS = ['type', 'event', 'container', 'image', 'label', 'daemon', 'network', 'volume', 'scope'];

export function eventRoutes(r: Router, b: EventsBackend): void {
  r.get('/events', async (ctx) => {
    const q = ctx.query;
    const since = timeParam(q.get('since'), 'since');
    const until = timeParam(q.get('until'), 'until');
    if (until !== undefined && since !== undefined && until < since) {
      throw invalidArgument(`\`since\` time (${q.get('since')}) cannot be after \`until\` time (${q.get('until')})`);
    }
    const filter = eventFilter(filtersParam(q));
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const write = (e: EngineEvent) => {
      if (filter(e)) res.write(eventJSON(e) + '\n');
    };
    // dockerd sends past events only when asked for a time range.
    const past = since !== undefined || until !== undefined ? b.events.past(since ?? 0n, until) : [];
    const now = nowNano();
    if (until !== undefined && until < now) {
      for (const e of past) write(e);
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = b.events.subscribe((e) => {
        if (until !== undefined && e.timeNano > until) return;
        write(e);
      });
      const done = () => {
        unsubscribe();
        clearTimeout(timer);
        resolve();
      };
      for (const e of past) write(e);
      if (until !== undefined) timer = setTimeout(done, Number((until - now) / 1_000_000n) + 1);
      res.on('close', done);
    });
    res.end();
  });
}

// Docker's timestamps (seconds with a fraction, RFC 3339, a duration back
// from now) as nanoseconds since the epoch.
function timeParam(v: string | null, name: string): bigint | undefined {
  if (!v) return undefined;
  const secs = timestampValue(v, name);
  // Whole seconds and the fraction apart: a double holds no nanoseconds.
  const m = v.match(/^(\d+)(?:\.(\d{1,9}))?$/);
  if (m) return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(Math.round(secs * 1000)) * 1_000_000n;
}

// dockerd's events.Message: the legacy status, id and from for containers
// and images, then Type, Action, Actor, scope, time and timeNano (written
// by hand: it does not fit a double).
export function eventJSON(e: EngineEvent): string {
  const legacy = e.type === 'container' ? { status: e.action, id: e.id, from: e.attributes.image ?? '' } : e.type === 'image' ? { status: e.action, id: e.id } : {};
  const body = JSON.stringify({
    ...legacy,
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
  });
  return `${body.slice(0, -1)},"timeNano":${e.timeNano}}`;
}

// dockerd's events filter: every key given must match. Within a key any
// value may; `label`s must all match.
export function eventFilter(f: Map<string, string[]>): (e: EngineEvent) => boolean {
  for (const k of f.keys()) if (!FILTER_KEYS.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
  const has = (k: string) => (f.get(k)?.length ?? 0) > 0;
  const exact = (k: string, ...sources: string[]) => !has(k) || sources.some((s) => f.get(k)!.includes(s));
  const fuzzy = (k: string, ...sources: string[]) => !has(k) || sources.some((s) => f.get(k)!.some((v) => s === v || s.startsWith(v)));
  // exec_create and exec_start carry the command ("exec_start: sh -c …"),
  // health_status the status: these match by prefix, as in dockerd.
  const fuzzyEvents = (f.get('event') ?? []).some((v) => ['exec_create', 'exec_start', 'health_status'].includes(v));
  const labels = f.get('label') ?? [];
  return (e) => {
    const name = e.attributes.name ?? '';
    const imageName = e.type === 'image' ? name : e.attributes.image ?? '';
    return (fuzzyEvents ? fuzzy('event', e.action) : exact('event', e.action))
      && exact('type', e.type)
      && exact('scope', 'local')
      && fuzzy('daemon', e.id, name)
      && fuzzy('container', e.id, name)
      && fuzzy('network', e.id, name)
      && fuzzy('volume', e.id, name)
      && exact('image', e.id, imageName, stripTag(e.id), stripTag(imageName))
      && labels.every((l) => {
        const i = l.indexOf('=');
        return i < 0 ? l in e.attributes : e.attributes[l.slice(0, i)] === l.slice(i + 1);
      });
  };
}

// "busybox:latest" → "busybox", "x/y@sha256:…" → "x/y".
function stripTag(ref: string): string {
  const at = ref.indexOf('@');
  const s = at >= 0 ? ref.slice(0, at) : ref;
  const colon = s.lastIndexOf(':');
  return colon > s.lastIndexOf('/') ? s.slice(0, colon) : s;
}
