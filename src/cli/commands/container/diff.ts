// berth diff: the changes to a container's filesystem, "C /etc" a line.
import { HELP_FLAG, StatusError, type Command } from '../../command';

interface FilesystemChange {
  Path: string;
  // 0: modified, 1: added, 2: deleted.
  Kind: number;
}

const KIND = ['C', 'A', 'D'];

export function diffLines(changes: FilesystemChange[] | null | undefined): string {
  return (changes ?? []).map((c) => `${KIND[c.Kind] ?? ''} ${c.Path}\n`).join('');
}

export const diffCommand: Command = {
  name: 'diff',
  usage: 'CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  minArgs: 1,
  maxArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    if (!p.args[0]) throw new StatusError(1, 'Container name cannot be empty');
    const changes = await ctx.client().get<FilesystemChange[]>(`/containers/${encodeURIComponent(p.args[0])}/changes`);
    ctx.out.write(diffLines(changes));
    return 0;
  },
};
