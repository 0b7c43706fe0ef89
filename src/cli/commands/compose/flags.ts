// `berth compose`'s project flags, which docker compose takes before the
// subcommand (`berth compose -f a.yml up -d`); berth also takes them after it.
import type { FlagSpec } from '../../args';

export const COMPOSE_FLAGS: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'list', meta: 'stringArray', desc: 'Compose configuration files' },
  { name: 'project-name', short: 'p', type: 'string', desc: 'Project name' },
  { name: 'project-directory', type: 'string', desc: 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)' },
  { name: 'env-file', type: 'list', meta: 'stringArray', desc: 'Specify an alternate environment file' },
  { name: 'profile', type: 'list', meta: 'stringArray', desc: 'Specify a profile to enable' },
  { name: 'ansi', type: 'string', default: 'auto', desc: 'Control when to print ANSI control characters ("never"|"always"|"auto")' },
  { name: 'progress', type: 'string', default: 'auto', desc: 'Set type of progress output (auto, tty, plain, json, quiet)' },
  { name: 'compatibility', type: 'bool', desc: 'Run compose in backward compatibility mode', unsupported: true },
  { name: 'dry-run', type: 'bool', desc: 'Execute command in dry run mode', unsupported: true },
  { name: 'parallel', type: 'int', default: -1, desc: 'Control max parallelism, -1 for unlimited', unsupported: true },
];

// `compose -f a.yml -p x up -d` → the subcommand and its arguments, the
// project flags moved after it, where every compose command reads them.
export function hoistComposeFlags(rest: string[]): string[] {
  const takesValue = new Set<string>();
  for (const f of COMPOSE_FLAGS) {
    if (f.type === 'bool') continue;
    takesValue.add(`--${f.name}`);
    if (f.short) takesValue.add(`-${f.short}`);
  }
  const lead: string[] = [];
  let i = 0;
  while (i < rest.length && rest[i].startsWith('-') && rest[i] !== '--' && !['-h', '--help'].includes(rest[i])) {
    const a = rest[i++];
    lead.push(a);
    if (takesValue.has(a) && i < rest.length) lead.push(rest[i++]);
  }
  if (i >= rest.length) return [...lead];
  return [rest[i], ...lead, ...rest.slice(i + 1)];
}
