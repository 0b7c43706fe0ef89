// berth logs
import type { ContainerInspectResponse } from '../../../api/types';
import { copyRaw, demux } from '../../../client/stdcopy';
import { UsageError } from '../../args';
import { HELP_FLAG, type Command } from '../../command';

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

// docker's timetypes.GetTimestamp, reduced: a Go duration ("10m", "1h30m")
// counts back from now; a Unix time passes through; else an RFC 3339 date.
export function toTimestamp(value: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const dur = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(value);
  if (dur) {
    let secs = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) secs += Number(m[1]) * UNITS[m[2]];
    return String(Math.floor(now / 1000 - secs));
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`invalid value for "since"/"until": ${value}`);
  return String(Math.floor(t / 1000));
}

export const logsCommand: Command = {
  name: 'logs',
  usage: '[OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'details', type: 'bool', desc: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', desc: 'Follow log output' },
    { name: 'since', type: 'string', desc: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', desc: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', type: 'bool', desc: 'Show timestamps' },
    { name: 'until', type: 'string', desc: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const client = ctx.client();
    const f = p.flags;
    // The container's TTY setting decides whether the stream is multiplexed.
    const c = await client.get<ContainerInspectResponse>(`/containers/${encodeURIComponent(p.args[0])}/json`);
    const res = await client.request('GET', `/containers/${encodeURIComponent(p.args[0])}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        follow: f.follow,
        timestamps: f.timestamps,
        details: f.details,
        tail: f.tail,
        since: f.since ? toTimestamp(f.since) : undefined,
        until: f.until ? toTimestamp(f.until) : undefined,
      },
    });
    if (c?.Config?.Tty) await copyRaw(res.body, ctx.out);
    else await demux(res.body, ctx.out, ctx.err);
    return 0;
  },
};
