// berth update: docker update's flags and body (limits.ts); the new limits
// apply to a running container at once.
import type { FlagSpec } from '../../args';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { parseRestartPolicy } from '../../opts/restart';
import { updateBody } from './limits';

const FLAGS: FlagSpec[] = [
  { name: 'blkio-weight', type: 'uint16', desc: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'cpu-period', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', type: 'int', desc: 'Limit the CPU real-time period in microseconds', unsupported: true },
  { name: 'cpu-rt-runtime', type: 'int', desc: 'Limit the CPU real-time runtime in microseconds', unsupported: true },
  { name: 'cpu-shares', short: 'c', type: 'int', desc: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'decimal', desc: 'Number of CPUs' },
  { name: 'cpuset-cpus', type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)' },
  HELP_FLAG,
  { name: 'memory', short: 'm', type: 'bytes', desc: 'Memory limit' },
  { name: 'memory-reservation', type: 'bytes', desc: 'Memory soft limit' },
  { name: 'memory-swap', type: 'bytes', desc: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
  { name: 'pids-limit', type: 'int', desc: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'restart', type: 'string', desc: 'Restart policy to apply when a container exits' },
];

export const updateCommand: Command = {
  name: 'update',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  minArgs: 1,
  flags: FLAGS,
  async run(ctx, p) {
    if (![...p.changed].some((f) => f !== 'help')) throw new StatusError(1, 'you must provide one or more flags when using this command');
    // docker reads --restart here, and prints its error as is.
    try {
      parseRestartPolicy(p.flags.restart ?? '');
    } catch (err) {
      throw new StatusError(1, (err as Error).message);
    }
    const body = updateBody(p);
    const errs: string[] = [];
    const warnings: string[] = [];
    for (const name of p.args) {
      try {
        const r = await ctx.client().json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(name)}/update`, { body });
        ctx.out.write(`${name}\n`);
        warnings.push(...(r?.Warnings ?? []));
      } catch (err) {
        errs.push(errorText(err));
      }
    }
    if (warnings.length) ctx.out.write(`${warnings.join('\n')}\n`);
    if (errs.length) throw new StatusError(1, errs.join('\n'));
    return 0;
  },
};
