// berth stats: docker's RunStats. One stats stream per container; the
// table is redrawn every 500 ms (or printed once with --no-stream). Without
// names it follows the daemon's events to add started containers and drop
// dead ones, as docker does.
import type { IncomingMessage } from 'node:http';
import type { ContainerSummary } from '../../../api/types';
import type { Client } from '../../../client/client';
import { errorText, HELP_FLAG, StatusError, type Command, type Context } from '../../command';
import { loadConfig } from '../../config';
import { TABLE_FORMAT } from '../../output/formatter';
import { JSONStreamDecoder } from '../../output/jsonmessage';
import { emptyEntry, formatStats, redrawFrame, statsEntry, type StatsEntry, type StatsJSON } from '../../output/stats';
import { filtersToJSON } from '../filters';

// Reads a stream of JSON objects, calling `each` for every one.
export async function readJSONStream<T>(body: IncomingMessage, each: (v: T) => void): Promise<void> {
  const dec = new JSONStreamDecoder();
  body.setEncoding('utf8');
  for await (const chunk of body) dec.push(chunk as string, (m) => each(m as unknown as T));
}

// No update within this long and the row shows "--" (docker's collect).
const STALE_MS = 2000;

class Collector {
  entry: StatsEntry;
  error: unknown;
  private body?: IncomingMessage;
  private stale?: NodeJS.Timeout;
  readonly first: Promise<void>;
  private gotFirst: () => void = () => {};

  constructor(container: string) {
    this.entry = emptyEntry(container);
    this.first = new Promise((resolve) => {
      this.gotFirst = resolve;
    });
  }

  async run(client: Client, stream: boolean): Promise<void> {
    try {
      const res = await client.request('GET', `/containers/${encodeURIComponent(this.entry.container)}/stats`, { query: { stream: stream ? '1' : '0' } });
      this.body = res.body;
      this.arm(stream);
      await readJSONStream<StatsJSON>(res.body, (v) => {
        this.entry = statsEntry(this.entry.container, v);
        this.error = undefined;
        this.arm(stream);
        this.gotFirst();
      });
      // The stream ended (the container stopped): the row goes blank.
      if (stream) this.entry.invalid = true;
    } catch (err) {
      this.error = err;
      this.entry.invalid = true;
    } finally {
      if (this.stale) clearTimeout(this.stale);
      this.gotFirst();
    }
  }

  private arm(stream: boolean): void {
    if (this.stale) clearTimeout(this.stale);
    this.stale = setTimeout(() => {
      this.entry = { ...emptyEntry(this.entry.container), name: this.entry.name, id: this.entry.id, invalid: true };
      this.gotFirst();
      if (!stream) this.stop();
    }, STALE_MS);
    this.stale.unref();
  }

  stop(): void {
    if (this.stale) clearTimeout(this.stale);
    this.body?.destroy();
  }
}

class StatsSet {
  readonly list: Collector[] = [];

  constructor(private readonly client: Client, private readonly stream: boolean) {}

  add(container: string): Collector | undefined {
    if (this.list.some((c) => c.entry.container === container)) return undefined;
    const c = new Collector(container);
    this.list.push(c);
    c.run(this.client, this.stream);
    return c;
  }

  remove(container: string): void {
    const i = this.list.findIndex((c) => c.entry.container === container);
    if (i < 0) return;
    this.list[i].stop();
    this.list.splice(i, 1);
  }

  stopAll(): void {
    for (const c of this.list) c.stop();
  }
}

interface EventJSON {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string };
}

// Without names: every running (or, with -a, every) container, kept up to
// date from the container events.
async function followAll(ctx: Context, client: Client, set: StatsSet, all: boolean, onError: (e: unknown) => void): Promise<() => void> {
  const res = await client.request('GET', '/events', { query: { filters: filtersToJSON(new Map([['type', ['container']]])) } });
  readJSONStream<EventJSON>(res.body, (e) => {
    const id = (e.Actor?.ID ?? '').slice(0, 12);
    if (!id) return;
    if (e.Action === 'start' || (all && e.Action === 'create')) set.add(id);
    else if (!all && e.Action === 'die') set.remove(id);
  }).catch(onError);
  const list = await client.get<ContainerSummary[]>('/containers/json', { all: all || undefined });
  for (const c of list) set.add((c.Id ?? '').slice(0, 12));
  return () => res.body.destroy();
}

export const statsCommand: Command = {
  name: 'stats',
  usage: '[OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all containers (default shows just running)' },
    {
      name: 'format',
      type: 'string',
      desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    HELP_FLAG,
    { name: 'no-stream', type: 'bool', desc: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', desc: 'Do not truncate output' },
  ],
  async run(ctx, p) {
    const client = ctx.client();
    const stream = !p.flags['no-stream'];
    const set = new StatsSet(client, stream);
    const showAll = p.args.length === 0;
    let asyncError: unknown;
    let stopEvents = () => {};
    try {
      if (showAll) {
        stopEvents = await followAll(ctx, client, set, Boolean(p.flags.all), (e) => {
          asyncError ??= e;
        });
        await Promise.all(set.list.map((c) => c.first));
      } else {
        for (const name of p.args) set.add(name);
        await Promise.all(set.list.map((c) => c.first));
        const errs = set.list.filter((c) => c.error !== undefined).map((c) => errorText(c.error));
        if (errs.length) throw new StatusError(1, errs.join('\n'));
      }

      let format: string = p.flags.format || '';
      if (!format) format = loadConfig(ctx).stringField('statsFormat') || TABLE_FORMAT;
      const trunc = !p.flags['no-trunc'];
      for (;;) {
        if (stream) await new Promise((r) => setTimeout(r, 500));
        const text = formatStats(format, set.list.map((c) => c.entry), trunc);
        ctx.out.write(stream ? redrawFrame(text) : text);
        if (!stream || (!set.list.length && !showAll)) break;
        if (asyncError !== undefined) {
          // A daemon going away ends the stream quietly, as docker's unexpected EOF.
          const e = asyncError as NodeJS.ErrnoException;
          if (e.code === 'ECONNRESET' || e.message === 'aborted') break;
          throw e;
        }
      }
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw new StatusError(1, errorText(err));
    } finally {
      stopEvents();
      set.stopAll();
    }
    return 0;
  },
};
