// Demultiplexes Docker's stdcopy framing: an 8-byte header [stream, 0, 0, 0,
// uint32 BE size] then `size` bytes of payload. Used for logs and non-TTY attach.
import type { Readable, Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export interface Frame {
  stream: number;
  data: Buffer;
}

// Incremental parser. A payload split across chunks comes out as several
// frames of the same stream, so nothing larger than a header is buffered.
export class StdcopyParser {
  private header = Buffer.alloc(8);
  private headerLen = 0;
  private stream = 0;
  private remaining = 0;

  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining === 0) {
        const n = Math.min(8 - this.headerLen, chunk.length - pos);
        chunk.copy(this.header, this.headerLen, pos, pos + n);
        this.headerLen += n;
        pos += n;
        if (this.headerLen < 8) break;
        this.headerLen = 0;
        this.stream = this.header[0];
        if (this.stream > SYSTEMERR) throw new Error(`Unrecognized input header: ${this.stream}`);
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - pos);
      out.push({ stream: this.stream, data: chunk.subarray(pos, pos + n) });
      this.remaining -= n;
      pos += n;
    }
    return out;
  }

  // True when the input so far ended on a frame boundary.
  get idle(): boolean {
    return this.remaining === 0 && this.headerLen === 0;
  }
}

function write(w: Writable, data: Buffer): Promise<void> | undefined {
  if (w.write(data)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      w.off('drain', onDrain);
      w.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    w.once('drain', onDrain);
    w.once('error', done);
  });
}

// Copies a multiplexed stream to stdout/stderr until it ends. A SYSTEMERR frame
// (an error the daemon reports in-band) rejects with its text.
export async function demux(src: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  const parser = new StdcopyParser();
  let sysErr = '';
  for await (const chunk of src) {
    for (const f of parser.push(chunk as Buffer)) {
      if (f.stream === SYSTEMERR) {
        sysErr += f.data.toString();
        continue;
      }
      const p = write(f.stream === STDERR ? stderr : stdout, f.data);
      if (p) await p;
    }
  }
  if (sysErr) throw new Error(sysErr);
}

// Copies an unframed (TTY) stream.
export async function copyRaw(src: Readable, dst: Writable): Promise<void> {
  for await (const chunk of src) {
    const p = write(dst, chunk as Buffer);
    if (p) await p;
  }
}

// Builds one frame; for tests and fakes.
export function frame(stream: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
