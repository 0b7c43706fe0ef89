// berth top: the daemon runs ps; we print its table (tabwriter, minwidth 20).
import { HELP_FLAG, type Command } from '../../command';
import { formatTable } from '../../output/table';

interface TopResponse {
  Titles?: string[] | null;
  Processes?: string[][] | null;
}

export function topTable(r: TopResponse): string {
  return formatTable([r.Titles ?? [], ...(r.Processes ?? [])], { minWidth: 20 });
}

export const topCommand: Command = {
  name: 'top',
  usage: 'CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  interspersed: false,
  minArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const [name, ...psArgs] = p.args;
    const r = await ctx.client().get<TopResponse>(`/containers/${encodeURIComponent(name)}/top`, {
      ps_args: psArgs.length ? psArgs.join(' ') : undefined,
    });
    ctx.out.write(topTable(r));
    return 0;
  },
};
