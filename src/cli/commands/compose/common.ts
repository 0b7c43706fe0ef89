// What every compose command shares: the project from the flags, the
// runner with the CLI's progress, build and pull.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ComposeError } from '../../../compose/errors';
import { loadProject } from '../../../compose/load';
import type { Project, Service } from '../../../compose/model';
import { type Hooks, Runner } from '../../../compose/run';
import { StatusError, type Command, type Context } from '../../command';
import type { FlagSpec, Parsed } from '../../args';
import { HELP_FLAG } from '../../command';
import { COMPOSE_FLAGS } from './flags';
import { isTTY } from '../../io';

export function composeCommand(c: Omit<Command, 'flags'> & { flags: FlagSpec[] }): Command {
  // The project flags, long forms only and out of the subcommand's help
  // (they belong to `berth compose`), read after its own.
  const project = COMPOSE_FLAGS.map(({ short: _s, ...f }) => ({ ...f, hidden: true }));
  return { ...c, flags: [...c.flags, ...project, HELP_FLAG] };
}

export function loadFromFlags(ctx: Context, p: Parsed, extra: { profiles?: string[] } = {}): Project {
  const f = p.flags;
  try {
    return loadProject({
      files: f.file,
      projectName: f['project-name'] || undefined,
      projectDirectory: f['project-directory'] || undefined,
      envFiles: f['env-file'],
      profiles: [...(f.profile ?? []), ...(extra.profiles ?? [])],
      env: ctx.env,
      cwd: process.cwd(),
    });
  } catch (e) {
    if (e instanceof ComposeError) throw new StatusError(1, e.message);
    throw e;
  }
}

// A project known by name only (`down -p x`, `ps -p x` with no file):
// what its labels say is all there is.
export function loadOrName(ctx: Context, p: Parsed): Project {
  const name = p.flags['project-name'] || ctx.env.COMPOSE_PROJECT_NAME;
  try {
    return loadFromFlags(ctx, p);
  } catch (e) {
    if (!name || p.flags.file?.length || !(e instanceof StatusError) || !/no configuration file provided/.test(e.message)) throw e;
    return { name, working_dir: process.cwd(), config_files: [], services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, disabled: {} };
  }
}

// Services named on the command line enable their profiles, as in compose.
export function loadForServices(ctx: Context, p: Parsed, names: string[]): Project {
  let project = loadFromFlags(ctx, p);
  const profiles = new Set<string>();
  for (const n of names) for (const pr of project.disabled[n]?.profiles ?? []) profiles.add(pr);
  if (profiles.size) project = loadFromFlags(ctx, p, { profiles: [...profiles] });
  for (const n of names) if (!project.services[n]) throw new StatusError(1, `no such service: ${n}`);
  return project;
}

export function selected(project: Project, names: string[]): string[] {
  return names.length ? names : Object.keys(project.services);
}

export function progressHooks(ctx: Context, p: Parsed): Hooks {
  const quiet = p.flags.progress === 'quiet';
  return {
    report(kind, name, status) {
      if (!quiet) ctx.err.write(` ${kind} ${name}  ${status}\n`);
    },
    warn(text) {
      ctx.err.write(`WARN[0000] ${text}\n`);
    },
    build: (project, svc, tag) => buildService(ctx, project, svc, tag, quiet),
    pull: (ref) => pullImage(ctx, ref),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

export function runnerFor(ctx: Context, project: Project, p: Parsed): Runner {
  return new Runner(ctx.client(), project, progressHooks(ctx, p));
}

// Runs a compose action; a compose error ends the command with its message.
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ComposeError) throw new StatusError(1, e.message);
    throw e;
  }
}

async function pullImage(ctx: Context, ref: string): Promise<void> {
  const { parseNormalizedNamed, fullName } = await import('../../../oci/reference');
  const { registryAuthHeader } = await import('../registry/auth');
  const r = parseNormalizedNamed(ref);
  const res = await ctx.client().request('POST', '/images/create', {
    query: { fromImage: fullName(r), tag: r.digest || r.tag || 'latest' },
    headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, r.domain) },
  });
  let error: string | undefined;
  for await (const line of createInterface({ input: res.body, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line);
      if (m.error || m.errorDetail) error = m.errorDetail?.message ?? m.error;
    } catch {
      // not JSON
    }
  }
  if (error) throw new StatusError(1, error);
}

// The build of one service through POST /build, its output on stderr.
export async function buildService(ctx: Context, project: Project, svc: Service, tag: string, quiet: boolean, opts: { noCache?: boolean; pull?: boolean } = {}): Promise<void> {
  const b = svc.build!;
  const { packDir } = await import('../image/build');
  let dockerfile = b.dockerfile ?? '';
  let extra: { name: string; data: Buffer } | undefined;
  if (b.dockerfile_inline !== undefined) {
    dockerfile = '.dockerfile.inline';
    extra = { name: dockerfile, data: Buffer.from(b.dockerfile_inline) };
  } else if (dockerfile) {
    const abs = path.resolve(b.context, dockerfile);
    const rel = path.relative(b.context, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      extra = { name: '.dockerfile.outside', data: fs.readFileSync(abs) };
      dockerfile = extra.name;
    } else dockerfile = rel.split(path.sep).join('/');
  }
  if (!fs.existsSync(b.context)) throw new StatusError(1, `unable to prepare context: path "${b.context}" not found`);
  const body = packDir(b.context, new Set([dockerfile || 'Dockerfile', '.dockerignore']), extra);
  const buildArgs: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) buildArgs[k] = v;
  const query: Record<string, string | string[]> = {
    t: [tag, ...(b.tags ?? [])],
    rm: '1',
    forcerm: '0',
    nocache: opts.noCache || b.no_cache ? '1' : '0',
    pull: opts.pull || b.pull ? '1' : '0',
    q: '0',
    buildargs: JSON.stringify(buildArgs),
    labels: JSON.stringify(b.labels ?? {}),
    networkmode: b.network ?? 'default',
  };
  if (dockerfile) query.dockerfile = dockerfile;
  if (b.target) query.target = b.target;
  if (b.extra_hosts) query.extrahosts = Object.entries(b.extra_hosts).map(([h, ip]) => `${h}:${ip}`);
  if (!quiet) ctx.err.write(` Service ${svc.name}  Building\n`);
  const res = await ctx.client().request('POST', '/build', { query, body, headers: { 'Content-Type': 'application/x-tar' } });
  let error: string | undefined;
  for await (const line of createInterface({ input: res.body, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let m: { stream?: string; error?: string; errorDetail?: { message: string } };
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m.error || m.errorDetail) error = m.errorDetail?.message ?? m.error;
    else if (m.stream && !quiet) ctx.err.write(m.stream.split('\n').map((l, i, a) => (i === a.length - 1 && l === '' ? '' : `#${svc.name} ${l}\n`)).join(''));
  }
  if (error) throw new StatusError(1, `failed to solve: ${error}`);
  if (!quiet) ctx.err.write(` Service ${svc.name}  Built\n`);
}

export function useColor(ctx: Context, p: Parsed, noColor = false): boolean {
  if (noColor || p.flags.ansi === 'never' || ctx.env.NO_COLOR) return false;
  if (p.flags.ansi === 'always') return true;
  return isTTY(ctx.out);
}
