// Flags shared by `run` and `create`, and the create request they make.
import { readFileSync } from 'node:fs';
import type { FlagSpec, Parsed } from '../../args';
import { UsageError } from '../../args';
import { HELP_FLAG } from '../../command';

export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: 'entrypoint', type: 'string', desc: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
  { name: 'env-file', type: 'list', desc: 'Read in a file of environment variables' },
  { name: 'hostname', short: 'h', type: 'string', desc: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', type: 'list', desc: 'Set meta data on a container' },
  { name: 'name', type: 'string', desc: 'Assign a name to the container' },
  { name: 'network', type: 'string', aliases: ['net'], desc: 'Connect a container to a network' },
  { name: 'rm', type: 'bool', desc: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY (not supported yet)' },
  { name: 'user', short: 'u', type: 'string', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
  { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
  HELP_FLAG,
];

export interface ContainerConfig {
  Hostname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  HostConfig: { AutoRemove: boolean; NetworkMode: string };
}

const WHITESPACE = ' \t\n\v\f\r';

// docker's opts.ParseEnvFile: KEY=VALUE lines kept verbatim; a bare KEY is
// taken from our environment (and dropped when unset); # starts a comment.
export function parseEnvFile(text: string, file: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    line = line.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    let key = eq >= 0 ? line.slice(0, eq) : line;
    key = key.replace(/^[ \t\n\v\f\r]+/, '');
    if ([...key].some((c) => WHITESPACE.includes(c))) {
      throw new UsageError(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    }
    if (!key) throw new UsageError(`invalid env file (${file}): no variable name on line '${line}'`);
    if (eq >= 0) out.push(`${key}=${line.slice(eq + 1)}`);
    else if (env[key] !== undefined) out.push(`${key.trim()}=${env[key]}`);
  });
  return out;
}

// docker's opts.ValidateEnv: a bare KEY takes our value when we have one.
export function parseEnvFlag(value: string, env: NodeJS.ProcessEnv): string {
  const eq = value.indexOf('=');
  const key = eq >= 0 ? value.slice(0, eq) : value;
  if (!key) throw new UsageError(`invalid environment variable: ${value}`);
  if (eq >= 0) return value;
  return env[key] !== undefined ? `${key}=${env[key]}` : value;
}

export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid label '${v}': empty name`);
    if (eq < 0) labels[v] = '';
    else labels[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return labels;
}

export function buildConfig(p: Parsed, env: NodeJS.ProcessEnv, opts: { detach: boolean }): ContainerConfig {
  const f = p.flags;
  if (f.tty) throw new UsageError('the -t/--tty option is not supported by berth yet');
  const [image, ...cmd] = p.args;
  const envList: string[] = [];
  for (const file of f['env-file'] as string[]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(err.code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${err.message}`);
    }
    envList.push(...parseEnvFile(text, file, env));
  }
  for (const e of f.env as string[]) envList.push(parseEnvFlag(e, env));

  let entrypoint: string[] | null = null;
  if (f.entrypoint) entrypoint = [f.entrypoint];
  else if (p.changed.has('entrypoint')) entrypoint = [''];

  const interactive = Boolean(f.interactive);
  const attach = !opts.detach;
  return {
    Hostname: f.hostname ?? '',
    User: f.user ?? '',
    AttachStdin: attach && interactive,
    AttachStdout: attach,
    AttachStderr: attach,
    Tty: false,
    OpenStdin: interactive,
    // Closing the attached stdin ends the container's stdin (docker: -i on an attached run).
    StdinOnce: attach && interactive,
    Env: envList.length ? envList : null,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    WorkingDir: f.workdir ?? '',
    Entrypoint: entrypoint,
    Labels: parseLabels(f.label as string[]),
    HostConfig: {
      AutoRemove: Boolean(f.rm),
      NetworkMode: f.network || 'default',
    },
  };
}
