// Integrity on the way in: a blob stream that stops at size+1 bytes and
// checks the digest at its end, and a capped reader for manifests.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { RegistryError, integrityError } from './errors';
import { digestAlgorithm } from './manifest';

export class VerifyingStream extends Transform {
  private hash: Hash;
  private seen = 0;
  constructor(
    private expectDigest: string,
    private expectSize: number,
    private what: string,
  ) {
    super();
    this.hash = createHash(digestAlgorithm(expectDigest));
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expectSize) {
      cb(integrityError('ERR_REGISTRY_SIZE_EXCEEDED', `${this.what}: more data than the expected ${this.expectSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  _flush(cb: TransformCallback): void {
    if (this.seen < this.expectSize) {
      cb(integrityError('ERR_REGISTRY_SHORT_READ', `${this.what}: got ${this.seen} of ${this.expectSize} bytes`));
      return;
    }
    const got = `${this.expectDigest.split(':', 1)[0]}:${this.hash.digest('hex')}`;
    if (got !== this.expectDigest) {
      cb(integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${this.what}: digest mismatch: got ${got}, want ${this.expectDigest}`));
      return;
    }
    cb();
  }
}

// Pipes a response body through a verifier; the body is destroyed (no more
// reading) as soon as the verifier fails or the consumer gives up.
export function verified(body: Readable, digest: string, size: number, what: string): Readable {
  const v = new VerifyingStream(digest, size, what);
  body.on('error', (err) => {
    const e = err instanceof RegistryError ? err : new RegistryError('Unavailable', 'ERR_REGISTRY_UNREACHABLE', `${what}: ${err.message}`, { cause: err });
    v.destroy(e);
  });
  body.pipe(v);
  v.on('close', () => {
    if (!body.destroyed) body.destroy();
  });
  return v;
}

// Reads a whole body of at most `limit` bytes; reading stops at limit+1.
export async function readCapped(body: Readable, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      n += b.length;
      if (n > limit) throw integrityError('ERR_REGISTRY_SIZE_EXCEEDED', `${what}: larger than the ${limit} byte limit`);
      parts.push(b);
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw new RegistryError('Unavailable', 'ERR_REGISTRY_UNREACHABLE', `${what}: ${(err as Error).message}`, { cause: err });
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts);
}
