// stop, restart, kill, rm, wait: one request per named container.
import type { WaitResponse } from '../../api/types';
import type { FlagSpec, Parsed } from '../args';
import { forEachName, HELP_FLAG, type Command } from '../command';

const enc = encodeURIComponent;

const STOP_FLAGS: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int', aliases: ['time'], desc: 'Seconds to wait before killing the container' },
  HELP_FLAG,
];

function stopQuery(p: Parsed) {
  return {
    signal: p.flags.signal || undefined,
    t: p.changed.has('timeout') ? p.flags.timeout : undefined,
  };
}

export const stopCommand: Command = {
  name: 'stop',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  minArgs: 1,
  flags: STOP_FLAGS,
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${enc(n)}/stop`, { query: stopQuery(p) });
    });
  },
};

export const restartCommand: Command = {
  name: 'restart',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  minArgs: 1,
  flags: STOP_FLAGS,
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${enc(n)}/restart`, { query: stopQuery(p) });
    });
  },
};

export const killCommand: Command = {
  name: 'kill',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  minArgs: 1,
  flags: [{ name: 'signal', short: 's', type: 'string', desc: 'Signal to send to the container' }, HELP_FLAG],
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('POST', `/containers/${enc(n)}/kill`, { query: { signal: p.flags.signal || undefined } });
    });
  },
};

export const rmCommand: Command = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', desc: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove anonymous volumes associated with the container' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const query = { force: p.flags.force, link: p.flags.link, v: p.flags.volumes };
    await forEachName(ctx, p.args, async (n) => {
      await ctx.client().call('DELETE', `/containers/${enc(n.replace(/^\//, ''))}`, { query });
    });
  },
};

export const waitCommand: Command = {
  name: 'wait',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      const r = await ctx.client().json<WaitResponse>('POST', `/containers/${enc(n)}/wait`);
      if (r.Error?.Message) throw new Error(r.Error.Message);
      return String(r.StatusCode);
    });
  },
};
