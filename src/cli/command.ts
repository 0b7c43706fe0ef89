// What every command is: its flags, usage line and an async body.
import type { Readable, Writable } from 'node:stream';
import type { Client } from '../client/client';
import { ClientError } from '../client/client';
import type { FlagSpec, Parsed } from './args';

export interface Context {
  client(): Client;
  out: Writable;
  err: Writable;
  in: Readable;
  env: NodeJS.ProcessEnv;
  // --config: where config.json lives (else $DOCKER_CONFIG, else ~/.docker).
  configDir?: string;
  // The context the command talks through (see context.ts).
  contextName?(): string;
  // The command table, for completion and man pages (see cli.ts).
  commandTable?: { top: import('./commands').CommandRef[]; groups: Record<string, import('./commands').Group> };
  // The global --context and -H, for the context commands.
  globalOpts?: { context?: string; host?: string };
}

export interface Command {
  name: string;
  aliases?: string[];
  // After the command path: "[OPTIONS] CONTAINER [CONTAINER...]".
  usage: string;
  summary: string;
  flags: FlagSpec[];
  // false: flags after the first argument belong to it (run, create).
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
  run(ctx: Context, p: Parsed): Promise<number | void>;
}

// Ends the command with an exit status, after printing `message` (if any) on stderr.
export class StatusError extends Error {
  readonly status: number;
  constructor(status: number, message = '') {
    super(message);
    this.name = 'StatusError';
    this.status = status;
  }
}

export const HELP_FLAG: FlagSpec = { name: 'help', type: 'bool', desc: 'Print usage' };

// How the docker CLI shows an error from the API client.
export function errorText(err: unknown): string {
  if (err instanceof ClientError) return `Error response from daemon: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

// Runs `fn` for every name concurrently and reports in argument order, like
// docker's stop/kill/rm: successes print the name, failures are gathered into
// one error (exit status 1).
export async function forEachName(
  ctx: Context,
  names: string[],
  fn: (name: string) => Promise<string | void>,
): Promise<void> {
  const results = names.map((n) => fn(n).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })));
  const errs: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const r = await results[i];
    if (r.ok) ctx.out.write(`${r.v ?? names[i]}\n`);
    else errs.push(errorText(r.e));
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
}
