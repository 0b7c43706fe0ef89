// Push: upload an image's layers (skipping what the registry has, mounting
// across repositories on the same registry, compressing on all cores what
// was never compressed), its config, and a Docker v2 schema 2 manifest.
import * as fs from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { failedPrecondition, notFound } from '../../errors';
import type { ContentStore, Lease } from '../content/store';
import { byteProgress, type ProgressSink } from '../events/progress';
import type { Descriptor } from '../../oci/descriptor';
import { MEDIA_TYPES } from '../../oci/mediatypes';
import type { RegistryAuth, RegistryClient } from '../registry';
import { chainIDs } from '../../oci/layers';
import type { DistributionMetadata } from './distribution';
import type { LayerHolds } from './holds';
import { ingestTee } from '../content/streams';
import { ParallelGzip } from './pgzip';
import { familiarString, parseReference, fullName, withDefaultTag, type Reference } from '../../oci/reference';
import { allowsNondistributable, registryClient, type RegistrySettings } from './registries';
import type { ImageStore } from './store';
import type { ImageRecord } from './types';

const MAX_CONCURRENT_UPLOADS = 5; // dockerd's default of max-concurrent-uploads
// Foreign (non-distributable) layer types and what they are once a registry
// that allows them has the bytes.
const FOREIGN: Record<string, string> = {
  [MEDIA_TYPES.dockerForeignLayerGzip]: MEDIA_TYPES.dockerLayerGzip,
  [MEDIA_TYPES.ociLayerNondistributableTar]: MEDIA_TYPES.ociLayerTar,
  [MEDIA_TYPES.ociLayerNondistributableGzip]: MEDIA_TYPES.ociLayerGzip,
  [MEDIA_TYPES.ociLayerNondistributableZstd]: MEDIA_TYPES.ociLayerZstd,
};

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

export class Pusher {
  constructor(
    private store: ImageStore,
    private content: ContentStore,
    private metadata: DistributionMetadata,
    private settings: RegistrySettings,
    // The uncompressed tar of a layer, exactly as its diffID was computed,
    // and its size.
    private layerTar: (diffID: string, chainID: string) => Promise<Readable>,
    private layerSize: (chainID: string) => number | undefined,
    private holds: LayerHolds,
  ) {}

  // Without a tag, every local tag of the repository is pushed (as Docker does).
  // The lease keeps every blob the push reads or makes until it is done.
  async push(ref: Reference, opts: { auth?: RegistryAuth; progress: ProgressSink; lease: Lease }): Promise<void> {
    const targets: Reference[] = ref.tag || ref.digest ? [withDefaultTag(ref)] : this.store.tagsOfRepo(ref);
    if (targets.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarString(ref)}`);
    const client = registryClient(ref.domain, this.settings, opts.auth);
    opts.progress({ type: 'status', status: `The push refers to repository [${fullName(ref)}]` });
    for (const t of targets) {
      const rec = this.store.tryResolve(familiarString(t));
      if (!rec) throw notFound(`An image does not exist locally with the tag: ${familiarString(t)}`);
      await this.pushOne(client, t, rec, opts.progress, opts.lease);
    }
  }

  private async pushOne(client: RegistryClient, ref: Reference, rec: ImageRecord, progress: ProgressSink, lease: Lease): Promise<void> {
    const diffIDs = rec.config.rootfs.diff_ids;
    const chains = chainIDs(diffIDs);
    // An rmi meanwhile must not take what this push is reading.
    lease.add(rec.id, ...diffIDs, ...diffIDs.flatMap((d) => this.metadata.sources(d).map((s) => s.digest)));
    const release = this.holds.hold(chains);
    try {
      await this.pushImage(client, ref, rec, diffIDs, chains, progress);
    } finally {
      release();
    }
  }

  private async pushImage(client: RegistryClient, ref: Reference, rec: ImageRecord, diffIDs: string[], chains: string[], progress: ProgressSink): Promise<void> {
    for (const d of diffIDs) progress({ type: 'progress', id: short(d), status: 'Preparing' });
    const layers: Descriptor[] = new Array(diffIDs.length);
    let next = 0;
    const worker = async () => {
      while (next < diffIDs.length) {
        const i = next++;
        layers[i] = await this.pushLayer(client, ref, diffIDs[i], chains[i], progress);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.maxConcurrentUploads ?? MAX_CONCURRENT_UPLOADS, diffIDs.length) }, worker));

    const configBytes = await this.content.read(rec.id);
    if ((await client.blobSize(ref.path, rec.id)) === undefined) {
      await client.pushBlob(ref.path, bufferStream(configBytes), { digest: rec.id, size: configBytes.length });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, size: configBytes.length, digest: rec.id },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest, ...(l.urls ? { urls: l.urls } : {}) })),
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const tag = ref.tag ?? 'latest';
    const digest = await client.putManifest(ref.path, tag, MEDIA_TYPES.dockerManifest, bytes);
    await this.content.put(bytes);
    // The registry has it now, even if an rmi took the local image meanwhile.
    if (this.store.get(rec.id)) await this.store.setRef({ domain: ref.domain, path: ref.path, digest }, rec.id);
    progress({ type: 'status', status: `${tag}: digest: ${digest} size: ${bytes.length}` });
    progress({ type: 'aux', aux: { Tag: tag, Digest: digest, Size: bytes.length } });
  }

  private async pushLayer(client: RegistryClient, ref: Reference, diffID: string, chainID: string, progress: ProgressSink): Promise<Descriptor> {
    const id = short(diffID);
    const target = fullName(ref);
    let sources = this.metadata.sources(diffID);
    // As dockerd: a foreign layer stays where its URLs point unless the
    // registry is in allow-nondistributable-artifacts; there its bytes are
    // pushed as an ordinary layer.
    const foreign = sources.find((s) => FOREIGN[s.mediaType] && s.urls?.length);
    if (foreign && !allowsNondistributable(ref.domain, this.settings)) {
      progress({ type: 'progress', id, status: 'Skipped foreign layer' });
      return { mediaType: foreign.mediaType, digest: foreign.digest, size: foreign.size, urls: foreign.urls };
    }
    sources = sources.map((s) => (FOREIGN[s.mediaType] ? { ...s, mediaType: FOREIGN[s.mediaType], urls: undefined } : s));
    const sameRegistry = sources.flatMap((s) => s.repos.filter((r) => r.startsWith(`${ref.domain}/`)).map((r) => ({ s, repo: r })));
    // 1. The registry already has one of our blobs for this layer in this repository.
    for (const { s } of sameRegistry.filter((x) => x.repo === target)) {
      if ((await client.blobSize(ref.path, s.digest)) !== undefined) {
        progress({ type: 'progress', id, status: 'Layer already exists' });
        return { mediaType: s.mediaType, digest: s.digest, size: s.size };
      }
    }
    // 2. Another repository on the same registry has it: mount, no upload.
    for (const { s, repo } of sameRegistry.filter((x) => x.repo !== target)) {
      const from = repo.slice(ref.domain.length + 1);
      if (await client.mountBlob(ref.path, s.digest, from).catch(() => false)) {
        await this.metadata.add(diffID, s, target);
        progress({ type: 'progress', id, status: `Mounted from ${familiarString(parseReference(repo))}` });
        return { mediaType: s.mediaType, digest: s.digest, size: s.size };
      }
    }
    // 3. A compressed blob we keep (from a pull or an earlier push): send those bytes.
    for (const s of sources) {
      if (!(await this.content.has(s.digest))) continue;
      if ((await client.blobSize(ref.path, s.digest)) !== undefined) {
        await this.metadata.add(diffID, s, target);
        progress({ type: 'progress', id, status: 'Layer already exists' });
        return { mediaType: s.mediaType, digest: s.digest, size: s.size };
      }
      const file = fs.createReadStream(this.content.blobPath(s.digest));
      await client.pushBlob(ref.path, file, { digest: s.digest, size: s.size, onProgress: (n) => progress({ type: 'progress', id, status: 'Pushing', current: n, total: s.size }) });
      await this.metadata.add(diffID, s, target);
      progress({ type: 'progress', id, status: 'Pushed' });
      return { mediaType: s.mediaType, digest: s.digest, size: s.size };
    }
    // 4. Compress the layer tar now, keeping a copy so later pushes send the same bytes.
    // Progress counts the tar as it is read, against its size, as docker's.
    const tar = await this.layerTar(diffID, chainID);
    const count = byteProgress(progress, id, 'Pushing', this.layerSize(chainID), 512 * 1024);
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        count(chunk.length);
        cb(null, chunk);
      },
    });
    const keep = this.content.ingest();
    const tee = ingestTee(keep);
    const upload = new PassThrough();
    try {
      const [, result] = await Promise.all([
        pipeline(tar, counter, new ParallelGzip(), tee, upload),
        client.pushBlob(ref.path, upload),
      ]);
      const kept = await keep.commit();
      if (kept.digest !== result.digest) throw failedPrecondition(`registry stored ${result.digest} for ${kept.digest}`);
      const desc = { mediaType: MEDIA_TYPES.dockerLayerGzip, digest: result.digest, size: result.size };
      await this.metadata.add(diffID, desc, target);
      progress({ type: 'progress', id, status: 'Pushed' });
      return desc;
    } catch (err) {
      await keep.abort();
      upload.destroy();
      throw err;
    }
  }
}

function bufferStream(b: Buffer): Readable {
  const p = new PassThrough();
  p.end(b);
  return p;
}
