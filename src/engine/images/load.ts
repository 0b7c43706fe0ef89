// `docker load`: reads an image archive (layout.ts) as a stream. Every
// regular file is spooled to a private dir under the content ingest dir
// (blobs/sha256/<hex> names are checked against their digest as they
// arrive); nothing is stored until the whole archive has been read and
// checked, and a layer becomes visible only once verified against the
// config's diff_ids.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import { PassThrough, Transform, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { BerthError, invalidArgument } from '../../errors';
import { chainIDOf, chainIDs } from '../../oci/layers';
import { familiarString, parseReference, refString, withDefaultTag, type Reference } from '../../oci/reference';
import type { ContentStore, Ingest } from '../content/store';
import { Hasher, ingestTee, ingestTrack } from '../content/streams';
import { QueuedWriter } from '../content/writer';
import { byteProgress, noProgress, type ProgressSink } from '../events/progress';
import { applyThrough, compressionOf, type LayerTars } from '../layers';
import { createLayerGunzip } from '../registry/decompress';
import type { LayerSnapshotter, ScratchLayer } from '../snapshots/snapshotter';
import { archivePath, blobName, linkTarget, manifestFromOCI, parseDockerManifest, parseImageConfig, type DockerManifestEntry } from './layout';
import type { LayerHolds } from './holds';
import type { ImageStore } from './store';
import type { ImageConfig } from './types';

const MAX_ENTRIES = 100_000; // entries in one archive to load
const MAX_JSON = 64 << 20; // manifest.json, index.json, configs
const MAX_LINK_HOPS = 16;
// Entries at least this big that look like layers are applied as they arrive.
const EARLY_MIN = 1 << 20;

// What tar-stream's extractor yields: an entry's header and its data.
type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

export interface LoadDeps {
  content: ContentStore;
  snapshots: LayerSnapshotter;
  imageStore: ImageStore;
  tars: LayerTars;
  holds: LayerHolds;
}

interface Spooled {
  file: string;
  size: number;
  digest: string; // of the bytes as stored in the archive
  early?: EarlyLayer;
}

// A big entry that looked like a layer (a tar, or gzip) was applied to a
// scratch dir while it arrived, before manifest.json (which comes last) says
// what it is. An overlay layer's tree does not depend on its parent, so the
// scratch can be committed on whatever parent the manifest gives; an entry
// that turns out not to be a layer, or fails, is discarded and, if needed
// after all, applied again from its spooled copy, which reports the error.
interface EarlyLayer {
  scratch: ScratchLayer;
  diffID: string; // digest of the uncompressed tar
  size: number; // of the uncompressed tar
  ingest?: Ingest; // the uncompressed tar, kept when the entry was gzip
  taken?: boolean;
}

export interface LoadResult {
  messages: string[]; // "Loaded image: busybox:latest", …
  images: string[]; // ids, in manifest order
}

// One image of the archive, checked and ready to store.
interface Plan {
  configData: Buffer;
  config: ImageConfig;
  layers: string[];
  tags: Reference[];
}

export class ImageLoader {
  constructor(private d: LoadDeps) {}

  async load(input: Readable, progress: ProgressSink = noProgress): Promise<LoadResult> {
    const spool = path.join(this.d.content.ingestDir, `load-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(spool, { recursive: true });
    const early: EarlyLayer[] = [];
    try {
      let read: { files: Map<string, Spooled>; links: Map<string, string> };
      try {
        read = await this.readArchive(input, spool, early, progress);
      } catch (err) {
        await drain(input);
        throw err;
      }
      return await this.loadSpooled(read.files, read.links);
    } finally {
      for (const e of early) if (!e.taken) await this.dropEarly(e);
      await fsp.rm(spool, { recursive: true, force: true });
    }
  }

  private async dropEarly(e: EarlyLayer): Promise<void> {
    e.taken = true;
    await e.ingest?.abort();
    await this.d.snapshots.discard(e.scratch);
  }

  // Spools a big entry and, when it starts like a tar or a gzip stream,
  // applies it to a scratch dir at the same time (see EarlyLayer).
  private async spoolEarly(entry: AsyncIterable<Buffer>, file: string, early: EarlyLayer[]): Promise<Spooled> {
    const it = entry[Symbol.asyncIterator]();
    const first: Buffer[] = [];
    let got = 0;
    let ended = false;
    try {
      while (got < 512) {
        const n = await it.next();
        if (n.done) {
          ended = true;
          break;
        }
        first.push(n.value);
        got += n.value.length;
      }
    } catch (err) {
      throw invalidArgument(`invalid archive: ${(err as Error)?.message ?? err}`);
    }
    const head = Buffer.concat(first);
    const rest = async function* () {
      yield head;
      if (!ended) for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    };
    const gz = head[0] === 0x1f && head[1] === 0x8b;
    const isTar = head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
    if (ended || (!gz && !isTar)) return spoolEntry(rest(), file);

    const e: EarlyLayer = { scratch: await this.d.snapshots.scratch(), diffID: '', size: 0 };
    early.push(e);
    const feed = new PassThrough();
    // A tar goes to the helper as it is, and the helper writes the spool
    // file (berth-untar --copy-fd), whole even if applying fails. A gzip
    // entry is spooled here, and the helper keeps the uncompressed tar in
    // an ingest: that is the blob the layer needs.
    let stages: Transform[] = [];
    if (gz) {
      e.ingest = this.d.content.ingest();
      stages = [createLayerGunzip(), ingestTrack(e.ingest)];
    }
    const spoolFd = gz ? undefined : fs.openSync(file, 'wx', 0o600);
    let failed = false;
    const applied = applyThrough(this.d.tars, feed, stages, e.scratch.dir, { copyTo: e.ingest?.fd ?? spoolFd }).then(
      () => true,
      () => ((failed = true), false),
    );
    feed.on('error', () => {}); // a failed apply is heard through `applied`
    let sp: Spooled;
    try {
      try {
        sp = await spoolEntry(rest(), file, {
          writtenBy: spoolFd,
          tee: async (chunk) => {
            if (failed || feed.write(chunk)) return;
            await Promise.race([once(feed, 'drain').catch(() => {}), applied]);
          },
        });
      } catch (err) {
        feed.destroy(); // stops the helper
        throw err;
      }
      if (!failed) feed.end();
      const ok = await applied;
      if (spoolFd !== undefined && fs.fstatSync(spoolFd).size !== sp.size) {
        throw new BerthError('Internal', `load: the layer helper's copy of ${file} is incomplete`);
      }
      if (!ok) {
        await this.dropEarly(e);
        return sp;
      }
    } catch (err) {
      await applied;
      await this.dropEarly(e);
      throw err;
    } finally {
      if (spoolFd !== undefined) fs.closeSync(spoolFd);
    }
    e.diffID = e.ingest ? e.ingest.digest() : sp.digest;
    e.size = e.ingest ? e.ingest.written : sp.size;
    sp.early = e;
    return sp;
  }

  // Reads the (possibly gzipped) tar and spools its regular files.
  private async readArchive(input: Readable, spool: string, early: EarlyLayer[], progress: ProgressSink): Promise<{ files: Map<string, Spooled>; links: Map<string, string> }> {
    const head = await peek(input, 6);
    if (head.length === 0) throw invalidArgument('invalid archive: the request body is empty');
    const gz = compressionOf(head) === 'gzip';
    const extract = tar.extract();
    const gunzip = gz ? createLayerGunzip() : undefined;
    const src: Readable = gunzip ? input.pipe(gunzip) : input;
    const onError = (err: Error) => extract.destroy(err);
    src.on('error', onError);
    if (gunzip) input.on('error', onError);
    src.pipe(extract as unknown as NodeJS.WritableStream);
    const detach = () => {
      src.off('error', onError);
      input.off('error', onError);
      // Whatever they say from now on is of no interest, but must be heard.
      src.on('error', () => {});
      input.on('error', () => {});
    };

    const files = new Map<string, Spooled>();
    const links = new Map<string, string>();
    let n = 0;
    const it = (extract as unknown as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<TarEntry>;
        try {
          next = await it.next();
        } catch (err) {
          throw err instanceof BerthError ? err : invalidArgument(`invalid archive: ${(err as Error)?.message ?? err}`);
        }
        if (next.done) break;
        const entry = next.value;
        const h = entry.header;
        if (++n > MAX_ENTRIES) throw invalidArgument(`invalid archive: more than ${MAX_ENTRIES} entries`);
        const name = archivePath(h.name);
        if (h.type === 'file' || h.type === 'contiguous-file') {
          if (name === '') throw invalidArgument(`invalid archive entry ${JSON.stringify(h.name)}`);
          const old = files.get(name);
          if (old) await fsp.rm(old.file, { force: true });
          links.delete(name);
          const file = path.join(spool, String(n));
          const sp = (h.size ?? 0) >= EARLY_MIN ? await this.spoolEarly(counted(entry, name, h.size!, progress), file, early) : await spoolEntry(entry, file);
          const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
          if (m && sp.digest !== `sha256:${m[1]}`) throw invalidArgument(`invalid archive: ${name} does not match its digest (its content has digest ${sp.digest})`);
          files.set(name, sp);
          continue;
        }
        if ((h.type === 'symlink' || h.type === 'link') && name !== '') {
          links.set(name, linkTarget(name, h.linkname ?? '', h.type));
          files.delete(name);
        }
        await discard(entry);
      }
    } catch (err) {
      detach();
      if (gunzip) input.unpipe(gunzip);
      src.unpipe(extract as unknown as NodeJS.WritableStream);
      extract.destroy();
      gunzip?.destroy();
      throw err;
    }
    detach();
    return { files, links };
  }

  private async loadSpooled(files: Map<string, Spooled>, links: Map<string, string>): Promise<LoadResult> {
    const lookup = (p: string): Spooled | undefined => {
      let name = p;
      for (let i = 0; i <= MAX_LINK_HOPS; i++) {
        const f = files.get(name);
        if (f) return f;
        const next = links.get(name);
        if (next === undefined) return undefined;
        name = next;
      }
      throw invalidArgument(`invalid archive: too many links resolving ${p}`);
    };
    const readSmall = async (p: string, what: string): Promise<Buffer> => {
      const f = lookup(p);
      if (!f) throw invalidArgument(`invalid archive: ${what} ${p} not found`);
      if (f.size > MAX_JSON) throw invalidArgument(`invalid archive: ${what} ${p} is too large`);
      return fsp.readFile(f.file);
    };

    // 1. What to load: manifest.json, else an OCI index.
    let manifest: DockerManifestEntry[];
    if (lookup('manifest.json')) {
      manifest = parseDockerManifest(await readSmall('manifest.json', 'manifest'));
    } else if (lookup('index.json')) {
      const entries = await manifestFromOCI(await readSmall('index.json', 'index'), (d) => readSmall(blobName(d), 'blob'));
      manifest = parseDockerManifest(Buffer.from(JSON.stringify(entries)));
    } else {
      throw invalidArgument('invalid archive: it has neither manifest.json nor index.json (is it an image archive made by docker save?)');
    }
    if (manifest.length === 0) throw invalidArgument('invalid archive: manifest.json lists no images');

    // 2. Check everything before storing anything.
    const plans: Plan[] = [];
    for (const m of manifest) {
      const data = await readSmall(m.Config, 'image config');
      const config = parseImageConfig(data, m.Config);
      if (config.rootfs.diff_ids.length !== m.Layers.length) {
        throw invalidArgument(`invalid manifest.json: ${m.Config} has ${config.rootfs.diff_ids.length} layers in its config but ${m.Layers.length} in manifest.json`);
      }
      const tags = (m.RepoTags ?? []).map((t) => {
        const r = parseReference(t);
        if (r.digest) throw invalidArgument(`invalid tag ${JSON.stringify(t)} in manifest.json: a digest cannot be a tag`);
        return withDefaultTag(r);
      });
      plans.push({ configData: data, config, layers: m.Layers, tags });
    }

    // The layers every image stands on, held until the images are recorded:
    // no garbage collection meanwhile takes them.
    const release = this.d.holds.hold(plans.flatMap((p) => chainIDs(p.config.rootfs.diff_ids)));
    try {
      return await this.store(plans, lookup);
    } finally {
      release();
    }
  }

  private async store(plans: Plan[], lookup: (p: string) => Spooled | undefined): Promise<LoadResult> {
    // 3. Layers, bottom-up, each verified against its diffID.
    const createdLayers: string[] = [];
    const createdBlobs: string[] = [];
    try {
      for (const p of plans) {
        let chain: string | undefined;
        for (let i = 0; i < p.layers.length; i++) {
          const diffID = p.config.rootfs.diff_ids[i];
          const parent = chain;
          chain = chainIDOf(parent, diffID);
          if (this.d.snapshots.get(chain)) continue;
          const f = lookup(p.layers[i]);
          if (!f) throw invalidArgument(`invalid archive: layer ${p.layers[i]} not found`);
          const made = await this.applySpooled(f, p.layers[i], parent, diffID);
          if (made.blob) createdBlobs.push(diffID);
          if (made.layer) createdLayers.push(made.layer);
        }
      }
    } catch (err) {
      await this.rollback(createdLayers, createdBlobs);
      throw err;
    }

    // 4. Configs, images, tags.
    const messages: string[] = [];
    const ids: string[] = [];
    for (const p of plans) {
      const digest = await this.d.content.put(p.configData);
      const rec = await this.d.imageStore.add(digest);
      ids.push(rec.id);
      if (p.tags.length === 0) messages.push(`Loaded image ID: ${rec.id}`);
      for (const t of p.tags) {
        const old = this.d.imageStore.tryResolve(refString(t));
        if (old && old.id !== rec.id) messages.push(`The image ${familiarString(t)} already exists, renaming the old one with ID ${old.id} to empty string`);
        await this.d.imageStore.tag(t, rec.id);
        messages.push(`Loaded image: ${familiarString(t)}`);
      }
    }
    return { messages, images: ids };
  }

  // Applies one spooled layer (tar or gzip) to a scratch dir, checks its
  // digest, keeps the uncompressed tar as the diffID blob, and commits it.
  private async applySpooled(f: Spooled, name: string, parent: string | undefined, diffID: string): Promise<{ layer?: string; blob: boolean }> {
    if (f.early && !f.early.taken) {
      const e = f.early;
      if (e.diffID === diffID) return this.commitEarly(e, f, parent, diffID);
      await this.dropEarly(e); // not this layer: the steps below report why
    }
    const gz = compressionOf(await fileHead(f.file)) === 'gzip';
    const mismatch = (got: string) => invalidArgument(`layer ${name} does not match the config: its content has digest ${got}, the config says ${diffID}`);
    // An uncompressed layer was hashed while spooled: check before any work.
    if (!gz && f.digest !== diffID) throw mismatch(f.digest);
    const haveBlob = await this.d.content.has(diffID);
    const s = await this.d.snapshots.scratch();
    let blob = false;
    try {
      const hasher = new Hasher();
      const ingest = gz && !haveBlob ? this.d.content.ingest({ digest: diffID }) : undefined;
      const stages: Transform[] = gz ? [createLayerGunzip(), hasher] : [hasher];
      if (ingest) stages.push(ingestTee(ingest));
      try {
        await applyThrough(this.d.tars, fs.createReadStream(f.file), stages, s.dir);
      } catch (err) {
        await ingest?.abort();
        throw err instanceof BerthError ? err : invalidArgument(`layer ${name}: ${(err as Error)?.message ?? err}`);
      }
      const got = hasher.digest();
      if (got !== diffID) {
        await ingest?.abort();
        throw mismatch(got);
      }
      if (ingest) {
        await ingest.commit();
        blob = true;
      } else if (!haveBlob && !(await this.d.content.has(diffID))) {
        // The spooled file is the uncompressed tar: move it into the store.
        await this.d.content.adopt(f.file, diffID);
        f.file = this.d.content.blobPath(diffID); // another image may stack the same file on another parent
        blob = true;
      }
      const existed = !!this.d.snapshots.get(chainIDOf(parent, diffID));
      const info = await this.d.snapshots.commit(s, parent, diffID, hasher.size);
      return { layer: existed ? undefined : info.chainID, blob };
    } catch (err) {
      await this.d.snapshots.discard(s);
      if (blob) await this.d.content.delete(diffID).catch(() => {});
      throw err;
    }
  }

  // Commits a layer applied while it arrived; its blob is the spooled tar,
  // or the uncompressed tar its ingest kept.
  private async commitEarly(e: EarlyLayer, f: Spooled, parent: string | undefined, diffID: string): Promise<{ layer?: string; blob: boolean }> {
    e.taken = true;
    let blob = false;
    try {
      const haveBlob = await this.d.content.has(diffID);
      if (e.ingest && !haveBlob) {
        await e.ingest.commit();
        blob = true;
      } else if (e.ingest) {
        await e.ingest.abort();
      } else if (!haveBlob) {
        await this.d.content.adopt(f.file, diffID);
        f.file = this.d.content.blobPath(diffID); // another image may stack the same file on another parent
        blob = true;
      }
      const existed = !!this.d.snapshots.get(chainIDOf(parent, diffID));
      const info = await this.d.snapshots.commit(e.scratch, parent, diffID, e.size);
      return { layer: existed ? undefined : info.chainID, blob };
    } catch (err) {
      await e.ingest?.abort();
      await this.d.snapshots.discard(e.scratch);
      if (blob) await this.d.content.delete(diffID).catch(() => {});
      throw err;
    }
  }

  // Removes what a failed load made, unless an image has come to use it.
  private async rollback(layers: string[], blobs: string[]): Promise<void> {
    const used = new Set(this.d.imageStore.list().flatMap((img) => this.d.snapshots.chain(img.chainID)));
    for (const chain of [...layers].reverse()) {
      if (!used.has(chain)) await this.d.snapshots.removeLayer(chain).catch(() => {});
    }
    for (const diffID of blobs) {
      if (!this.d.snapshots.list().some((l) => l.diffID === diffID)) await this.d.content.delete(diffID).catch(() => {});
    }
  }
}

async function fileHead(file: string, n = 6): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

// Reads at least n bytes (or to the end) from a paused stream, then puts them back.
async function peek(input: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const c = input.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      len += c.length;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        input.off('readable', ok);
        input.off('end', ok);
        input.off('close', ok);
        input.off('error', done);
        if (err) reject(invalidArgument(`reading the archive: ${err.message}`));
        else resolve();
      };
      const ok = () => done();
      input.on('readable', ok);
      input.on('end', ok);
      input.on('close', ok);
      input.on('error', done);
    });
  }
  const head = Buffer.concat(chunks);
  if (head.length) input.unshift(head);
  return head;
}

// Consumes and discards the rest of a request body, so the client reads our
// answer instead of a broken pipe.
function drain(input: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (input.readableEnded || input.destroyed) return resolve();
    const done = () => resolve();
    input.once('end', done);
    input.once('close', done);
    input.once('error', done);
    input.on('data', () => {});
    input.resume();
  });
}

// An entry's bytes, reported as "Loading layer" progress every 512 KiB and at
// its end, under the short id its name carries (blobs/sha256/<hex>,
// <id>/layer.tar), else the name.
async function* counted(entry: AsyncIterable<Buffer>, name: string, total: number, progress: ProgressSink): AsyncGenerator<Buffer> {
  const count = byteProgress(progress, /[a-f0-9]{12}/.exec(name)?.[0] ?? name, 'Loading layer', total, 512 * 1024);
  for await (const chunk of entry) {
    count(chunk.length);
    yield chunk;
  }
}

// Spools an entry to file, hashing it; `tee` sees every chunk too. With
// writtenBy (an fd of file, open), another process writes the file and this
// only hashes and tees.
async function spoolEntry(data: AsyncIterable<Buffer>, file: string, opts: { tee?: (chunk: Buffer) => Promise<void>; writtenBy?: number } = {}): Promise<Spooled> {
  const hash = createHash('sha256');
  let size = 0;
  const fd = opts.writtenBy ?? fs.openSync(file, 'wx', 0o600);
  const out = opts.writtenBy === undefined ? new QueuedWriter(fd) : undefined;
  try {
    try {
      for await (const chunk of data) {
        hash.update(chunk);
        size += chunk.length;
        await Promise.all([out?.write(chunk), opts.tee?.(chunk)]);
      }
    } catch (err) {
      throw invalidArgument(`invalid archive: ${(err as Error)?.message ?? err}`);
    }
    await out?.flush(); // a write error here is the disk's, not the archive's
  } finally {
    if (out) {
      await out.flush().catch(() => {});
      fs.closeSync(fd);
    }
  }
  return { file, size, digest: 'sha256:' + hash.digest('hex') };
}

async function discard(entry: TarEntry): Promise<void> {
  try {
    for await (const _ of entry);
  } catch (err) {
    throw invalidArgument(`invalid archive: ${(err as Error)?.message ?? err}`);
  }
}
