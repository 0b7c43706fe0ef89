// berth create, and the create request run makes too.
import type { ContainerCreateResponse } from '../../../api/types';
import { errorText, StatusError, type Command, type Context } from '../../command';
import { buildConfig, CONTAINER_FLAGS, type ContainerConfig } from './options';

// docker's reportError for run/create: "docker: <err>" plus a hint to --help.
export function runError(cmd: string, err: unknown, status = 125): StatusError {
  return new StatusError(status, `berth: ${errorText(err)}\n\nRun 'berth ${cmd} --help' for more information`);
}

export async function createContainer(ctx: Context, config: ContainerConfig, name: string | undefined): Promise<string> {
  const res = await ctx.client().json<ContainerCreateResponse>('POST', '/containers/create', {
    query: { name: name || undefined },
    body: config,
  });
  for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
  return res.Id;
}

export const createCommand: Command = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  interspersed: false,
  minArgs: 1,
  flags: CONTAINER_FLAGS,
  async run(ctx, p) {
    let config: ContainerConfig;
    try {
      config = buildConfig(p, ctx.env, { detach: false });
    } catch (err) {
      throw runError('create', err);
    }
    let id: string;
    try {
      id = await createContainer(ctx, config, p.flags.name);
    } catch (err) {
      throw runError('create', err);
    }
    ctx.out.write(`${id}\n`);
    return 0;
  },
};
