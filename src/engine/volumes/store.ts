// Volume records under <data-root>/volumes, one directory per volume:
// `_data` (the content, or the mount point of a tmpfs/device volume) and
// `volume.json`, written atomically and last, so a directory without one is
// a create cut short (removed at init). Removing the record is a removal's
// point of no return: a directory left without one is finished at init.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJSON, syncDir, writeFileAtomic } from '../../util/fs';

const RECORD = 'volume.json';

export interface VolumeRecord {
  name: string;
  driver: string;
  labels: Record<string, string>;
  // The local driver's options (type, o, device).
  options: Record<string, string>;
  // RFC 3339, seconds, as dockerd shows it.
  createdAt: string;
  // Containers that mounted it and have not exited since: the last one to
  // go undoes a tmpfs or device mount. Saved, so it survives a restart.
  mountedBy: string[];
}

export class VolumeStore {
  private byName = new Map<string, VolumeRecord>();

  constructor(readonly root: string) {}

  dir(name: string): string {
    return path.join(this.root, name);
  }

  dataDir(name: string): string {
    return path.join(this.root, name, '_data');
  }

  // Reads every record; returns the directories without one.
  async load(): Promise<string[]> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o701 });
    const orphans: string[] = [];
    for (const name of await fsp.readdir(this.root)) {
      const rec = await readJSON<VolumeRecord>(path.join(this.root, name, RECORD)).catch(() => undefined);
      if (!rec || rec.name !== name) {
        orphans.push(name);
        continue;
      }
      rec.mountedBy ??= [];
      this.byName.set(name, rec);
    }
    return orphans;
  }

  get(name: string): VolumeRecord | undefined {
    return this.byName.get(name);
  }

  list(): VolumeRecord[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // Makes the directories, then the record; visible once both are there.
  async create(rec: VolumeRecord): Promise<void> {
    await fsp.mkdir(this.dir(rec.name), { mode: 0o701 });
    try {
      await fsp.mkdir(this.dataDir(rec.name), { mode: 0o755 });
      await writeFileAtomic(path.join(this.dir(rec.name), RECORD), JSON.stringify(rec));
    } catch (err) {
      await fsp.rm(this.dir(rec.name), { recursive: true, force: true });
      throw err;
    }
    this.byName.set(rec.name, rec);
  }

  // A change of mountedBy: no fsync, a host crash ends the mounts too.
  async save(rec: VolumeRecord, sync = false): Promise<void> {
    await writeFileAtomic(path.join(this.dir(rec.name), RECORD), JSON.stringify(rec), { sync });
  }

  // The record goes first (the point of no return), then the directory.
  async remove(name: string): Promise<void> {
    await fsp.rm(path.join(this.dir(name), RECORD), { force: true });
    await syncDir(this.dir(name)).catch(() => {});
    this.byName.delete(name);
    await this.removeDir(name);
  }

  async removeDir(name: string): Promise<void> {
    await fsp.rm(this.dir(name), { recursive: true, force: true });
  }
}
