// Pull: resolve a reference in a registry, fetch config and layers with
// their digests checked while they stream, extract layers in parallel into
// scratch dirs, then commit them bottom-up. A layer being fetched by one
// pull is awaited, not fetched again, by another.
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalidArgument, isKind, notFound } from '../../errors';
import type { LayerTars } from '../layers';
import { Hasher } from '../content/streams';
import type { ContentStore } from '../content/store';
import { byteProgress, type ProgressSink } from '../events/progress';
import type { Descriptor, Manifest } from '../../oci/descriptor';
import { hostPlatform, selectPlatform, type PlatformSpec } from '../../oci/platform';
import { decompressStream, parseManifest, type RegistryAuth, type RegistryClient } from '../registry';
import { chainIDOf, chainIDs } from '../../oci/layers';
import type { LayerInfo, LayerSnapshotter } from '../snapshots/snapshotter';
import type { DistributionMetadata } from './distribution';
import type { LayerHolds } from './holds';
import { familiarString, fullName, type Reference } from '../../oci/reference';
import { pullEndpoints, type RegistrySettings } from './registries';
import type { ImageStore } from './store';
import type { ImageConfig, ImageRecord } from './types';

const MAX_CONCURRENT_DOWNLOADS = 3; // dockerd's default of max-concurrent-downloads

export type Platform = PlatformSpec;

// A registry's 401 goes to the client as 403: on a 401 the docker CLI asks
// for a login on stdin (dockerd never answers a pull with 401).
function noLoginPrompt(err: unknown): never {
  if (isKind(err, 'Unauthorized')) throw new BerthError('Forbidden', (err as Error).message, { cause: err });
  throw err;
}

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

// Runs fn over items with at most `limit` running at once.
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
        next = items.length; // stop handing out work
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}

export class Puller {
  // chain id -> the layer being made by some pull right now
  private inflight = new Map<string, Promise<LayerInfo>>();
  // chain id -> its removal by a failed pull, still under way
  private removing = new Map<string, Promise<void>>();

  constructor(
    private store: ImageStore,
    private content: ContentStore,
    private snapshots: LayerSnapshotter,
    private tars: LayerTars,
    private metadata: DistributionMetadata,
    private settings: RegistrySettings,
    // The layers running pulls and pushes stand on; a failed pull removes
    // the layers it left behind only when nobody holds them.
    private holds: LayerHolds,
  ) {}

  async pull(ref: Reference, opts: { platform?: Platform; auth?: RegistryAuth; progress: ProgressSink }): Promise<ImageRecord> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const name = familiarString(ref);
    const platform = opts.platform ?? hostPlatform();

    // As in dockerd, progress starts once the manifest is there, so an
    // unknown image or a refused login gets its own HTTP status.
    const found = await this.resolve(ref, reference, opts.auth);
    const client = found.client;
    let { descriptor, bytes } = found;
    opts.progress({ type: 'status', status: `Pulling from ${ref.path}`, id: ref.digest ? ref.digest : reference });
    let manifest = parseManifest(bytes, descriptor.mediaType);
    const topDigest = descriptor.digest;
    const topBytes = bytes;
    if ('manifests' in manifest) {
      const chosen = selectPlatform(manifest, platform);
      ({ descriptor, bytes } = await client.getManifest(ref.path, chosen.digest));
      manifest = parseManifest(bytes, descriptor.mediaType);
      if ('manifests' in manifest) throw invalidArgument('a manifest list points at another manifest list');
    }

    const configBytes = await this.fetchSmallBlob(client, ref.path, manifest.config);
    const config = JSON.parse(configBytes.toString()) as ImageConfig;
    const diffIDs = config.rootfs?.diff_ids ?? [];
    if (!Array.isArray(diffIDs) || diffIDs.length !== manifest.layers.length) {
      throw invalidArgument(`image config has ${diffIDs.length} layers but the manifest lists ${manifest.layers.length}`);
    }
    if (config.os && config.os !== platform.os) throw notFound(`image ${name} is for ${config.os}/${config.architecture}, not ${platform.os}/${platform.architecture}`);

    const existed = this.store.get(manifest.config.digest);
    const chains = chainIDs(diffIDs);
    // Taken in the same tick as the plan below, released once the image is
    // recorded (or the pull has failed and cleaned up).
    const release = this.holds.hold(chains);
    try {
      return await this.pullLayers(ref, opts, { client, manifest, diffIDs, chains, configBytes, topBytes, topDigest, existed: !!existed, name });
    } catch (err) {
      release();
      // Layers this image needed that no image and no other pull uses are
      // removed again, so a failed pull leaves nothing behind.
      await this.rollback(chains).catch(() => {});
      throw err;
    } finally {
      release();
    }
  }

  private async pullLayers(
    ref: Reference,
    opts: { progress: ProgressSink },
    p: { client: RegistryClient; manifest: Manifest; diffIDs: string[]; chains: string[]; configBytes: Buffer; topBytes: Buffer; topDigest: string; existed: boolean; name: string },
  ): Promise<ImageRecord> {
    const { client, manifest, diffIDs, chains, configBytes, topBytes, topDigest, existed, name } = p;
    const layerDone: Promise<LayerInfo>[] = [];
    const todo: number[] = [];
    for (let i = 0; i < chains.length; i++) {
      const have = this.snapshots.get(chains[i]);
      if (have) {
        layerDone[i] = Promise.resolve(have);
        opts.progress({ type: 'progress', id: short(manifest.layers[i].digest), status: 'Already exists' });
      } else if (this.inflight.has(chains[i])) {
        layerDone[i] = this.inflight.get(chains[i])!;
        opts.progress({ type: 'progress', id: short(manifest.layers[i].digest), status: 'Waiting' });
      } else {
        todo.push(i);
      }
    }
    // Each new layer's promise is registered before any download starts, so
    // a concurrent pull of the same image waits on it instead of fetching.
    const resolvers = new Map<number, { resolve: (l: LayerInfo) => void; reject: (e: unknown) => void }>();
    for (const i of todo) {
      layerDone[i] = new Promise<LayerInfo>((resolve, reject) => resolvers.set(i, { resolve, reject }));
      layerDone[i].catch(() => {});
      this.inflight.set(chains[i], layerDone[i]);
      opts.progress({ type: 'progress', id: short(manifest.layers[i].digest), status: 'Pulling fs layer' });
    }
    try {
      await eachLimit(todo, this.settings.maxConcurrentDownloads ?? MAX_CONCURRENT_DOWNLOADS, async (i) => {
        const r = resolvers.get(i)!;
        try {
          const info = await this.fetchLayer(client, ref, manifest.layers[i], diffIDs[i], i === 0 ? Promise.resolve(undefined) : layerDone[i - 1], opts.progress);
          r.resolve(info);
        } catch (err) {
          r.reject(err);
          throw err;
        }
      });
      await Promise.all(layerDone);
    } finally {
      for (const i of todo) {
        this.inflight.delete(chains[i]);
        resolvers.get(i)!.reject(new Error('pull aborted'));
      }
    }

    // Config and manifests land after the layers, so an image is listed
    // only once everything it needs is on disk.
    await this.content.put(configBytes);
    await this.content.put(topBytes); // what the RepoDigest names
    const rec = await this.store.add(manifest.config.digest);
    if (ref.tag) await this.store.tag(ref, rec.id);
    await this.store.setRef({ domain: ref.domain, path: ref.path, digest: topDigest }, rec.id);
    opts.progress({ type: 'status', status: `Digest: ${topDigest}` });
    opts.progress({ type: 'status', status: existed ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
    return rec;
  }

  // The first endpoint (mirrors of Docker Hub in order, then the registry
  // itself) that has the manifest serves the whole pull. A mirror's failure
  // of any kind moves on to the next; when the last one fails too, the error
  // names what each endpoint said.
  private async resolve(ref: Reference, reference: string, auth?: RegistryAuth): Promise<{ client: RegistryClient; descriptor: Descriptor; bytes: Buffer }> {
    const endpoints = pullEndpoints(ref.domain, this.settings, auth);
    const failures: string[] = [];
    for (const ep of endpoints) {
      try {
        const got = await ep.client.getManifest(ref.path, reference);
        return { client: ep.client, ...got };
      } catch (err) {
        if (!ep.mirror) {
          if (!failures.length) noLoginPrompt(err);
          const e = err as BerthError;
          const kind = isKind(err, 'Unauthorized') ? 'Forbidden' : e instanceof BerthError ? e.kind : 'Unavailable';
          throw new BerthError(kind, `${e.message} (after the mirrors failed: ${failures.join('; ')})`, { cause: err });
        }
        failures.push(`${ep.label}: ${(err as Error).message}`);
      }
    }
    throw new Error('unreachable');
  }

  private async fetchSmallBlob(client: RegistryClient, repo: string, desc: Descriptor): Promise<Buffer> {
    if (desc.size > 8 << 20) throw invalidArgument(`config blob of ${desc.size} bytes is too large`);
    const chunks: Buffer[] = [];
    for await (const c of await client.fetchBlob(repo, desc)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  // Download, verify and extract in one pass: the compressed bytes go to the
  // content store (checked against the manifest digest), the uncompressed
  // tar is hashed (checked against the config's diffID) and applied.
  private async fetchLayer(client: RegistryClient, ref: Reference, desc: Descriptor, diffID: string, parent: Promise<LayerInfo | undefined>, progress: ProgressSink): Promise<LayerInfo> {
    const id = short(desc.digest);
    const scratch = await this.snapshots.scratch();
    const blob = (await this.content.has(desc.digest)) ? undefined : this.content.ingest({ digest: desc.digest, size: desc.size });
    let blobCommitted = false;
    try {
      const body = await client.fetchBlob(ref.path, desc);
      const count = byteProgress(progress, id, 'Downloading', desc.size, 256 * 1024);
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          count(chunk.length);
          if (blob) blob.write(chunk).then(() => cb(null, chunk), cb);
          else cb(null, chunk);
        },
      });
      const hasher = new Hasher();
      const tar = new PassThrough();
      const dec = decompressStream(desc.mediaType, counter);
      const streams = [body, counter, dec, hasher, tar];
      // Any failure tears down every stage, so nothing is left waiting.
      const guard = (p: Promise<unknown>) =>
        p.catch((err) => {
          for (const st of streams) st.destroy();
          throw err;
        });
      const steps = [guard(pipeline(body, counter)), guard(pipeline(dec, hasher, tar)), guard(this.tars.apply(tar, scratch.dir))];
      for (const st of steps) st.catch(() => {});
      await Promise.all(steps);
      const got = hasher.digest();
      const size = hasher.size;
      if (got !== diffID) throw invalidArgument(`layer ${desc.digest}: its content hashes to ${got}, but the image config says ${diffID}`);
      progress({ type: 'progress', id, status: 'Download complete' });
      // The blob is kept only together with its layer: if the parent fails,
      // the ingest is dropped with the scratch dir.
      const p = await parent;
      await this.removing.get(chainIDOf(p?.chainID, diffID));
      if (blob) {
        await blob.commit();
        blobCommitted = true;
      }
      await this.metadata.add(diffID, { digest: desc.digest, mediaType: desc.mediaType, size: desc.size, ...(desc.urls?.length ? { urls: desc.urls } : {}) }, fullName(ref));
      progress({ type: 'progress', id, status: 'Extracting', current: size, total: size });
      const info = await this.snapshots.commit(scratch, p?.chainID, diffID, size);
      progress({ type: 'progress', id, status: 'Pull complete' });
      return info;
    } catch (err) {
      await blob?.abort();
      if (blobCommitted && !this.snapshots.list().some((l) => l.diffID === diffID)) await this.content.delete(desc.digest);
      await this.snapshots.discard(scratch);
      throw err;
    }
  }

  // Removes, top first, the layers of `chains` that no image uses, no
  // running pull or push holds and no other layer stands on, with their
  // compressed blobs. Each check and the removal
  // from the snapshotter's map happen in one tick.
  private async rollback(chains: string[]): Promise<void> {
    for (const chainID of [...chains].reverse()) {
      const layer = this.snapshots.get(chainID);
      if (!layer || this.holds.has(chainID)) continue;
      if (this.snapshots.list().some((l) => l.parent === chainID)) continue;
      if (this.store.list().some((img) => this.snapshots.chain(img.chainID).includes(chainID))) continue;
      const removal = this.snapshots.removeLayer(chainID).finally(() => this.removing.delete(chainID));
      this.removing.set(chainID, removal);
      await removal;
      if (this.snapshots.list().some((l) => l.diffID === layer.diffID)) continue;
      for (const s of this.metadata.sources(layer.diffID)) await this.content.delete(s.digest);
      await this.metadata.forget(layer.diffID);
    }
  }

  async tags(ref: Reference, auth?: RegistryAuth): Promise<string[]> {
    const endpoints = pullEndpoints(ref.domain, this.settings, auth);
    for (const ep of endpoints) {
      try {
        return await ep.client.listTags(ref.path);
      } catch (err) {
        if (!ep.mirror) noLoginPrompt(err);
      }
    }
    throw new Error('unreachable');
  }
}
