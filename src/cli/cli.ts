// Command table, global flags, help, and docker's exit statuses:
// 125 for bad usage, 1 for errors, the container's status for run/start -a.
import type { Readable, Writable } from 'node:stream';
import { Client } from '../client/client';
import { ConfigFile, configDir } from './config';
import { ContextError, resolveHost } from './context';
import { flagsHelp, parseArgs, refuseUnsupported, UsageError } from './args';
import { errorText, StatusError, type Command, type Context } from './command';
import { GROUPS, notImplemented, TOP, type CommandRef, type Group } from './commands';
import { GLOBAL_FLAGS } from './globals';
import { COMPOSE_FLAGS, hoistComposeFlags } from './commands/compose/flags';
import pkg from '../../package.json';

export { GLOBAL_FLAGS };

export interface IO {
  out: Writable;
  err: Writable;
  in: Readable;
  env: NodeJS.ProcessEnv;
}

// Help lists every command's summary, so it loads them all.
async function topHelp(): Promise<string> {
  const w = 11;
  const cmds = (await Promise.all(TOP.map((r) => r.load()))).map((c) => `  ${c.name.padEnd(w)} ${c.summary}`).join('\n');
  const groups = Object.entries(GROUPS).map(([n, g]) => `  ${n.padEnd(w)} ${g.summary}`).join('\n');
  return `
Usage:  berth [OPTIONS] COMMAND

A container engine that speaks the Docker Engine API

Commands:
${cmds}

Management Commands:
${groups}

Global Options:
${flagsHelp(GLOBAL_FLAGS)}

Run 'berth COMMAND --help' for more information on a command.
`;
}

async function groupHelp(name: string, g: Group): Promise<string> {
  const seen = new Set<CommandRef>();
  const rows: string[] = [];
  for (const [n, r] of Object.entries(g.commands)) {
    if (seen.has(r)) continue;
    seen.add(r);
    rows.push(`  ${n.padEnd(11)} ${(await r.load()).summary}`);
  }
  return `
Usage:  berth ${name} COMMAND

${g.summary}

Commands:
${rows.sort().join('\n')}
${name === 'compose' ? `\nOptions:\n${flagsHelp(COMPOSE_FLAGS)}\n` : ''}
Run 'berth ${name} COMMAND --help' for more information on a command.
`;
}

function commandHelp(path: string, c: Command): string {
  return `
Usage:  ${path} ${c.usage}

${c.summary}

Options:
${flagsHelp(c.flags)}
`;
}

function argCountError(path: string, c: Command, n: number): string | undefined {
  const min = c.minArgs ?? 0;
  const max = c.maxArgs ?? Infinity;
  if (n >= min && n <= max) return undefined;
  const plural = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  let what: string;
  let hint = 'Run';
  if (max === 0) what = 'accepts no arguments';
  else if (min === max) what = `requires ${plural(min)}`;
  else if (max === Infinity) {
    what = `requires at least ${plural(min)}`;
    hint = 'See';
  } else what = `requires at least ${min} and at most ${plural(max)}`;
  return `berth: '${path}' ${what}\n\nUsage:  ${path} ${c.usage}\n\n${hint} '${path} --help' for more information`;
}

export async function runCli(argv: string[], io: IO): Promise<number> {
  const { err, out } = io;
  let g;
  try {
    g = parseArgs(argv, GLOBAL_FLAGS, { interspersed: false });
    refuseUnsupported(g, GLOBAL_FLAGS);
    if (g.flags.host.length > 1) throw new UsageError('Specify only one -H');
  } catch (e) {
    err.write(`${errorText(e)}\n\nRun 'berth --help' for more information\n`);
    return 125;
  }
  if (g.flags.host.length && g.flags.context) {
    err.write('conflicting options: cannot specify both --host and --context\n');
    return 1;
  }
  if (g.flags.version) {
    out.write(`berth version ${pkg.version}, API ${'1.51'}\n`);
    return 0;
  }
  const [name, ...given] = g.args;
  // docker compose takes its project flags before the subcommand.
  const rest = name === 'compose' ? hoistComposeFlags(given) : given;
  if (!name || name === 'help') {
    out.write(await topHelp());
    return 0;
  }

  let cmd: Command | undefined;
  let path = `berth ${name}`;
  let args = rest;
  const group = GROUPS[name];
  const missing = (group ? !group.commands[rest[0]] : !TOP.some((c) => c.name === name)) && notImplemented(name, rest[0]);
  if (missing) {
    err.write(`berth: '${missing}' is not implemented yet\n`);
    return 1;
  }
  if (group) {
    const sub = rest[0];
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
      out.write(await groupHelp(name, group));
      return 0;
    }
    cmd = await group.commands[sub]?.load();
    if (!cmd) {
      err.write(`berth: unknown command: berth ${name} ${sub}\n\nUsage:  berth ${name}\n\nRun 'berth ${name} --help' for more information\n`);
      return 1;
    }
    path = `berth ${name} ${sub}`;
    args = rest.slice(1);
  } else {
    cmd = await TOP.find((c) => c.name === name)?.load();
    if (!cmd) {
      err.write(`berth: unknown command: berth ${name}\n\nRun 'berth --help' for more information\n`);
      return 1;
    }
  }

  const usageHint = `\n\nUsage:  ${path} ${cmd.usage}\n\nRun '${path} --help' for more information\n`;
  let p;
  try {
    p = parseArgs(args, cmd.flags, { interspersed: cmd.interspersed ?? true });
  } catch (e) {
    err.write(`${errorText(e)}${usageHint}`);
    return 125;
  }
  if (p.flags.help) {
    out.write(commandHelp(path, cmd));
    return 0;
  }
  try {
    refuseUnsupported(p, cmd.flags);
  } catch (e) {
    err.write(`${errorText(e)}${usageHint}`);
    return 125;
  }
  const countErr = argCountError(path, cmd, p.args.length);
  if (countErr) {
    err.write(`${countErr}\n`);
    return 1;
  }

  let client: Client | undefined;
  let endpoint: { name: string; host: string } | undefined;
  const cfgDir = configDir(io.env, g.flags.config || undefined);
  const resolve = () => {
    if (endpoint) return endpoint;
    let cfg: ConfigFile;
    try {
      cfg = ConfigFile.load(cfgDir);
    } catch {
      cfg = ConfigFile.empty(cfgDir);
    }
    try {
      endpoint = resolveHost({ context: g.flags.context || undefined, host: g.flags.host[0] }, io.env, cfgDir, cfg);
    } catch (e) {
      if (e instanceof ContextError) throw new Error(`Failed to initialize: unable to resolve docker endpoint: ${e.message}`);
      throw e;
    }
    return endpoint;
  };
  const ctx: Context = {
    client() {
      client ??= new Client(resolve().host);
      return client;
    },
    contextName: () => resolve().name,
    commandTable: { top: TOP, groups: GROUPS },
    globalOpts: { context: g.flags.context || undefined, host: g.flags.host[0] },
    out,
    err,
    // A getter: process.stdin is made on first use, and most commands never touch it.
    get in() {
      return io.in;
    },
    env: io.env,
    configDir: g.flags.config || undefined,
  };
  try {
    const status = await cmd.run(ctx, p);
    return status ?? 0;
  } catch (e) {
    if (e instanceof StatusError) {
      if (e.message) err.write(`${e.message}\n`);
      return e.status;
    }
    if (e instanceof UsageError) {
      err.write(`${e.message}${usageHint}`);
      return 125;
    }
    if (g.flags.debug && e instanceof Error && e.stack) err.write(`${e.stack}\n`);
    err.write(`${errorText(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
