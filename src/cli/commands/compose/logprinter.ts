// Logs of several containers on one output, each line prefixed with its
// container's service and number ("web-1  | "), coloured per container as
// docker compose does.
import type { Writable } from 'node:stream';
import { StdcopyParser } from '../../../client/stdcopy';
import type { Client } from '../../../client/client';

const COLORS = ['36', '33', '32', '35', '34', '96', '93', '92', '95', '94'];

export class LogPrinter {
  private width = 0;
  private next = 0;
  constructor(readonly out: Writable, readonly color: boolean, readonly prefix = true) {}

  register(names: string[]): void {
    for (const n of names) this.width = Math.max(this.width, n.length);
  }

  // A writer of lines for one container.
  writer(name: string): (chunk: Buffer | string) => void {
    this.register([name]);
    const code = COLORS[this.next++ % COLORS.length];
    let partial = '';
    return (chunk) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.line(name, code, l);
    };
  }

  line(name: string, code: string, text: string): void {
    if (!this.prefix) {
      this.out.write(`${text}\n`);
      return;
    }
    const head = `${name.padEnd(this.width)} | `;
    this.out.write(this.color ? `\x1b[${code}m${head}\x1b[0m${text}\n` : `${head}${text}\n`);
  }
}

// Streams one container's logs through the printer until they end.
export async function streamLogs(client: Client, id: string, tty: boolean, write: (b: Buffer) => void, query: Record<string, unknown>): Promise<void> {
  const res = await client.request('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true, ...query } as Record<string, string | boolean | undefined> });
  if (tty) {
    for await (const c of res.body) write(c as Buffer);
    return;
  }
  const parser = new StdcopyParser();
  for await (const c of res.body) for (const f of parser.push(c as Buffer)) write(f.data);
}
