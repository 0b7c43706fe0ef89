// berth docs man DIR: man pages (roff) for berth and each of its commands,
// from the command table that `--help` prints: berth.1, berth-run.1,
// berth-container-ls.1, … (`man -l DIR/berth-run.1`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlagSpec } from '../../args';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { renderPage, type RoffOption } from '../../../util/roff';
import { commandTree, visible, type CommandNode } from './model';
import pkg from '../../../../package.json';

function options(flags: FlagSpec[]): RoffOption[] {
  return visible(flags).map((f) => {
    const def = f.default !== undefined && f.default !== false && f.default !== '' ? ` (default ${typeof f.default === 'string' ? `"${f.default}"` : f.default})` : '';
    return {
      flags: [...(f.short ? [`-${f.short}`] : []), `--${f.name}`],
      value: f.type === 'bool' ? undefined : f.meta ?? f.type,
      desc: `${f.desc ?? ''}${def}${f.unsupported ? ' (not supported yet)' : ''}`,
    };
  });
}

const pageName = (p: string[]) => ['berth', ...p].join('-');

function commandPage(n: CommandNode, source: string): string {
  const aliases = n.names.slice(1).map((a) => `berth ${[...n.path.slice(0, -1), a].join(' ')}`);
  return renderPage({
    name: pageName(n.path),
    section: 1,
    title: n.cmd.summary,
    synopsis: `berth ${n.path.join(' ')} ${n.cmd.usage}`.trim(),
    description: `${n.cmd.summary}.${aliases.length ? `\nAliases: ${aliases.join(', ')}` : ''}`,
    options: options(n.cmd.flags),
    seeAlso: [n.path.length > 1 ? `${pageName(n.path.slice(0, 1))}(1)` : 'berth(1)'],
    source,
  });
}

// Every page, by file name.
export async function manPages(table: NonNullable<import('../../command').Context['commandTable']>): Promise<Map<string, string>> {
  const t = await commandTree(table);
  const source = `berth ${pkg.version}`;
  const pages = new Map<string, string>();
  pages.set('berth.1', renderPage({
    name: 'berth',
    section: 1,
    title: 'A container engine that speaks the Docker Engine API',
    synopsis: 'berth [OPTIONS] COMMAND',
    description: 'berth is the client of berthd. It reaches the daemon through -H, --context, $BERTH_HOST, $DOCKER_HOST, $DOCKER_CONTEXT or the docker config\'s currentContext, in the docker CLI\'s order, and shares the docker CLI\'s config directory (credentials, contexts).',
    options: options(t.globals),
    optionsTitle: 'GLOBAL OPTIONS',
    commands: [...t.top.map((c) => ({ name: `berth ${c.path[0]}`, desc: c.cmd.summary })), ...t.groups.map((g) => ({ name: `berth ${g.name}`, desc: g.summary }))],
    seeAlso: ['berthd(8)', ...t.top.map((c) => `${pageName(c.path)}(1)`), ...t.groups.map((g) => `${pageName([g.name])}(1)`)],
    source,
  }));
  for (const c of t.top) pages.set(`${pageName(c.path)}.1`, commandPage(c, source));
  for (const g of t.groups) {
    pages.set(`${pageName([g.name])}.1`, renderPage({
      name: pageName([g.name]),
      section: 1,
      title: g.summary,
      synopsis: `berth ${g.name} COMMAND`,
      commands: g.subs.map((s) => ({ name: `berth ${s.path.join(' ')}`, desc: s.cmd.summary })),
      seeAlso: ['berth(1)', ...g.subs.map((s) => `${pageName(s.path)}(1)`)],
      source,
    }));
    for (const s of g.subs) pages.set(`${pageName(s.path)}.1`, commandPage(s, source));
  }
  return pages;
}

export const docsCommand: Command = {
  name: 'docs',
  usage: 'man DIR',
  summary: 'Write the man pages of berth and its commands',
  minArgs: 2,
  maxArgs: 2,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const [kind, dir] = p.args;
    if (kind !== 'man') throw new StatusError(1, `unknown document kind "${kind}": expected man`);
    if (!ctx.commandTable) throw new StatusError(1, 'no command table');
    fs.mkdirSync(dir, { recursive: true });
    const pages = await manPages(ctx.commandTable);
    for (const [name, text] of pages) fs.writeFileSync(path.join(dir, name), text);
    ctx.out.write(`${pages.size} pages written to ${dir}\n`);
  },
};
