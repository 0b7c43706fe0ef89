// berth load
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { isTTY, pathError } from '../../io';
import { copyToOut } from '../../output/copy';
import { displayStream, terminalOf } from '../../output/jsonmessage';

export const loadCommand: Command = {
  name: 'load',
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  maxArgs: 0,
  flags: [
    { name: 'input', short: 'i', type: 'string', desc: 'Read from tar archive file, instead of STDIN' },
    // berthd loads every platform in the archive.
    { name: 'platform', type: 'string', desc: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")', unsupported: true },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the load output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    let input: Readable = ctx.in;
    if (!f.input) {
      if (isTTY(ctx.in)) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
    } else {
      let fd: number;
      try {
        fd = fs.openSync(f.input, 'r');
      } catch (e) {
        throw new StatusError(1, pathError('open', f.input, e).message);
      }
      input = fs.createReadStream('', { fd });
    }
    const quiet = f.quiet || !isTTY(ctx.out);
    const res = await ctx.client().request('POST', '/images/load', {
      query: { quiet: quiet ? '1' : '0' },
      body: input,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
      await displayStream(res.body, ctx.out, terminalOf(ctx.out));
    } else {
      await copyToOut(res.body, ctx.out);
    }
    return 0;
  },
};
