// Content-addressed blob store. Ingest writes to a temp file, fsyncs, checks
// size and digest, then renames into blobs/sha256/<hex>: a wrong digest or a
// crash mid-write never leaves a visible blob.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, invalidArgument, notFound } from '../../errors';
import { syncDir } from '../../util/fs';
import { QueuedWriter } from './writer';

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function digestOf(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export interface Expected {
  digest?: string;
  size?: number;
}

export class Ingest {
  private hash: Hash = createHash('sha256');
  private size = 0;
  readonly fd: number; // the ingest file, open for writing
  private closed = false;
  private sum?: string;
  private out: QueuedWriter;
  private tracked = false;

  constructor(private store: ContentStore, readonly tmp: string, private expected: Expected) {
    this.fd = fs.openSync(tmp, 'w', 0o644);
    this.out = new QueuedWriter(this.fd);
  }

  // Hashes chunk and queues its write (see QueuedWriter); commit() waits
  // for the rest.
  write(chunk: Buffer): Promise<void> {
    try {
      this.account(chunk);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.out.write(chunk);
  }

  // For a file written by another process through fd (the layer helper's
  // copy): hashes and counts chunk without writing it. commit() checks that
  // the file has as many bytes.
  track(chunk: Buffer): void {
    this.account(chunk);
    this.tracked = true;
  }

  // Counts and hashes chunk; past the expected size is the sender's fault.
  private account(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.expected.size !== undefined && this.size > this.expected.size) {
      throw invalidArgument(`blob is larger than the expected ${this.expected.size} bytes`);
    }
    this.hash.update(chunk);
  }

  // Waits until every queued write has reached the file.
  flush(): Promise<void> {
    return this.out.flush();
  }

  // The digest of what was written; call once the stream is complete.
  digest(): string {
    return (this.sum ??= 'sha256:' + this.hash.digest('hex'));
  }

  get written(): number {
    return this.size;
  }

  // Verifies and moves the blob into place; returns its digest and size.
  async commit(): Promise<{ digest: string; size: number }> {
    const digest = this.digest();
    try {
      await this.out.flush();
      if (this.expected.size !== undefined && this.size !== this.expected.size) {
        throw invalidArgument(`blob size ${this.size} does not match the expected ${this.expected.size}`);
      }
      if (this.expected.digest && this.expected.digest !== digest) {
        throw invalidArgument(`blob digest ${digest} does not match the expected ${this.expected.digest}`);
      }
      if (this.tracked && fs.fstatSync(this.fd).size !== this.size) {
        throw new BerthError('Internal', `blob copy has ${fs.fstatSync(this.fd).size} bytes, ${this.size} were sent`);
      }
      await this.out.datasync();
      this.close();
      await fsp.rename(this.tmp, this.store.blobPath(digest));
      await syncDir(path.dirname(this.store.blobPath(digest)));
      return { digest, size: this.size };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    await this.out.flush().catch(() => {});
    this.close();
    await fsp.rm(this.tmp, { force: true });
  }

  private close(): void {
    if (!this.closed) {
      this.closed = true;
      fs.closeSync(this.fd);
    }
  }
}

export class ContentStore {
  readonly blobs: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobs = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobs, { recursive: true });
    // Leftovers of ingests cut short by a crash are never visible; drop them.
    await fsp.rm(this.ingestDir, { recursive: true, force: true });
    await fsp.mkdir(this.ingestDir, { recursive: true });
  }

  blobPath(digest: string): string {
    if (!DIGEST_RE.test(digest)) throw invalidArgument(`invalid digest: ${digest}`);
    return path.join(this.blobs, digest.slice(7));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await fsp.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  ingest(expected: Expected = {}): Ingest {
    return new Ingest(this, path.join(this.ingestDir, randomBytes(8).toString('hex')), expected);
  }

  async put(data: Buffer): Promise<string> {
    const digest = digestOf(data);
    if (await this.has(digest)) return digest;
    const w = this.ingest({ digest, size: data.length });
    await w.write(data);
    await w.commit();
    return digest;
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.blobPath(digest));
    } catch (err: any) {
      if (err.code === 'ENOENT') throw notFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async size(digest: string): Promise<number> {
    return (await fsp.stat(this.blobPath(digest))).size;
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.blobs)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}
