// berth wait, and the streaming wait run and start -a use.
import type { Client, Response } from '../../../client/client';
import { readAll } from '../../../client/client';
import type { ContainerWaitResponse } from '../../../api/types';
import { errorText, forEachName, HELP_FLAG, type Command, type Context } from '../../command';

export const waitCommand: Command = {
  name: 'wait',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    await forEachName(ctx, p.args, async (n) => {
      const r = await ctx.client().json<ContainerWaitResponse>('POST', `/containers/${encodeURIComponent(n)}/wait`);
      if (r.Error?.Message) throw new Error(r.Error.Message);
      return String(r.StatusCode);
    });
  },
};

// Sends the wait request and returns once its headers arrive, so the daemon
// is already waiting when we start the container. `status` resolves at exit
// (wrapped in an object: an async function would otherwise wait for it).
export async function waitStatus(ctx: Context, client: Client, id: string, condition: string): Promise<{ status: Promise<number> }> {
  let res: Response;
  try {
    res = await client.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
  } catch (err) {
    ctx.err.write(`berth: error waiting for container: ${errorText(err)}\n`);
    return { status: Promise.resolve(125) };
  }
  const status = readAll(res.body).then(
    (b) => {
      const r = JSON.parse(b.toString('utf8')) as ContainerWaitResponse;
      if (r.Error?.Message) {
        ctx.err.write(`berth: error waiting for container: ${r.Error.Message}\n`);
        return 125;
      }
      return r.StatusCode;
    },
    (err) => {
      ctx.err.write(`berth: error waiting for container: ${errorText(err)}\n`);
      return 125;
    },
  );
  return { status };
}
