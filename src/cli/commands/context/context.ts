// berth context create/ls/use/rm/inspect/show: docker's context commands on
// docker's own store (see ../../context.ts), so one `context use` points
// both CLIs at a daemon.
import { HELP_FLAG, StatusError, type Command, type Context } from '../../command';
import { configDir, loadConfig } from '../../config';
import {
  ContextError, DEFAULT_CONTEXT, DEFAULT_DESCRIPTION, NAME_RE, contextDirOf, defaultContext, defaultHost, listContexts,
  readContext, removeContext, resolveContextName, tlsDirOf, writeContext, type ContextMeta,
} from '../../context';
import { ellipsis } from '../../output/format';
import { formatWrite, headerContext, TABLE_FORMAT } from '../../output/formatter';
import { GoStruct } from '../../output/template';
import { UsageError } from '../../args';

const dirOf = (ctx: Context) => configDir(ctx.env, ctx.configDir);

function currentName(ctx: Context): string {
  return resolveContextName(ctx.globalOpts ?? {}, ctx.env, loadConfig(ctx));
}

function lookup(ctx: Context, name: string): ContextMeta {
  if (name === DEFAULT_CONTEXT) return defaultContext(ctx.env, ctx.globalOpts?.host);
  try {
    return readContext(dirOf(ctx), name);
  } catch (e) {
    if (e instanceof ContextError) throw new StatusError(1, e.message);
    throw e;
  }
}

function checkName(name: string): void {
  if (name === DEFAULT_CONTEXT) throw new StatusError(1, `"default" is a reserved context name`);
  if (!NAME_RE.test(name)) throw new StatusError(1, `context name "${name}" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"`);
}

const DOCKER_ENDPOINT_KEYS = ['from', 'host', 'ca', 'cert', 'key', 'skip-tls-verify'];

// "--docker host=unix:///x,skip-tls-verify=true" as docker parses it.
function dockerEndpoint(ctx: Context, spec: string | undefined, from: ContextMeta | undefined): { Host: string; SkipTLSVerify: boolean } {
  if (spec === undefined) {
    const src = from ?? lookup(ctx, currentName(ctx));
    const d = src.Endpoints.docker;
    return { Host: d?.Host ?? defaultHost(ctx.env), SkipTLSVerify: d?.SkipTLSVerify ?? false };
  }
  const kv: Record<string, string> = {};
  for (const part of spec.split(',').filter((x) => x !== '')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!DOCKER_ENDPOINT_KEYS.includes(k)) throw new StatusError(1, `unable to create docker endpoint config: unrecognized config key: ${k}`);
    kv[k] = eq < 0 ? '' : part.slice(eq + 1);
  }
  // Contexts with TLS material need files berth's client does not use: refused by name.
  for (const k of ['ca', 'cert', 'key']) if (kv[k]) throw new StatusError(1, `unable to create docker endpoint config: ${k} is not supported by berth (its client speaks no TLS)`);
  if (kv.from) {
    const d = lookup(ctx, kv.from).Endpoints.docker;
    return { Host: d?.Host ?? '', SkipTLSVerify: d?.SkipTLSVerify ?? false };
  }
  let host = kv.host ?? '';
  if (!host) host = defaultHost({}, undefined);
  const skip = kv['skip-tls-verify'];
  if (skip !== undefined && !['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'].includes(skip)) {
    throw new StatusError(1, `unable to create docker endpoint config: name: skip-tls-verify: strconv.ParseBool: parsing "${skip}": invalid syntax`);
  }
  return { Host: host, SkipTLSVerify: skip !== undefined && /^(1|t|true)$/i.test(skip) };
}

export const contextCreateCommand: Command = {
  name: 'create',
  usage: '[OPTIONS] CONTEXT',
  summary: 'Create a context',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'description', type: 'string', desc: 'Description of the context' },
    { name: 'docker', type: 'string', meta: 'stringToString', desc: 'set the docker endpoint (default [])' },
    { name: 'from', type: 'string', desc: 'create context from a named context' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const name = p.args[0];
    checkName(name);
    const dir = dirOf(ctx);
    if (listContexts(dir).some((c) => c.Name === name)) throw new StatusError(1, `context "${name}" already exists`);
    const from = p.flags.from ? lookup(ctx, p.flags.from) : undefined;
    const docker = dockerEndpoint(ctx, p.flags.docker, from);
    // Without --docker the endpoint (and description) come from --from or the current context.
    const source = p.flags.docker === undefined ? from ?? lookup(ctx, currentName(ctx)) : undefined;
    const description = p.flags.description ?? (source ? (source.Name === DEFAULT_CONTEXT ? DEFAULT_DESCRIPTION : source.Metadata.Description) : undefined);
    writeContext(dir, { Name: name, Metadata: description ? { Description: description } : {}, Endpoints: { docker } });
    ctx.out.write(`${name}\n`);
    ctx.err.write(`Successfully created context "${name}"\n`);
  },
};

// docker's, naming BERTH_HOST when that is what overrides.
function hostWarning(env: NodeJS.ProcessEnv): string {
  const v = env.BERTH_HOST ? 'BERTH_HOST' : env.DOCKER_HOST ? 'DOCKER_HOST' : '';
  return v ? `Warning: ${v} environment variable overrides the active context. To use a context, either set the global --context flag, or unset ${v} environment variable.\n` : '';
}

export const contextUseCommand: Command = {
  name: 'use',
  usage: 'CONTEXT',
  summary: 'Set the current docker context',
  minArgs: 1,
  maxArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const name = p.args[0];
    if (name !== DEFAULT_CONTEXT) lookup(ctx, name);
    const cfg = loadConfig(ctx);
    if (name === DEFAULT_CONTEXT) delete cfg.data.currentContext;
    else cfg.data.currentContext = name;
    cfg.data.auths ??= {};
    cfg.save();
    ctx.out.write(`${name}\n`);
    if (name !== DEFAULT_CONTEXT) ctx.err.write(hostWarning(ctx.env));
    ctx.err.write(`Current context is now "${name}"\n`);
  },
};

export const contextShowCommand: Command = {
  name: 'show',
  usage: '',
  summary: 'Print the name of the current context',
  maxArgs: 0,
  flags: [HELP_FLAG],
  async run(ctx) {
    ctx.out.write(`${currentName(ctx)}\n`);
  },
};

export const contextRmCommand: Command = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'CONTEXT [CONTEXT...]',
  summary: 'Remove one or more contexts',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of a context in use' }, HELP_FLAG],
  async run(ctx, p) {
    const dir = dirOf(ctx);
    const cfg = loadConfig(ctx);
    const current = cfg.stringField('currentContext');
    const errs: string[] = [];
    for (const name of p.args) {
      if (name === DEFAULT_CONTEXT) {
        errs.push(`default: context "default" cannot be removed`);
        continue;
      }
      if (!listContexts(dir).some((c) => c.Name === name)) {
        errs.push(`context "${name}" does not exist`);
        continue;
      }
      if (name === current && !p.flags.force) {
        errs.push(`context "${name}" is in use, set -f flag to force remove`);
        continue;
      }
      if (name === current) {
        delete cfg.data.currentContext;
        cfg.data.auths ??= {};
        cfg.save();
      }
      removeContext(dir, name);
      ctx.out.write(`${name}\n`);
    }
    if (errs.length) throw new StatusError(1, errs.join('\n'));
  },
};

export const contextInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] [CONTEXT] [CONTEXT...]',
  summary: 'Display detailed information on one or more contexts',
  flags: [{ name: 'format', short: 'f', type: 'string', desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }, HELP_FLAG],
  async run(ctx, p) {
    const dir = dirOf(ctx);
    const names = p.args.length ? p.args : [currentName(ctx)];
    const out: unknown[] = [];
    const errs: string[] = [];
    for (const name of names) {
      let m: ContextMeta;
      try {
        m = lookup(ctx, name);
      } catch (e) {
        errs.push((e as Error).message);
        continue;
      }
      const mem = name === DEFAULT_CONTEXT;
      out.push({
        Name: m.Name,
        Metadata: m.Metadata,
        Endpoints: m.Endpoints,
        TLSMaterial: {},
        Storage: { MetadataPath: mem ? '<IN MEMORY>' : contextDirOf(dir, name), TLSPath: mem ? '<IN MEMORY>' : tlsDirOf(dir, name) },
      });
    }
    if (p.flags.format) {
      const { renderTemplate } = await import('../../output/jsonfmt');
      const tmpl = p.flags.format === 'json' ? '{{json .}}' : p.flags.format;
      for (const o of out) ctx.out.write(renderTemplate(tmpl, o) + '\n');
    } else {
      // As docker's inspect: what was found (maybe "[]"), then the errors.
      ctx.out.write(goIndent(out) + '\n');
    }
    if (errs.length) throw new StatusError(1, errs.join('\n'));
  },
};

// json.MarshalIndent(v, "", "    ") with Go's HTML escaping.
function goIndent(v: unknown): string {
  return JSON.stringify(v, null, 4).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const CONTEXT_HEADER = { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR' };

export const contextLsCommand: Command = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  summary: 'List contexts',
  maxArgs: 0,
  flags: [
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    HELP_FLAG,
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only show context names' },
  ],
  async run(ctx, p) {
    const dir = dirOf(ctx);
    const current = currentName(ctx);
    const rows: { Name: string; Current: boolean; Description: string; DockerEndpoint: string; Error: string }[] = [];
    const def = defaultContext(ctx.env, ctx.globalOpts?.host);
    rows.push({ Name: DEFAULT_CONTEXT, Current: current === DEFAULT_CONTEXT, Description: DEFAULT_DESCRIPTION, DockerEndpoint: def.Endpoints.docker!.Host, Error: '' });
    for (const m of listContexts(dir)) {
      rows.push({ Name: m.Name, Current: m.Name === current, Description: m.Metadata.Description ?? '', DockerEndpoint: m.Endpoints.docker?.Host ?? '', Error: '' });
    }
    // The current context may not exist: docker lists it with its error.
    if (!rows.some((r) => r.Current)) {
      let error = '';
      try {
        readContext(dir, current);
      } catch (e) {
        error = (e as Error).message;
      }
      rows.push({ Name: current, Current: true, Description: '', DockerEndpoint: '', Error: error });
    }
    rows.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    ctx.out.write(listOutput(rows, p.flags.quiet, p.flags.format ?? TABLE_FORMAT));
    ctx.err.write(hostWarning(ctx.env));
  },
};

function listOutput(rows: { Name: string; Current: boolean; Description: string; DockerEndpoint: string; Error: string }[], quiet: boolean, format: string): string {
  if (quiet) return rows.map((r) => `${r.Name}\n`).join('');
  if (format === 'json') {
    // docker prints each row as a JSON object, keys sorted.
    return rows.map((r) => JSON.stringify({ Current: r.Current, Description: r.Description, DockerEndpoint: r.DockerEndpoint, Error: r.Error, Name: r.Name }) + '\n').join('');
  }
  const fmt = format === TABLE_FORMAT ? 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}' : format;
  const ctxs = rows.map((r) => new GoStruct('*formatter.clientContextContext', {
    Name: () => r.Name,
    Current: () => r.Current,
    Description: () => r.Description,
    DockerEndpoint: () => r.DockerEndpoint,
    Error: () => (format === TABLE_FORMAT ? ellipsis(r.Error, 45) : r.Error),
  }));
  try {
    return formatWrite(fmt, headerContext(CONTEXT_HEADER), ctxs);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new StatusError(1, (e as Error).message);
  }
}
