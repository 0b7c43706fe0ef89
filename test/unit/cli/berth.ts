// Runs the berth CLI in-process against a daemon socket and collects what it prints.
import { PassThrough, Writable, type Readable } from 'node:stream';
import { runCli } from '../../../src/cli/cli';

export interface Result {
  code: number;
  out: string;
  err: string;
}

// A stream that keeps what is written, as text.
export function collector(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

export async function berth(host: string, args: string[], opts: { stdin?: Readable; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  const out = collector();
  const err = collector();
  const code = await runCli(args, { out, err, in: opts.stdin ?? new PassThrough(), env: { BERTH_HOST: host, ...opts.env } });
  return { code, out: out.text(), err: err.text() };
}
