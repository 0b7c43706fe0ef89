// berth history
import type { HistoryResponseItem } from '../../../api/types';
import { HELP_FLAG, type Command } from '../../command';
import { formatWrite, headerContext, historyContext, historyFormat, HISTORY_HEADER, TABLE_FORMAT } from '../../output/formatter';

export function objectPath(prefix: string, name: string, suffix = ''): string {
  return `${prefix}/${name.split('/').map(encodeURIComponent).join('/')}${suffix}`;
}

export const historyCommand: Command = {
  name: 'history',
  usage: '[OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'format', type: 'string', desc: 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template.' },
    { name: 'human', short: 'H', type: 'bool', default: true, desc: 'Print sizes and dates in human readable format' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    // berthd's history is the stored image's.
    { name: 'platform', type: 'string', desc: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")', unsupported: true },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show image IDs' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const items = await ctx.client().get<HistoryResponseItem[] | null>(objectPath('/images', p.args[0], '/history'));
    const format = historyFormat(f.format || TABLE_FORMAT, f.quiet, f.human);
    const trunc = !f['no-trunc'];
    ctx.out.write(formatWrite(format, headerContext(HISTORY_HEADER), (items ?? []).map((h) => historyContext(h, trunc, f.human))));
    return 0;
  },
};
