// Content-addressed blob store. Ingest writes to a temp file, fsyncs, checks
// size and digest, then renames into blobs/sha256/<hex>: a wrong digest or a
// crash mid-write never leaves a visible blob.
//
// Blobs nothing references are swept (sweep); an operation in flight keeps
// the blobs it makes or relies on with a lease (containerd's idea, in
// memory): while any lease is open, every blob committed or looked up with
// has() is added to it, and the sweep spares leased blobs.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, invalidArgument, notFound } from '../../errors';
import { syncDir } from '../../util/fs';
import { KeyedLock } from '../../util/lock';
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
      await this.store.land(digest, () => fsp.rename(this.tmp, this.store.blobPath(digest)));
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

// The blobs one operation in flight has made or relies on; the sweep spares
// them until release().
export class Lease {
  private digests = new Set<string>();

  constructor(private onRelease: (l: Lease) => void) {}

  add(...digests: string[]): void {
    for (const d of digests) this.digests.add(d);
  }

  has(digest: string): boolean {
    return this.digests.has(digest);
  }

  release(): void {
    this.onRelease(this);
  }
}

export class ContentStore {
  readonly blobs: string;
  readonly ingestDir: string;
  private leases = new Set<Lease>();
  // Bumped on every release: a sweep then asks again what is referenced.
  private releases = 0;
  // Landing a blob and sweeping it are serialized per digest.
  private locks = new KeyedLock();

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

  // An operation asking is about to rely on the blob: its lease keeps it.
  async has(digest: string): Promise<boolean> {
    this.claim(digest);
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

  // Moves a fully written file (outside the ingest, e.g. a load's spool)
  // into the store as the blob digest, which the caller has checked: fsync,
  // rename, fsync the dir.
  async adopt(file: string, digest: string): Promise<void> {
    const dest = this.blobPath(digest);
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await this.land(digest, () => fsp.rename(file, dest));
    await syncDir(path.dirname(dest));
  }

  // Until release(), the blobs made or looked up (has) while it is open.
  lease(): Lease {
    const l = new Lease((done) => {
      if (this.leases.delete(done)) this.releases++;
    });
    this.leases.add(l);
    return l;
  }

  isLeased(digest: string): boolean {
    for (const l of this.leases) if (l.has(digest)) return true;
    return false;
  }

  // Deletes every blob that is neither in referenced() nor leased; returns
  // what went. Each blob is checked just before its removal, under its lock
  // (a blob landing now is leased before it lands), and referenced() is
  // asked again after any lease was released, since an operation records
  // its references before it lets go of its lease.
  async sweep(referenced: () => Set<string>): Promise<string[]> {
    const removed: string[] = [];
    let asked = -1;
    let refs = new Set<string>();
    for (const d of await this.list()) {
      await this.locks.run(d, async () => {
        if (asked !== this.releases) {
          refs = referenced();
          asked = this.releases;
        }
        if (refs.has(d) || this.isLeased(d)) return;
        await fsp.rm(this.blobPath(d), { force: true });
        removed.push(d);
      });
    }
    return removed;
  }

  // Called by Ingest.commit and adopt: the blob is leased, then renamed into
  // place under its lock.
  land(digest: string, rename: () => Promise<void>): Promise<void> {
    this.claim(digest);
    return this.locks.run(digest, rename);
  }

  private claim(digest: string): void {
    for (const l of this.leases) l.add(digest);
  }
}
