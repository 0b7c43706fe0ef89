// `berth compose`'s project flags, which docker compose takes before the
// subcommand (`berth compose -f a.yml up -d`); after it, berth takes their
// long forms (--file).
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

// `compose -f a.yml -p x up -d` → `up --file=a.yml --project-name=x -d`:
// the project flags move after the subcommand in their long form (the
// subcommands' own shorthands, like logs -f, are not the project's).
export function hoistComposeFlags(rest: string[]): string[] {
  const byShort = new Map(COMPOSE_FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));
  const byLong = new Map(COMPOSE_FLAGS.map((f) => [f.name, f]));
  const lead: string[] = [];
  let i = 0;
  while (i < rest.length && rest[i].startsWith('-') && rest[i] !== '--' && !['-h', '--help'].includes(rest[i])) {
    const a = rest[i++];
    let spec = a.startsWith('--') ? byLong.get(a.slice(2).split('=')[0]) : byShort.get(a[1]);
    if (!spec) return rest; // the parser names the unknown flag
    const inline = a.startsWith('--') ? (a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined) : a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
    if (spec.type === 'bool') lead.push(inline === undefined ? `--${spec.name}` : `--${spec.name}=${inline}`);
    else if (inline !== undefined) lead.push(`--${spec.name}=${inline}`);
    else if (i < rest.length) lead.push(`--${spec.name}=${rest[i++]}`);
    else lead.push(`--${spec.name}`);
    spec = undefined;
  }
  if (i >= rest.length) return lead;
  return [rest[i], ...lead, ...rest.slice(i + 1)];
}
