// The docker CLI's contexts, in its own store so both CLIs share them:
// <config>/contexts/meta/<sha256(name)>/meta.json holds
// {"Name", "Metadata": {"Description"?}, "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}},
// and config.json's "currentContext" names the current one. Which context a
// command uses, as docker's resolveContextName: --context, then "default"
// when -H or DOCKER_HOST (or BERTH_HOST) is set, then DOCKER_CONTEXT, then
// currentContext, then "default" (whose host is -H, $BERTH_HOST,
// $DOCKER_HOST or berthd's socket).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_HOST } from '../client/host';
import { ConfigFile } from './config';

export const DEFAULT_CONTEXT = 'default';
export const DEFAULT_DESCRIPTION = 'Current DOCKER_HOST based configuration';
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;

export interface ContextMeta {
  Name: string;
  Metadata: { Description?: string; [k: string]: unknown };
  Endpoints: { docker?: { Host: string; SkipTLSVerify: boolean }; [k: string]: unknown };
}

export class ContextError extends Error {}

export function metaDir(configDir: string): string {
  return path.join(configDir, 'contexts', 'meta');
}

// node:crypto is loaded only when a context is named: loading it costs
// about 3 ms of every command's start otherwise.
const sha256 = (s: string) => (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(s).digest('hex');

export function contextDirOf(configDir: string, name: string): string {
  return path.join(metaDir(configDir), sha256(name));
}

export function tlsDirOf(configDir: string, name: string): string {
  return path.join(configDir, 'contexts', 'tls', sha256(name));
}

// The host -H or the environment gives the default context.
export function defaultHost(env: NodeJS.ProcessEnv, flagHost?: string): string {
  return flagHost || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function defaultContext(env: NodeJS.ProcessEnv, flagHost?: string): ContextMeta {
  return { Name: DEFAULT_CONTEXT, Metadata: {}, Endpoints: { docker: { Host: defaultHost(env, flagHost), SkipTLSVerify: false } } };
}

// docker's resolveContextName.
export function resolveContextName(opts: { context?: string; host?: string }, env: NodeJS.ProcessEnv, cfg: ConfigFile): string {
  if (opts.context) return opts.context;
  if (opts.host) return DEFAULT_CONTEXT;
  if (env.BERTH_HOST || env.DOCKER_HOST) return DEFAULT_CONTEXT;
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT;
  return cfg.stringField('currentContext') || DEFAULT_CONTEXT;
}

export function readContext(configDir: string, name: string): ContextMeta {
  const file = path.join(contextDirOf(configDir, name), 'meta.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContextError(`context "${name}": context not found: open ${file}: no such file or directory`);
    throw new ContextError(`context "${name}": ${(e as Error).message}`);
  }
  let m: ContextMeta;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ContextError(`context "${name}": parsing ${file}: ${(e as Error).message}`);
  }
  if (!m || typeof m !== 'object' || typeof m.Name !== 'string') throw new ContextError(`context "${name}": ${file} is not a context`);
  m.Metadata ??= {};
  m.Endpoints ??= {};
  return m;
}

// Every stored context (not "default"), by name.
export function listContexts(configDir: string): ContextMeta[] {
  let dirs: string[];
  try {
    dirs = fs.readdirSync(metaDir(configDir));
  } catch {
    return [];
  }
  const out: ContextMeta[] = [];
  for (const d of dirs) {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(metaDir(configDir), d, 'meta.json'), 'utf8')) as ContextMeta;
      if (m && typeof m.Name === 'string') out.push({ ...m, Metadata: m.Metadata ?? {}, Endpoints: m.Endpoints ?? {} });
    } catch {
      // not a context directory
    }
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

export function writeContext(configDir: string, m: ContextMeta): void {
  const dir = contextDirOf(configDir, m.Name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.meta.json.${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(m), { mode: 0o644 });
  fs.renameSync(tmp, path.join(dir, 'meta.json'));
}

export function removeContext(configDir: string, name: string): void {
  fs.rmSync(contextDirOf(configDir, name), { recursive: true, force: true });
  fs.rmSync(tlsDirOf(configDir, name), { recursive: true, force: true });
}

// The daemon host a command talks to. -H and --context together are
// refused, as docker does.
export function resolveHost(opts: { context?: string; host?: string }, env: NodeJS.ProcessEnv, configDir: string, cfg: ConfigFile): { name: string; host: string } {
  if (opts.context && opts.host) throw new ContextError('conflicting options: cannot specify both --host and --context');
  const name = resolveContextName(opts, env, cfg);
  if (name === DEFAULT_CONTEXT) return { name, host: defaultHost(env, opts.host) };
  const m = readContext(configDir, name);
  const host = m.Endpoints.docker?.Host;
  if (!host) throw new ContextError(`context "${name}" has no docker endpoint`);
  return { name, host };
}
