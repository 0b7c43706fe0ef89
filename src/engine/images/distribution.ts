// Where each layer came from: diffID -> compressed blobs seen in registries
// (digest, media type, and the repositories that hold them). Push uses it to
// skip uploads, mount across repositories, and re-send identical bytes.
import * as path from 'node:path';
import { readJSON, writeFileAtomic } from '../../util/fs';

export interface BlobSource {
  digest: string;
  mediaType: string;
  size: number;
  repos: string[]; // "localhost:5000/library/busybox"
  urls?: string[]; // a foreign layer's own locations, from its manifest
}

export class DistributionMetadata {
  private byDiffID = new Map<string, BlobSource[]>();
  private file: string;
  private saving: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.file = path.join(root, 'distribution.json');
  }

  async init(): Promise<void> {
    const data = (await readJSON<Record<string, BlobSource[]>>(this.file)) ?? {};
    for (const [k, v] of Object.entries(data)) this.byDiffID.set(k, v);
  }

  diffIDs(): string[] {
    return [...this.byDiffID.keys()];
  }

  sources(diffID: string): BlobSource[] {
    return this.byDiffID.get(diffID) ?? [];
  }

  async add(diffID: string, blob: Omit<BlobSource, 'repos'>, repo: string): Promise<void> {
    const list = this.byDiffID.get(diffID) ?? [];
    let entry = list.find((b) => b.digest === blob.digest);
    if (!entry) {
      entry = { ...blob, repos: [] };
      list.push(entry);
    }
    if (!entry.repos.includes(repo)) entry.repos.push(repo);
    this.byDiffID.set(diffID, list);
    await this.save();
  }

  async forget(diffID: string): Promise<void> {
    if (this.byDiffID.delete(diffID)) await this.save();
  }

  // Writes are serialized so concurrent pulls cannot interleave renames.
  private save(): Promise<void> {
    this.saving = this.saving.then(() => writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.byDiffID)))).catch(() => {});
    return this.saving;
  }
}
