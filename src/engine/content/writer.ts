// Writes a stream's chunks to a file in order without making the stream wait
// for each write: up to WRITE_AHEAD bytes may be queued, so a chunk can go on
// (to the layer helper) while the disk catches up. Every SYNC_EVERY bytes it
// starts an fdatasync in the background: the disk works while the stream
// flows, and the sync that makes the file durable has little left to do.
import * as fs from 'node:fs';

const WRITE_AHEAD = 8 << 20;
const SYNC_EVERY = 16 << 20;

export class QueuedWriter {
  private writes: Promise<void> = Promise.resolve();
  private queued = 0;
  private written = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  constructor(readonly fd: number) {}

  // Resolves at once unless too much is queued; a failed write rejects this
  // or a later call, and flush().
  write(chunk: Buffer): Promise<void> {
    this.queued += chunk.length;
    this.writes = this.writes.then(async () => {
      for (let off = 0; off < chunk.length; ) off += await writeAt(this.fd, chunk, off);
      this.queued -= chunk.length;
      this.written += chunk.length;
      if (this.written - this.syncedAt >= SYNC_EVERY && !this.syncing) this.startSync();
    });
    this.writes.catch(() => {}); // heard by the next write over the limit, or by flush
    return this.queued > WRITE_AHEAD ? this.writes : Promise.resolve();
  }

  // Waits for every queued write and background sync.
  async flush(): Promise<void> {
    await this.writes;
    await this.syncing;
    if (this.syncError) throw this.syncError;
  }

  // flush, then fdatasync: the file's data is on disk.
  async datasync(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  private startSync(): void {
    this.syncedAt = this.written;
    this.syncing = new Promise<void>((resolve) =>
      fs.fdatasync(this.fd, (err) => {
        if (err) this.syncError ??= err;
        this.syncing = undefined;
        resolve();
      }),
    );
  }
}

function writeAt(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}
