// Transforms for streams on their way into the content store.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Ingest } from './store';

// Hashes what passes through.
export class Hasher extends Transform {
  private hash = createHash('sha256');
  size = 0;
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return 'sha256:' + this.hash.digest('hex');
  }
}

// Writes what passes through into a content ingest.
export function ingestTee(ingest: Ingest): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      ingest.write(chunk).then(() => cb(null, chunk), cb);
    },
  });
}

// Hashes what passes through into an ingest whose file another process
// writes (Ingest.track).
export function ingestTrack(ingest: Ingest): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        ingest.track(chunk);
      } catch (err) {
        return cb(err as Error);
      }
      cb(null, chunk);
    },
  });
}
