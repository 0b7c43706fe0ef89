// Image records (config blobs in the content store) and the tag index.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { conflict, invalidArgument, notFound } from '../../errors';
import { readJSON, writeFileAtomic } from '../../util/fs';
import type { ContentStore } from '../content/store';
import { chainIDOf } from '../../oci/layers';
import type { LayerSnapshotter } from '../snapshots/snapshotter';
import { familiarString, refString, isImageIdLike, parseReference, withDefaultTag, type Reference } from '../../oci/reference';
import type { ImageConfig, ImageRecord } from './types';

interface Meta {
  lastTagTime?: string;
}

export class ImageStore {
  private images = new Map<string, ImageRecord>();
  // Normalized reference ("docker.io/library/busybox:latest") -> image id.
  private refs = new Map<string, string>();
  private readonly metaDir: string;
  private readonly refsFile: string;

  constructor(root: string, private content: ContentStore, private layers: LayerSnapshotter) {
    this.metaDir = path.join(root, 'images');
    this.refsFile = path.join(root, 'repositories.json');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.metaDir, { recursive: true });
    for (const name of await fsp.readdir(this.metaDir)) {
      if (!name.endsWith('.json')) continue;
      const id = `sha256:${name.slice(0, -5)}`;
      try {
        const meta = (await readJSON<Meta>(path.join(this.metaDir, name))) ?? {};
        const rec = await this.load(id);
        rec.lastTagTime = meta.lastTagTime;
        this.images.set(id, rec);
      } catch {
        // An image whose config or layers went missing is not listed.
      }
    }
    const refs = (await readJSON<Record<string, string>>(this.refsFile)) ?? {};
    for (const [ref, id] of Object.entries(refs)) if (this.images.has(id)) this.refs.set(ref, id);
  }

  private async load(id: string): Promise<ImageRecord> {
    const config = JSON.parse((await this.content.read(id)).toString()) as ImageConfig;
    let chainID: string | undefined;
    let size = 0;
    for (const diffID of config.rootfs?.diff_ids ?? []) {
      chainID = chainIDOf(chainID, diffID);
      const layer = this.layers.get(chainID);
      if (!layer) throw notFound(`layer ${chainID} of image ${id} not found`);
      size += layer.size;
    }
    return { id, config, chainID, size };
  }

  // Registers an image whose config blob and layers are already stored.
  async add(configDigest: string): Promise<ImageRecord> {
    const existing = this.images.get(configDigest);
    if (existing) return existing;
    const rec = await this.load(configDigest);
    await writeFileAtomic(path.join(this.metaDir, `${configDigest.slice(7)}.json`), JSON.stringify({}));
    this.images.set(rec.id, rec);
    return rec;
  }

  list(): ImageRecord[] {
    return [...this.images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.images.get(id);
  }

  // Finds an image by full or short id, or by reference.
  resolve(nameOrId: string): ImageRecord {
    const rec = this.tryResolve(nameOrId);
    if (!rec) throw notFound(`No such image: ${nameOrId}`);
    return rec;
  }

  tryResolve(nameOrId: string): ImageRecord | undefined {
    if (isImageIdLike(nameOrId)) {
      const full = nameOrId.startsWith('sha256:') ? nameOrId : `sha256:${nameOrId}`;
      const exact = this.images.get(full);
      if (exact) return exact;
      const matches = [...this.images.keys()].filter((id) => id.startsWith(full));
      if (matches.length === 1) return this.images.get(matches[0]);
      if (matches.length > 1 && nameOrId.replace('sha256:', '').length >= 1) {
        // Ambiguous prefixes fall through to the name lookup below.
      }
    }
    let ref: Reference;
    try {
      ref = parseReference(nameOrId);
    } catch (err) {
      if (isImageIdLike(nameOrId)) return undefined;
      throw err;
    }
    const id = this.refs.get(refString(withDefaultTag(ref)));
    return id ? this.images.get(id) : undefined;
  }

  refsOf(id: string): Reference[] {
    const out: Reference[] = [];
    for (const [ref, target] of this.refs) if (target === id) out.push(parseReference(ref));
    return out.sort((a, b) => familiarString(a).localeCompare(familiarString(b)));
  }

  async tag(ref: Reference, id: string): Promise<void> {
    if (!this.images.has(id)) throw notFound(`No such image: ${id}`);
    if (ref.digest && !ref.tag) throw invalidArgument('refusing to create a tag with a digest reference');
    this.refs.set(refString(withDefaultTag(ref)), id);
    await this.saveRefs();
    const rec = this.images.get(id)!;
    rec.lastTagTime = new Date().toISOString();
    await writeFileAtomic(path.join(this.metaDir, `${id.slice(7)}.json`), JSON.stringify({ lastTagTime: rec.lastTagTime }));
  }

  // Every tag of one repository ("localhost:5000/busybox" -> its tags).
  tagsOfRepo(repo: Reference): Reference[] {
    const prefix = `${repo.domain}/${repo.path}:`;
    return [...this.refs.keys()].filter((k) => k.startsWith(prefix) && !k.includes('@')).map((k) => parseReference(k));
  }

  // Records a reference as given (digest references included: RepoDigests).
  async setRef(ref: Reference, id: string): Promise<void> {
    if (!this.images.has(id)) throw notFound(`No such image: ${id}`);
    this.refs.set(refString(withDefaultTag(ref)), id);
    await this.saveRefs();
  }

  hasRef(name: string): boolean {
    try {
      return this.refs.has(refString(withDefaultTag(parseReference(name))));
    } catch {
      return false;
    }
  }

  // Removes one tag; returns the reference as stored (with its default tag).
  async untagRef(ref: Reference): Promise<Reference> {
    const full = withDefaultTag(ref);
    const key = refString(full);
    if (!this.refs.has(key)) throw notFound(`No such image: ${familiarString(ref)}`);
    this.refs.delete(key);
    await this.saveRefs();
    return full;
  }

  async delete(id: string): Promise<void> {
    for (const [ref, target] of this.refs) if (target === id) throw conflict(`image ${id} is still tagged as ${ref}`);
    this.images.delete(id);
    await fsp.rm(path.join(this.metaDir, `${id.slice(7)}.json`), { force: true });
  }

  private async saveRefs(): Promise<void> {
    await writeFileAtomic(this.refsFile, JSON.stringify(Object.fromEntries(this.refs), null, 1));
  }
}
