// Image archives: `docker save` and `docker load`, plus `docker history`.
//
// save writes Docker 25+'s combined layout, which both `docker load` and
// OCI tools read:
//   oci-layout, index.json               OCI image layout (one descriptor per tag)
//   blobs/sha256/<hex>                   configs, OCI manifests, and layers as
//                                        uncompressed tars whose digest is the diffID
//   manifest.json, repositories          Docker's own index of the same blobs
//
// load reads that layout, Docker's legacy one (<id>/layer.tar, <id>.json and
// manifest.json) and a plain OCI layout (index.json only). The archive is
// streamed: every regular file is spooled to a private dir under the content
// ingest dir (blobs/sha256/<hex> names are checked against their digest as
// they arrive); nothing is stored until the whole archive has been read and
// checked, and a layer becomes visible only once verified against the
// config's diff_ids.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { BerthError, failedPrecondition, invalidArgument } from '../../errors';
import { syncDir } from '../../util/fs';
import { applyThrough, compressionOf } from '../archive';
import { DIGEST_RE, type ContentStore, type Ingest } from '../content/store';
import { Hasher, ingestTee, ingestTrack } from '../content/streams';
import { QueuedWriter } from '../content/writer';
import { byteProgress, noProgress, type ProgressSink } from '../events/progress';
import { chainIDOf } from '../../oci/layers';
import type { OverlaySnapshotter, ScratchLayer } from '../snapshots/overlay';
import type { Descriptor } from '../../oci/descriptor';
import { MEDIA_TYPES } from '../../oci/mediatypes';
import { hostPlatform } from '../../oci/platform';
import { familiarString, refString, isImageIdLike, parseReference, fullName, withDefaultTag, type Reference } from '../../oci/reference';
import { createLayerGunzip } from '../registry/decompress';
import type { ImageService } from './service';
import type { ImageStore } from './store';
import type { ImageConfig, ImageRecord } from './types';

// The version of the OCI image layout save writes (oci-layout).
const OCI_LAYOUT_VERSION = '1.0.0';

const MAX_ENTRIES = 100_000; // entries in one archive to load
const MAX_JSON = 64 << 20; // manifest.json, index.json, configs
const MAX_LINK_HOPS = 16;
// Entries at least this big that look like layers are applied as they arrive.
const EARLY_MIN = 1 << 20;
const CHUNK = 256 * 1024;

// What tar-stream's extractor yields: an entry's header and its data.
type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

const hexOf = (d: string) => d.replace(/^sha256:/, '');
export const blobName = (d: string) => `blobs/sha256/${hexOf(d)}`;

// ---------------------------------------------------------------------------
// Pure helpers

// A tar entry name as a clean relative path inside the archive ("./a//b/" ->
// "a/b"). Absolute names and ".." segments are refused outright: an image
// archive never needs them, so they only ever mean a hostile archive.
export function archivePath(name: string, what = 'archive entry'): string {
  if (typeof name !== 'string' || name.includes('\0')) throw invalidArgument(`invalid ${what} ${JSON.stringify(name)}`);
  if (name.startsWith('/')) throw invalidArgument(`invalid ${what} ${JSON.stringify(name)}: absolute paths are not allowed`);
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) throw invalidArgument(`invalid ${what} ${JSON.stringify(name)}: ".." is not allowed`);
  return segs.join('/');
}

// The target of a symlink or hardlink entry, as an archive path. Symlinks
// are relative to their own directory, hardlinks to the archive root; either
// must stay inside the archive.
export function linkTarget(entry: string, linkname: string, kind: 'symlink' | 'link'): string {
  if (typeof linkname !== 'string' || linkname === '' || linkname.includes('\0')) throw invalidArgument(`invalid link target in archive entry ${JSON.stringify(entry)}`);
  if (linkname.startsWith('/')) throw invalidArgument(`invalid archive entry ${JSON.stringify(entry)}: link target ${JSON.stringify(linkname)} is absolute`);
  const joined = kind === 'symlink' ? path.posix.join(path.posix.dirname(entry), linkname) : path.posix.normalize(linkname);
  if (joined === '..' || joined.startsWith('../')) throw invalidArgument(`invalid archive entry ${JSON.stringify(entry)}: link target ${JSON.stringify(linkname)} leaves the archive`);
  return archivePath(joined);
}

export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface SaveImage {
  id: string; // config digest
  configSize: number;
  created?: string;
  layers: Array<{ diffID: string; size: number }>;
  refs: Reference[]; // tags only
}

export interface SaveDocs {
  manifests: Array<{ id: string; digest: string; data: Buffer }>; // one OCI manifest per image
  index: Buffer;
  manifestJSON: Buffer;
  repositories: Buffer | null;
  ociLayout: Buffer;
}

export function ociManifest(img: SaveImage): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: img.id, size: img.configSize },
      layers: img.layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayerTar, digest: l.diffID, size: l.size })),
    }),
  );
}

// index.json, manifest.json, repositories and the OCI manifests of a save.
export function buildSaveDocs(images: SaveImage[]): SaveDocs {
  const manifests = images.map((img) => {
    const data = ociManifest(img);
    return { id: img.id, digest: 'sha256:' + createHash('sha256').update(data).digest('hex'), data };
  });
  const descriptors: object[] = [];
  const entries: DockerManifestEntry[] = [];
  const repos: Record<string, Record<string, string>> = {};
  images.forEach((img, i) => {
    const m = manifests[i];
    const base = { mediaType: MEDIA_TYPES.ociManifest, digest: m.digest, size: m.data.length };
    if (img.refs.length === 0) descriptors.push(base);
    for (const r of img.refs) {
      descriptors.push({ ...base, annotations: { 'io.containerd.image.name': refString(r), 'org.opencontainers.image.ref.name': r.tag } });
      if (img.layers.length > 0) {
        const repo = familiarString({ domain: r.domain, path: r.path });
        (repos[repo] ??= {})[r.tag!] = hexOf(img.layers[img.layers.length - 1].diffID);
      }
    }
    entries.push({
      Config: blobName(img.id),
      RepoTags: img.refs.length ? img.refs.map(familiarString) : null,
      Layers: img.layers.map((l) => blobName(l.diffID)),
    });
  });
  return {
    manifests,
    index: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: descriptors })),
    manifestJSON: Buffer.from(JSON.stringify(entries)),
    repositories: Object.keys(repos).length ? Buffer.from(JSON.stringify(repos)) : null,
    ociLayout: Buffer.from(JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION })),
  };
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

const unix = (t?: string) => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
};

// `docker history`: newest first; each non-empty entry takes the size of
// the next layer; only the top entry carries the image id and its tags
// (older ones are "<missing>", as in Docker for images not built locally).
export function imageHistory(id: string, config: ImageConfig, layerSizes: number[], tags: string[]): HistoryItem[] {
  let history = config.history ?? [];
  // A config without history (hand-made ones) still shows its layers.
  if (history.length === 0) history = (config.rootfs?.diff_ids ?? []).map(() => ({ created: config.created, created_by: '' }));
  const out: HistoryItem[] = [];
  let layer = 0;
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer) {
      size = layerSizes[layer] ?? 0;
      layer++;
    }
    out.unshift({ Id: '<missing>', Created: unix(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  if (out.length) {
    out[0].Id = id;
    out[0].Tags = tags.length ? tags : null;
  }
  return out;
}

// Parses and checks manifest.json: every path relative and inside the archive.
export function parseDockerManifest(data: Buffer): DockerManifestEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`invalid manifest.json: ${(err as Error).message}`);
  }
  if (!Array.isArray(v)) throw invalidArgument('invalid manifest.json: expected an array');
  return v.map((e: any, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw invalidArgument(`invalid manifest.json: entry ${i} is not an object`);
    if (typeof e.Config !== 'string' || e.Config === '') throw invalidArgument(`invalid manifest.json: entry ${i} has no Config`);
    const layers = e.Layers ?? [];
    if (!Array.isArray(layers) || !layers.every((l: unknown) => typeof l === 'string')) throw invalidArgument(`invalid manifest.json: Layers of entry ${i} must be a list of paths`);
    const tags = e.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t: unknown) => typeof t === 'string')) throw invalidArgument(`invalid manifest.json: RepoTags of entry ${i} must be a list of strings`);
    const check = (p: string) => {
      const clean = archivePath(p, 'path in manifest.json');
      if (clean === '') throw invalidArgument(`invalid path in manifest.json: ${JSON.stringify(p)}`);
      return clean;
    };
    return { Config: check(e.Config), Layers: layers.map(check), RepoTags: tags };
  });
}

// Parses and checks an image config: a JSON object with rootfs.diff_ids.
export function parseImageConfig(data: Buffer, where: string): ImageConfig {
  let v: any;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`invalid image config ${where}: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`invalid image config ${where}: expected an object`);
  const ids = v.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d: unknown) => typeof d === 'string' && DIGEST_RE.test(d))) {
    throw invalidArgument(`invalid image config ${where}: rootfs.diff_ids must be a list of sha256 digests`);
  }
  if (v.rootfs.type !== undefined && v.rootfs.type !== 'layers') throw invalidArgument(`invalid image config ${where}: unsupported rootfs type ${JSON.stringify(v.rootfs.type)}`);
  return v as ImageConfig;
}

// The image name in an OCI index descriptor's annotations, if any.
export function annotatedName(annotations: Record<string, string> | undefined): Reference | undefined {
  if (!annotations || typeof annotations !== 'object') return undefined;
  for (const key of ['io.containerd.image.name', 'org.opencontainers.image.ref.name']) {
    const v = annotations[key];
    if (typeof v !== 'string' || v === '') continue;
    // A bare tag ("latest") in ref.name names no repository.
    if (key === 'org.opencontainers.image.ref.name' && !/[/:]/.test(v)) continue;
    try {
      const r = parseReference(v);
      if (r.digest && !r.tag) continue;
      return withDefaultTag({ domain: r.domain, path: r.path, tag: r.tag });
    } catch {
      // not a reference: ignore
    }
  }
  return undefined;
}

// A descriptor as an archive may hold it: only the digest is checked, and
// only what load reads is trusted (the blob itself is checked by digest).
type ArchiveDescriptor = Pick<Descriptor, 'digest'> & Partial<Descriptor>;

function descriptor(v: any, where: string): ArchiveDescriptor {
  if (!v || typeof v !== 'object' || typeof v.digest !== 'string' || !DIGEST_RE.test(v.digest)) throw invalidArgument(`invalid descriptor in ${where}`);
  return v as ArchiveDescriptor;
}

// Turns an OCI layout (index.json, no manifest.json) into manifest.json
// entries. read gives the bytes of a blob named by digest.
export async function manifestFromOCI(index: Buffer, read: (digest: string) => Promise<Buffer>, arch = hostPlatform().architecture): Promise<DockerManifestEntry[]> {
  const parse = (data: Buffer, where: string) => {
    try {
      const v = JSON.parse(data.toString('utf8'));
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected an object');
      return v;
    } catch (err) {
      throw invalidArgument(`invalid ${where}: ${(err as Error).message}`);
    }
  };
  const byManifest = new Map<string, DockerManifestEntry>();
  const out: DockerManifestEntry[] = [];
  const visit = async (d: ArchiveDescriptor, name: Reference | undefined, depth: number): Promise<void> => {
    if (depth > 4) throw invalidArgument('invalid index.json: indexes nested too deeply');
    const doc = parse(await read(d.digest), `manifest ${d.digest}`);
    const mt = doc.mediaType ?? d.mediaType;
    if (mt === MEDIA_TYPES.ociIndex || mt === MEDIA_TYPES.dockerManifestList || (Array.isArray(doc.manifests) && !doc.config)) {
      const list: ArchiveDescriptor[] = (Array.isArray(doc.manifests) ? doc.manifests : []).map((m: unknown) => descriptor(m, `index ${d.digest}`));
      const pick = list.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch) ?? list.find((m) => !m.platform) ?? list[0];
      if (!pick) throw invalidArgument(`invalid archive: index ${d.digest} lists no manifests`);
      return visit(pick, name, depth + 1);
    }
    const config = descriptor(doc.config, `manifest ${d.digest}`);
    const layers: ArchiveDescriptor[] = (Array.isArray(doc.layers) ? doc.layers : []).map((l: unknown) => descriptor(l, `manifest ${d.digest}`));
    for (const l of layers) {
      if (/zstd/.test(l.mediaType ?? '')) throw invalidArgument(`layer ${l.digest}: zstd-compressed layers are not supported`);
    }
    let entry = byManifest.get(d.digest);
    if (!entry) {
      entry = { Config: blobName(config.digest), Layers: layers.map((l) => blobName(l.digest)), RepoTags: [] };
      byManifest.set(d.digest, entry);
      out.push(entry);
    }
    if (name) {
      const tag = familiarString(name);
      if (!entry.RepoTags!.includes(tag)) entry.RepoTags!.push(tag);
    }
  };
  const doc = parse(index, 'index.json');
  if (!Array.isArray(doc.manifests)) throw invalidArgument('invalid index.json: no manifests');
  for (const m of doc.manifests) {
    const d = descriptor(m, 'index.json');
    await visit(d, annotatedName(d.annotations), 0);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Streams





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

// ---------------------------------------------------------------------------
// The engine side

export interface ArchiveDeps {
  content: ContentStore;
  snapshots: OverlaySnapshotter;
  imageStore: ImageStore;
  images: ImageService;
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

export class ImageArchive {
  constructor(private d: ArchiveDeps) {}

  // ----- history -----

  history(name: string): HistoryItem[] {
    const rec = this.d.imageStore.resolve(name);
    const sizes: number[] = [];
    let chain: string | undefined;
    for (const diffID of rec.config.rootfs?.diff_ids ?? []) {
      chain = chainIDOf(chain, diffID);
      sizes.push(this.d.snapshots.get(chain)?.size ?? 0);
    }
    return imageHistory(rec.id, rec.config, sizes, this.d.images.repoTags(rec));
  }

  // ----- save -----

  // Docker's rules: "repo" takes every tag of that repository, "repo:tag"
  // that tag, an id (or digest reference) the image without tags.
  select(names: string[]): Array<{ rec: ImageRecord; refs: Reference[] }> {
    if (names.length === 0) throw invalidArgument('no image names given to save');
    const picked = new Map<string, { rec: ImageRecord; refs: Reference[] }>();
    const add = (rec: ImageRecord, ref?: Reference) => {
      let p = picked.get(rec.id);
      if (!p) picked.set(rec.id, (p = { rec, refs: [] }));
      if (ref?.tag && !p.refs.some((r) => refString(r) === refString(ref))) p.refs.push({ domain: ref.domain, path: ref.path, tag: ref.tag });
    };
    for (const name of names) {
      let ref: Reference | undefined;
      try {
        ref = parseReference(name);
      } catch (err) {
        if (!isImageIdLike(name)) throw err;
      }
      if (ref && !ref.tag && !ref.digest) {
        const repo = fullName(ref);
        let found = false;
        for (const rec of this.d.imageStore.list()) {
          for (const r of this.d.imageStore.refsOf(rec.id)) {
            if (r.tag && !r.digest && fullName(r) === repo) {
              add(rec, r);
              found = true;
            }
          }
        }
        if (!found) add(this.d.imageStore.resolve(name));
        continue;
      }
      const rec = this.d.imageStore.resolve(name);
      add(rec, ref?.tag ? ref : undefined);
    }
    return [...picked.values()];
  }

  // Resolves the names and gets every layer as an uncompressed tar whose
  // digest is its diffID, failing here, before any byte is sent, if one
  // cannot be had. Returns the archive as a stream; its temp files go when
  // it has been written out or destroyed.
  async save(names: string[]): Promise<Readable> {
    const selected = this.select(names);
    const tmp = path.join(this.d.content.ingestDir, `save-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(tmp, { recursive: true });
    const handles: fsp.FileHandle[] = [];
    let cleaned = false;
    const cleanup = async () => {
      if (cleaned) return;
      cleaned = true;
      for (const h of handles) await h.close().catch(() => {});
      await fsp.rm(tmp, { recursive: true, force: true });
    };
    try {
      const layers = new Map<string, { fh: fsp.FileHandle; size: number }>();
      const configs = new Map<string, Buffer>();
      const images: SaveImage[] = [];
      for (const { rec, refs } of selected) {
        const config = await this.d.content.read(rec.id);
        configs.set(rec.id, config);
        const img: SaveImage = { id: rec.id, configSize: config.length, created: rec.config.created, layers: [], refs };
        let chain: string | undefined;
        for (const diffID of rec.config.rootfs.diff_ids) {
          chain = chainIDOf(chain, diffID);
          let l = layers.get(diffID);
          if (!l) {
            l = await this.layerFile(diffID, chain, tmp);
            handles.push(l.fh);
            layers.set(diffID, l);
          }
          img.layers.push({ diffID, size: l.size });
        }
        images.push(img);
      }
      return this.writeArchive(images, configs, layers, buildSaveDocs(images), cleanup);
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  // An open handle on the layer's uncompressed tar: the content blob named
  // by the diffID when there is one (import, commit, load); otherwise what
  // ImageService.layerTar gives (a pulled layer's blob decompressed, or the
  // layer packed again), spooled to a temp file so that its size is known
  // for the tar header, and checked against the diffID.
  private async layerFile(diffID: string, chainID: string, tmp: string): Promise<{ fh: fsp.FileHandle; size: number }> {
    try {
      const fh = await fsp.open(this.d.content.blobPath(diffID), 'r');
      return { fh, size: (await fh.stat()).size };
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err;
    }
    const file = path.join(tmp, hexOf(diffID));
    const hasher = new Hasher();
    await pipeline(await this.d.images.layerTar(diffID, chainID), hasher, fs.createWriteStream(file, { mode: 0o600 }));
    const got = hasher.digest();
    if (got !== diffID) throw failedPrecondition(`cannot save layer ${diffID}: the tar made from what is stored has digest ${got}`);
    const fh = await fsp.open(file, 'r');
    return { fh, size: hasher.size };
  }

  private writeArchive(
    images: SaveImage[],
    configs: Map<string, Buffer>,
    layers: Map<string, { fh: fsp.FileHandle; size: number }>,
    docs: SaveDocs,
    cleanup: () => Promise<void>,
  ): Readable {
    const pack = tar.pack();
    pack.on('error', () => {}); // the consumer hears it through its pipeline
    let closed = false;
    const onClose = new Promise<void>((resolve) =>
      pack.once('close', () => {
        closed = true;
        resolve();
      }),
    );
    void onClose.then(cleanup);
    const epoch = new Date(0);
    const when = (t?: string) => {
      const ms = t ? Date.parse(t) : NaN;
      return Number.isFinite(ms) && ms > 0 ? new Date(Math.floor(ms / 1000) * 1000) : epoch;
    };
    const gone = () => new Error('archive stream closed');
    // An entry's errors (the pack destroyed when the client goes away) also
    // reach its callback; unheard 'error' events would kill the daemon.
    const quiet = <T extends { on(ev: 'error', fn: (err: Error) => void): unknown }>(sink: T): T => {
      sink.on('error', () => {});
      return sink;
    };
    const put = (name: string, data: Buffer, mtime: Date) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        quiet(pack.entry({ name, type: 'file', size: data.length, mode: 0o644, mtime }, data, (err) => (err ? reject(err) : resolve())));
      });
    const dir = (name: string) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        quiet(pack.entry({ name, type: 'directory', mode: 0o755, mtime: epoch }, (err) => (err ? reject(err) : resolve())));
      });
    const putFile = (name: string, fh: fsp.FileHandle, size: number, mtime: Date) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        const sink = quiet(pack.entry({ name, type: 'file', size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve())));
        (async () => {
          let off = 0;
          while (off < size) {
            const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - off));
            const { bytesRead } = await fh.read(buf, 0, buf.length, off);
            if (bytesRead === 0) throw new Error(`${name} shrank while saving`);
            off += bytesRead;
            if (closed) throw gone();
            if (!sink.write(buf.subarray(0, bytesRead))) await Promise.race([new Promise<void>((r) => sink.once('drain', () => r())), onClose]);
          }
          sink.end(undefined);
        })().catch((err) => {
          sink.destroy(err);
          reject(err);
        });
      });

    (async () => {
      await dir('blobs/');
      await dir('blobs/sha256/');
      const written = new Set<string>();
      for (const img of images) {
        const mtime = when(img.created);
        for (const l of img.layers) {
          if (written.has(l.diffID)) continue; // shared layers once
          written.add(l.diffID);
          const src = layers.get(l.diffID)!;
          await putFile(blobName(l.diffID), src.fh, src.size, mtime);
        }
        if (!written.has(img.id)) {
          written.add(img.id);
          await put(blobName(img.id), configs.get(img.id)!, mtime);
        }
      }
      for (const m of docs.manifests) {
        if (written.has(m.digest)) continue;
        written.add(m.digest);
        await put(blobName(m.digest), m.data, epoch);
      }
      await put('index.json', docs.index, epoch);
      await put('manifest.json', docs.manifestJSON, epoch);
      await put('oci-layout', docs.ociLayout, epoch);
      if (docs.repositories) await put('repositories', docs.repositories, epoch);
      pack.finalize();
    })()
      .catch((err) => pack.destroy(err))
      // Every byte has been read into the pack: the files can go.
      .finally(() => void cleanup());
    return pack as unknown as Readable;
  }

  // ----- load -----

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
    const applied = applyThrough(feed, stages, e.scratch.dir, { copyTo: e.ingest?.fd ?? spoolFd }).then(
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
    interface Plan {
      configData: Buffer;
      config: ImageConfig;
      layers: string[];
      tags: Reference[];
    }
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
        await applyThrough(fs.createReadStream(f.file), stages, s.dir);
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
        const dest = this.d.content.blobPath(diffID);
        await adoptFile(f.file, dest);
        f.file = dest; // another image may stack the same file on another parent
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
        const dest = this.d.content.blobPath(diffID);
        await adoptFile(f.file, dest);
        f.file = dest; // another image may stack the same file on another parent
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

// Moves a fully written file into the content store: fsync, rename, fsync dir.
async function adoptFile(file: string, dest: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(file, dest);
  await syncDir(path.dirname(dest));
}
