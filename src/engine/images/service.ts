// Image operations behind the API: list, inspect, pull, push, import, load,
// save, history, tag, remove, prune.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { conflict, failedPrecondition, invalidArgument } from '../../errors';
import { applyThrough, compressionOf, type LayerTars } from '../layers';
import type { ContentStore, Lease } from '../content/store';
import { ingestTrack } from '../content/streams';
import { noEvents, type EventPublisher } from '../events/bus';
import { noProgress, type ProgressSink } from '../events/progress';
import { chainIDOf } from '../../oci/layers';
import { hostPlatform } from '../../oci/platform';
import { decompressStream, type RegistryAuth } from '../registry';
import { createLayerGunzip } from '../registry/decompress';
import type { LayerInfo, LayerSnapshotter } from '../snapshots/snapshotter';
import { applyChanges } from './changes';
import { DistributionMetadata } from './distribution';
import { imageHistory, type HistoryItem } from './history';
import { LayerHolds } from './holds';
import { ImageLoader, type LoadResult } from './load';
import { Puller, type Platform } from './pull';
import { Pusher } from './push';
import { familiarName, familiarString, parseReference, refString, withDefaultTag, type Reference } from '../../oci/reference';
import { checkRegistryHost, registryClient, type RegistrySettings } from './registries';
import { ImageSaver } from './save';
import type { ImageStore } from './store';
import type { ImageConfig, ImageRecord, ImageRunConfig } from './types';


export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
}

export interface RemovedItem {
  Untagged?: string;
  Deleted?: string;
}

// zlib's own errors mean a broken archive, which is the client's fault.
function badArchive(err: any): Error {
  if (typeof err?.code === 'string' && err.code.startsWith('Z_')) return invalidArgument(`invalid gzip archive: ${err.message}`);
  return err;
}

// Sniffs the first bytes and undoes gzip; the layer tar itself is what gets hashed.
export async function decompressed(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]();
  let first: Buffer = Buffer.alloc(0);
  const pending: Buffer[] = [];
  while (first.length < 6) {
    const { value, done } = await it.next();
    if (done) break;
    pending.push(value);
    first = Buffer.concat(pending);
  }
  async function* replay() {
    for (const c of pending) yield c;
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      yield value as Buffer;
    }
  }
  const src = Readable.from(replay(), { objectMode: false });
  if (compressionOf(first) === 'gzip') {
    // pipeline() keeps listeners on every stage, so a bad first block cannot
    // surface as an unhandled 'error' before the consumer attaches.
    const out = new PassThrough();
    pipeline(src, createLayerGunzip(), out).catch((err) => out.destroy(badArchive(err)));
    return out;
  }
  return src;
}

// A label filter: "key" (present) or "key=value".
export function hasLabel(labels: Record<string, string>, spec: string): boolean {
  const eq = spec.indexOf('=');
  return eq < 0 ? spec in labels : labels[spec.slice(0, eq)] === spec.slice(eq + 1);
}

export interface ImageServiceDeps {
  store: ImageStore;
  content: ContentStore;
  layers: LayerSnapshotter;
  tars: LayerTars;
  // The containers using an image (rmi and prune spare those images).
  inUse: (id: string) => { id: string; running: boolean }[];
  // The image dir, for distribution.json.
  root: string;
  registries: RegistrySettings;
  // Where pull, push, tag, untag, delete, import, load and save are told.
  events?: EventPublisher;
}

export class ImageService {
  readonly metadata: DistributionMetadata;
  private store: ImageStore;
  private content: ContentStore;
  private layers: LayerSnapshotter;
  private tars: LayerTars;
  private inUse: (id: string) => { id: string; running: boolean }[];
  private registries: RegistrySettings;
  private events: EventPublisher;
  private puller: Puller;
  private pusher: Pusher;
  private holds = new LayerHolds();
  private saver: ImageSaver;
  private loader: ImageLoader;

  constructor(d: ImageServiceDeps) {
    ({ store: this.store, content: this.content, layers: this.layers, tars: this.tars, inUse: this.inUse, registries: this.registries } = d);
    this.events = d.events ?? noEvents;
    this.metadata = new DistributionMetadata(d.root);
    this.puller = new Puller(d.store, d.content, d.layers, d.tars, this.metadata, d.registries, this.holds);
    this.pusher = new Pusher(d.store, d.content, this.metadata, d.registries, (diffID, chainID) => this.layerTar(diffID, chainID), (c) => this.layers.get(c)?.size, this.holds);
    this.saver = new ImageSaver({ content: d.content, imageStore: d.store, layerTar: (diffID, chainID) => this.layerTar(diffID, chainID) });
    this.loader = new ImageLoader({ content: d.content, snapshots: d.layers, imageStore: d.store, tars: d.tars, holds: this.holds });
  }

  async init(): Promise<void> {
    await this.metadata.init();
    // What a crash cut short (layers, blobs) belongs to no image.
    await this.collectGarbage();
  }

  // `docker pull`; with allTags every tag of the repository.
  async pull(name: string, opts: { platform?: Platform; auth?: RegistryAuth; allTags?: boolean; progress: ProgressSink }): Promise<ImageRecord[]> {
    let ref = parseReference(name);
    checkRegistryHost(ref.domain, `invalid reference ${JSON.stringify(name)}`);
    const out: ImageRecord[] = [];
    if (opts.allTags && (ref.tag || ref.digest)) throw invalidArgument('tag can be used only with --all-tags/-a');
    if (!opts.allTags) ref = withDefaultTag(ref);
    await this.leased(async () => {
      if (!opts.allTags) out.push(await this.puller.pull(ref, opts));
      else for (const tag of await this.puller.tags(ref, opts.auth)) out.push(await this.puller.pull({ ...ref, tag }, opts));
    });
    // As dockerd: the reference pulled, and the repository as its name.
    this.publish('pull', familiarString(ref), familiarName(ref), out[out.length - 1]);
    return out;
  }

  async push(name: string, opts: { auth?: RegistryAuth; progress: ProgressSink }): Promise<void> {
    const ref = parseReference(name);
    if (ref.digest) throw invalidArgument('cannot push a digest reference');
    checkRegistryHost(ref.domain, `invalid reference ${JSON.stringify(name)}`);
    await this.leased((lease) => this.pusher.push(ref, { ...opts, lease }));
    this.publish('push', familiarString(ref), familiarName(ref), ref.tag ? this.store.tryResolve(refString(ref)) : undefined);
  }

  // `docker save`: the named images as one tar stream (see ImageSaver.save).
  // Each image is announced once the archive holds all of it.
  async save(names: string[]): Promise<Readable> {
    return this.leased(() => this.saver.save(names, (id) => this.publish('save', id, id, this.store.get(id))));
  }

  // `docker load`.
  async load(input: Readable, progress: ProgressSink = noProgress): Promise<LoadResult> {
    const result = await this.leased(() => this.loader.load(input, progress));
    for (const id of result.images) this.publish('load', id, id, this.store.get(id));
    return result;
  }

  // `docker history`.
  history(name: string): HistoryItem[] {
    const rec = this.store.resolve(name);
    const sizes: number[] = [];
    let chain: string | undefined;
    for (const diffID of rec.config.rootfs?.diff_ids ?? []) {
      chain = chainIDOf(chain, diffID);
      sizes.push(this.layers.get(chain)?.size ?? 0);
    }
    // The local images this one was built on: same first k history
    // entries and the layers they hold.
    const key = (hist: unknown[], layers: string[]) => JSON.stringify([hist, layers]);
    const hist = rec.config.history ?? [];
    const wanted = new Map<string, number>();
    let layers = 0;
    hist.forEach((h, i) => {
      if (!h.empty_layer) layers++;
      if (i < hist.length - 1) wanted.set(key(hist.slice(0, i + 1), (rec.config.rootfs?.diff_ids ?? []).slice(0, layers)), i + 1);
    });
    const found = new Map<number, ImageRecord>();
    for (const img of this.store.list()) {
      const h = img.config.history ?? [];
      if (h.length >= hist.length || h.length === 0) continue;
      const k = wanted.get(key(h, img.config.rootfs?.diff_ids ?? []));
      if (k !== undefined && (!found.has(k) || this.repoTags(img).length)) found.set(k, img);
    }
    return imageHistory(rec.id, rec.config, sizes, this.repoTags(rec), (k) => {
      const img = found.get(k);
      return img && { id: img.id, tags: this.repoTags(img) };
    });
  }

  // `docker login`: checks the credentials against the registry.
  async login(host: string, auth: RegistryAuth): Promise<void> {
    checkRegistryHost(host, `invalid registry address ${JSON.stringify(host)}`);
    await registryClient(host, this.registries, auth).ping();
  }

  // The uncompressed tar of a layer, byte for byte what its diffID names:
  // the stored tar (import, commit, load), else the stored compressed blob
  // (pull) decompressed, else the layer packed again and checked.
  async layerTar(diffID: string, chainID: string): Promise<Readable> {
    if (await this.content.has(diffID)) return fs.createReadStream(this.content.blobPath(diffID));
    for (const s of this.metadata.sources(diffID)) {
      if (await this.content.has(s.digest)) return decompressStream(s.mediaType, fs.createReadStream(this.content.blobPath(s.digest)));
    }
    const packed = this.tars.packLayer(this.layers.diffDir(chainID));
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        const got = 'sha256:' + hash.digest('hex');
        cb(got === diffID ? null : failedPrecondition(`layer ${diffID} is no longer stored as a tar, and packing it again gives ${got}`));
      },
    });
    return packed.pipe(check);
  }

  compressedBlobFor(diffID: string): { digest: string; mediaType: string } | undefined {
    return this.metadata.sources(diffID)[0];
  }

  resolve(name: string): ImageRecord {
    return this.store.resolve(name);
  }

  tryResolve(name: string): ImageRecord | undefined {
    return this.store.tryResolve(name);
  }

  list(): ImageRecord[] {
    return this.store.list();
  }

  // For `docker system df`: the bytes of all stored layers (their tars), and
  // per image the bytes of its layers that another image uses too.
  diskUsage(): { layersSize: number; sharedSize: Map<string, number> } {
    const chains = new Map(this.store.list().map((rec) => [rec.id, this.layers.chain(rec.chainID)]));
    const users = new Map<string, number>();
    for (const chain of chains.values()) for (const c of chain) users.set(c, (users.get(c) ?? 0) + 1);
    const sharedSize = new Map<string, number>();
    for (const [id, chain] of chains) {
      sharedSize.set(id, chain.filter((c) => users.get(c)! > 1).reduce((n, c) => n + (this.layers.get(c)?.size ?? 0), 0));
    }
    return { layersSize: this.layers.list().reduce((n, l) => n + l.size, 0), sharedSize };
  }

  refsOf(id: string): Reference[] {
    return this.store.refsOf(id);
  }

  // `docker import`: one layer from a tar stream, plus a fresh config.
  async import(body: Readable, opts: ImportOptions): Promise<ImageRecord> {
    return this.leased(() => this.importLayer(body, opts));
  }

  private async importLayer(body: Readable, opts: ImportOptions): Promise<ImageRecord> {
    let ref: Reference | undefined;
    if (opts.repo) {
      ref = parseReference(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
      if (ref.digest) throw invalidArgument('cannot import with a digest reference');
    }
    // Checked before reading the upload, so a bad change stores nothing.
    const runConfig = applyChanges({}, opts.changes ?? []);
    const tar = await decompressed(body);
    const scratch = await this.layers.scratch();
    let layer: LayerInfo;
    // The layer is held until the image that names it is recorded.
    let release = () => {};
    try {
      // The helper writes the tar it reads into the ingest's file; the ingest
      // hashes what is sent to it: the diffID.
      const blob = this.content.ingest();
      try {
        await applyThrough(this.tars, tar, [ingestTrack(blob)], scratch.dir, { copyTo: blob.fd });
      } catch (err) {
        await blob.abort();
        throw badArchive(err);
      }
      const diffID = blob.digest();
      const size = blob.written;
      release = this.holds.hold([diffID]);
      if (await this.content.has(diffID)) await blob.abort();
      else await blob.commit();
      layer = await this.layers.commit(scratch, undefined, diffID, size);
    } catch (err) {
      release();
      throw err;
    } finally {
      await this.layers.discard(scratch);
    }
    try {
      return await this.recordImport(layer, runConfig, ref, opts.message);
    } finally {
      release();
    }
  }

  private async recordImport(layer: LayerInfo, runConfig: ImageRunConfig, ref: Reference | undefined, message: string | undefined): Promise<ImageRecord> {
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: hostPlatform().architecture,
      os: 'linux',
      created: now,
      config: runConfig,
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created: now, created_by: '', comment: message || 'Imported from -' }],
    };
    if (message) config.comment = message;
    const digest = await this.content.put(Buffer.from(JSON.stringify(config)));
    const rec = await this.store.add(digest);
    if (ref) await this.tagImage(rec, ref);
    this.publish('import', rec.id, rec.id, rec);
    return rec;
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const rec = this.store.resolve(source);
    const ref = parseReference(tag ? `${repo}:${tag}` : repo);
    await this.tagImage(rec, ref);
  }

  private async tagImage(rec: ImageRecord, ref: Reference): Promise<void> {
    await this.store.tag(ref, rec.id);
    this.publish('tag', rec.id, familiarString(withDefaultTag(ref)), rec);
  }

  // Removes one reference of rec; returns it as rmi reports it.
  private async untag(rec: ImageRecord, ref: Reference): Promise<string> {
    const removed = familiarString(await this.store.untagRef(ref));
    this.publish('untag', rec.id, rec.id, rec);
    return removed;
  }

  // Runs fn under a content lease: the blobs it makes or relies on outlive
  // any garbage collection meanwhile, until fn is done with them.
  private async leased<T>(fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = this.content.lease();
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  // An image event as dockerd logs it: the image's labels, and `name`. A
  // deleted image has no labels left to give.
  private publish(action: string, id: string, name: string, rec?: ImageRecord): void {
    this.events.publish('image', action, id, { ...(rec?.config.config?.Labels ?? {}), name });
  }

  // Docker's rmi: a name untags (and deletes when it was the last tag);
  // an id deletes, which needs -f when the image has several tags.
  async remove(name: string, force: boolean): Promise<RemovedItem[]> {
    const rec = this.store.resolve(name);
    // Digest references (RepoDigests) go with the image; only tags keep it.
    const refs = this.store.refsOf(rec.id).filter((r) => r.tag);
    const digestRefs = this.store.refsOf(rec.id).filter((r) => !r.tag);
    const byName = this.store.hasRef(name);
    const users = this.inUse(rec.id);
    const short = rec.id.slice(7, 19);
    if (byName) {
      const ref = withDefaultTag(parseReference(name));
      if (refs.length === 1 && users.length > 0 && !force) {
        throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${users[0].id.slice(0, 12)} is using its referenced image ${short}`);
      }
      const untagged = await this.untag(rec, ref);
      // A digest reference deletes the image only when it was the last reference.
      const lastDigest = !ref.tag && refs.length === 0 && digestRefs.length === 1;
      if (refs.length > 1 || users.length > 0 || (!ref.tag && !lastDigest)) return [{ Untagged: untagged }];
      const out: RemovedItem[] = [{ Untagged: untagged }];
      if (ref.tag) for (const r of digestRefs) out.push({ Untagged: await this.untag(rec, r) });
      return [...out, ...(await this.deleteImage(rec))];
    }
    const running = users.find((u) => u.running);
    if (running) throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
    if (users.length > 0 && !force) throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${users[0].id.slice(0, 12)}`);
    if (refs.length > 1 && !force) throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
    const out: RemovedItem[] = [];
    for (const r of [...refs, ...digestRefs]) out.push({ Untagged: await this.untag(rec, r) });
    if (users.length > 0) return out;
    return [...out, ...(await this.deleteImage(rec))];
  }

  // `docker image prune`: unused dangling images (all unused ones with
  // `all`), made before `until` (Unix seconds), with every label in
  // `labels` and none in `notLabels` ("key" or "key=value"). Returns what
  // went and the bytes of layers freed.
  async prune(opts: { all: boolean; until?: number; labels?: string[]; notLabels?: string[] }): Promise<{ deleted: RemovedItem[]; reclaimed: number }> {
    const before = new Map(this.layers.list().map((l) => [l.chainID, l.size]));
    const deleted: RemovedItem[] = [];
    for (const rec of this.store.list()) {
      if (this.inUse(rec.id).length > 0) continue;
      const tags = this.store.refsOf(rec.id).filter((r) => r.tag);
      if (!opts.all && tags.length > 0) continue;
      const labels = rec.config.config?.Labels ?? {};
      if (opts.labels && !opts.labels.every((l) => hasLabel(labels, l))) continue;
      if (opts.notLabels?.some((l) => hasLabel(labels, l))) continue;
      if (opts.until !== undefined && !(Date.parse(rec.config.created ?? '') / 1000 < opts.until)) continue;
      const digestRefs = this.store.refsOf(rec.id).filter((r) => !r.tag);
      for (const r of [...tags, ...digestRefs]) deleted.push({ Untagged: await this.untag(rec, r) });
      deleted.push(...(await this.deleteImage(rec)));
    }
    let reclaimed = 0;
    for (const [chain, size] of before) if (!this.layers.get(chain)) reclaimed += size;
    return { deleted, reclaimed };
  }

  // The config, the manifests its digest references named and the layers
  // go with the garbage collection, which spares what an operation in
  // flight (a push of this very image) still reads.
  private async deleteImage(rec: ImageRecord): Promise<RemovedItem[]> {
    await this.store.delete(rec.id);
    this.publish('delete', rec.id, rec.id);
    await this.collectGarbage();
    return [{ Deleted: rec.id }];
  }

  // Garbage collection, at start (for what a crash left) and after rmi and
  // prune: the layers no image needs, the distribution.json entries of
  // layers no longer stored, then every blob nothing references (configs,
  // manifests, layer tars, compressed layer blobs). Containers pin their
  // image, so layers under a container are reachable from a listed image;
  // what a pull or push in flight holds (layers) or leases (blobs) stays.
  async collectGarbage(): Promise<void> {
    const keep = new Set(this.store.list().flatMap((img) => this.layers.chain(img.chainID)));
    for (const layer of this.layers.list()) {
      if (keep.has(layer.chainID) || this.holds.has(layer.chainID)) continue;
      await this.layers.removeLayer(layer.chainID);
    }
    const stored = new Set(this.layers.list().map((l) => l.diffID));
    for (const diffID of this.metadata.diffIDs()) {
      if (stored.has(diffID) || this.metadata.sources(diffID).some((s) => this.content.isLeased(s.digest))) continue;
      await this.metadata.forget(diffID);
    }
    await this.content.sweep(() => this.referencedBlobs());
  }

  // Every blob an image needs: its config, the manifests its digest
  // references name, and per stored layer its tar and compressed copies.
  private referencedBlobs(): Set<string> {
    const out = new Set<string>();
    for (const rec of this.store.list()) {
      out.add(rec.id);
      for (const r of this.store.refsOf(rec.id)) if (r.digest) out.add(r.digest);
    }
    for (const l of this.layers.list()) {
      out.add(l.diffID);
      for (const s of this.metadata.sources(l.diffID)) out.add(s.digest);
    }
    return out;
  }

  repoTags(rec: ImageRecord): string[] {
    return this.store.refsOf(rec.id).filter((r) => r.tag).map(familiarString);
  }

  repoDigests(rec: ImageRecord): string[] {
    return this.store.refsOf(rec.id).filter((r) => r.digest).map((r) => `${familiarString({ domain: r.domain, path: r.path })}@${r.digest}`);
  }

}
