// berth events: the daemon's event stream, one line an event (or a Go
// template over each), until --until or the user stops it.
import { UsageError } from '../../args';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { eventContext, getTimestamp, parseEvent, prettyEvent } from '../../output/events';
import { executeTemplate, parseTemplate, type Template } from '../../output/template';
import { filtersToJSON, parseFilterFlags } from '../filters';

// docker's makeTemplate: "json" is {{json .}}; a template must run on an
// empty event (so {{.Bad}} fails before any event arrives).
function makeTemplate(format: string): Template | undefined {
  if (!format) return undefined;
  const t = parseTemplate(format === 'json' ? '{{json .}}' : format);
  executeTemplate(t, eventContext({}));
  return t;
}

export const eventsCommand: Command = {
  name: 'events',
  usage: '[OPTIONS]',
  summary: 'Get real time events from the server',
  maxArgs: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'list', meta: 'filter', desc: 'Filter output based on conditions provided' },
    {
      name: 'format',
      type: 'string',
      desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    HELP_FLAG,
    { name: 'since', type: 'string', desc: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', desc: 'Stream events until this timestamp' },
  ],
  async run(ctx, p) {
    let tmpl: Template | undefined;
    try {
      tmpl = makeTemplate(p.flags.format ?? '');
    } catch (e) {
      throw new StatusError(64, `Error parsing format: ${(e as Error).message}`);
    }
    let filters: string | undefined;
    try {
      filters = filtersToJSON(parseFilterFlags(p.flags.filter, '--filter'));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const now = Date.now();
    const query = {
      since: p.flags.since ? getTimestamp(p.flags.since, now) : undefined,
      until: p.flags.until ? getTimestamp(p.flags.until, now) : undefined,
      filters,
    };
    const res = await ctx.client().request('GET', '/events', { query });
    res.body.setEncoding('utf8');
    const emit = (line: string) => {
      const e = parseEvent(line);
      ctx.out.write(tmpl ? `${executeTemplate(tmpl, eventContext(e))}\n` : prettyEvent(e));
    };
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += chunk as string;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) emit(line);
        }
      }
      if (buf.trim()) emit(buf.trim());
    } catch (e) {
      throw new StatusError(1, errorText(e));
    }
    return 0;
  },
};
