// Gzip on all cores: the input is cut into blocks, each compressed as its own
// gzip member on the libuv threadpool (libdeflate, src/host/native/gzip.c),
// and the members are written in order. Concatenated members are one valid
// gzip stream (RFC 1952), which every registry and engine decompresses.
import { Transform, type TransformCallback } from 'node:stream';
import { nativeBuild } from '../../util/paths';

let native: { gzip(buf: Buffer, level: number): Promise<Buffer> } | undefined;
function gzip(buf: Buffer, level: number): Promise<Buffer> {
  native ??= require(nativeBuild('berth_gzip.node'));
  return native!.gzip(buf, level);
}

export const BLOCK_SIZE = 1 << 20;

export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private queue: Promise<Buffer>[] = [];

  constructor(private level = 6, private maxInFlight = 4) {
    super();
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    if (this.pendingSize < BLOCK_SIZE) return cb();
    this.enqueue();
    this.drain(this.maxInFlight).then(() => cb(), cb);
  }

  _flush(cb: TransformCallback): void {
    // An empty input still gives one (empty) gzip member.
    if (this.pendingSize > 0 || this.queue.length === 0) this.enqueue();
    this.drain(0).then(() => cb(), cb);
  }

  private enqueue(): void {
    const block = Buffer.concat(this.pending, this.pendingSize);
    this.pending = [];
    this.pendingSize = 0;
    const p = gzip(block, this.level);
    p.catch(() => {}); // surfaced in order by drain()
    this.queue.push(p);
  }

  // Emits finished members in order until at most `keep` are in flight.
  private async drain(keep: number): Promise<void> {
    while (this.queue.length > keep) {
      this.push(await this.queue.shift()!);
    }
  }
}
