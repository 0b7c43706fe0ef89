// The image archive formats of `docker save` and `docker load`:
//   oci-layout, index.json               OCI image layout (one descriptor per tag)
//   blobs/sha256/<hex>                   configs, OCI manifests, and layers as
//                                        uncompressed tars whose digest is the diffID
//   manifest.json, repositories          Docker's own index of the same blobs
// save writes both (Docker 25+'s combined layout); load reads either, and
// Docker's legacy one (<id>/layer.tar, <id>.json and manifest.json). Pure:
// names, documents and their checks; no file is touched here.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { invalidArgument } from '../../errors';
import type { Descriptor } from '../../oci/descriptor';
import { MEDIA_TYPES } from '../../oci/mediatypes';
import { hostPlatform } from '../../oci/platform';
import { familiarString, parseReference, refString, withDefaultTag, type Reference } from '../../oci/reference';
import { DIGEST_RE } from '../content/store';
import type { ImageConfig } from './types';

// The version of the OCI image layout save writes (oci-layout).
const OCI_LAYOUT_VERSION = '1.0.0';

export const hexOf = (d: string) => d.replace(/^sha256:/, '');
export const blobName = (d: string) => `blobs/sha256/${hexOf(d)}`;


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
