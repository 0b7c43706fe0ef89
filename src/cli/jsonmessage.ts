// Prints a daemon JSON message stream (import, pull, load) the way docker
// does when stdout is not a terminal: status lines, no progress bars.
import type { Readable, Writable } from 'node:stream';
import type { JSONMessage } from '../client/types';

export class JSONMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JSONMessageError';
  }
}

export function displayMessage(m: JSONMessage, out: Writable): void {
  if (m.errorDetail?.message || m.error) throw new JSONMessageError(m.errorDetail?.message || m.error || '');
  if (m.progressDetail && (m.progressDetail.current || m.progressDetail.total)) return;
  if (m.progress) return;
  let line = m.id ? `${m.id}: ` : '';
  if (m.stream !== undefined && m.stream !== '') {
    out.write(line + m.stream);
    return;
  }
  if (m.status === undefined) return;
  line += m.status;
  out.write(`${line}\n`);
}

// Reads newline-delimited (or concatenated) JSON objects until the stream ends.
export async function displayStream(src: Readable, out: Writable, onMessage?: (m: JSONMessage) => void): Promise<void> {
  let buf = '';
  const flush = (final: boolean) => {
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) handle(line);
    }
    if (final && buf.trim()) handle(buf.trim());
  };
  const handle = (line: string) => {
    let m: JSONMessage;
    try {
      m = JSON.parse(line);
    } catch {
      throw new JSONMessageError(`invalid JSON in progress stream: ${line.slice(0, 200)}`);
    }
    onMessage?.(m);
    displayMessage(m, out);
  };
  src.setEncoding('utf8');
  for await (const chunk of src) {
    buf += chunk;
    flush(false);
  }
  flush(true);
}
