// The command table as one tree (global flags, top-level commands, groups
// with their subcommands and aliases), for the shell completions and man
// pages, which must say exactly what `--help` says.
import type { FlagSpec } from '../../args';
import type { Command } from '../../command';
import { GLOBAL_FLAGS } from '../../globals';
import type { CommandRef, Group } from '../index';

export interface CommandNode {
  path: string[]; // ["run"], ["container", "ls"]
  names: string[]; // its name and aliases in its parent
  cmd: Command;
}

export interface GroupNode {
  name: string;
  summary: string;
  subs: CommandNode[];
}

export interface CommandTree {
  globals: FlagSpec[];
  top: CommandNode[];
  groups: GroupNode[];
}

// The table comes from cli.ts (ctx.commandTable), so no command module
// imports the table that imports it.
export async function commandTree(table: { top: CommandRef[]; groups: Record<string, Group> }): Promise<CommandTree> {
  const TOP = table.top;
  const GROUPS = table.groups;
  const top = await Promise.all(TOP.map(async (r) => ({ path: [r.name], names: [r.name], cmd: await r.load() })));
  const groups: GroupNode[] = [];
  for (const [name, g] of Object.entries(GROUPS)) {
    const byRef = new Map<CommandRef, string[]>();
    for (const [n, r] of Object.entries(g.commands)) byRef.set(r, [...(byRef.get(r) ?? []), n]);
    const subs: CommandNode[] = [];
    for (const [r, names] of byRef) subs.push({ path: [name, names[0]], names, cmd: await r.load() });
    groups.push({ name, summary: g.summary, subs });
  }
  return { globals: GLOBAL_FLAGS, top, groups };
}

// What a command's arguments name, from its usage line: the daemon objects
// a completion can list.
export type ArgKind = 'container' | 'image' | 'network' | 'volume' | 'context' | 'shell' | '';

export function argKind(c: Command): ArgKind {
  const u = c.usage.replace(/\[OPTIONS\]/g, '').trim();
  const first = /^\[?([A-Z_]+|bash\|zsh\|fish)/.exec(u)?.[1] ?? '';
  if (first === 'bash|zsh|fish') return 'shell';
  if (first === 'CONTAINER') return 'container';
  if (first === 'IMAGE' || first === 'NAME' || first === 'SOURCE_IMAGE') return 'image';
  if (first === 'NETWORK') return 'network';
  if (first === 'VOLUME') return 'volume';
  if (first === 'CONTEXT') return 'context';
  return '';
}

// --name and -n, as typed.
export function flagWords(f: FlagSpec): string[] {
  return [`--${f.name}`, ...(f.aliases ?? []).map((a) => `--${a}`), ...(f.short ? [`-${f.short}`] : [])];
}

export const visible = (flags: FlagSpec[]) => flags.filter((f) => !f.hidden);
