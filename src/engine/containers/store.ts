// Container records: one directory per container under <data-root>/containers,
// the record written atomically as its last file, and an in-memory index by
// id, name and id prefix. A directory without a record is a create or a
// removal cut short; load() reports it so the caller can finish the job.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArgument } from '../../errors';
import { readJSON, syncDir, writeFileAtomic } from '../../util/fs';
import { fromLegacy, isLegacy } from './legacy';
import type { ContainerRecord } from './record';

const RECORD = 'config.v2.json';

export interface ContainerFiles {
  dir: string;
  log: string;
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>(); // "/name" -> id

  constructor(readonly root: string) {}

  files(id: string): ContainerFiles {
    const dir = path.join(this.root, id);
    return {
      dir,
      log: path.join(dir, 'container.log'),
      hosts: path.join(dir, 'hosts'),
      hostname: path.join(dir, 'hostname'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
  }

  // Reads every record; `orphans` are directories with none.
  async load(): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
    await fsp.mkdir(this.root, { recursive: true });
    const orphans: string[] = [];
    for (const id of await fsp.readdir(this.root)) {
      const raw = await readJSON<unknown>(path.join(this.root, id, RECORD)).catch(() => undefined);
      if (!raw || typeof raw !== 'object') {
        orphans.push(id);
        continue;
      }
      const rec = isLegacy(raw) ? fromLegacy(raw) : (raw as ContainerRecord);
      this.add(rec);
    }
    return { records: this.list(), orphans };
  }

  // ----- the index -----

  add(rec: ContainerRecord): void {
    this.byId.set(rec.id, rec);
    this.byName.set(rec.name, rec.id);
  }

  drop(rec: ContainerRecord): void {
    this.byId.delete(rec.id);
    if (this.byName.get(rec.name) === rec.id) this.byName.delete(rec.name);
  }

  // Holds a name for a container being made; false when it is taken.
  reserveName(name: string, id: string): boolean {
    if (this.byName.has(name)) return false;
    this.byName.set(name, id);
    return true;
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  holderOf(name: string): string | undefined {
    return this.byName.get(name);
  }

  // By full id, name (with or without "/"), or unique id prefix.
  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.byId.get(byName);
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = [...this.byId.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw invalidArgument(`multiple containers match the prefix ${ref}`);
      if (matches.length === 1) return this.byId.get(matches[0]);
    }
    return undefined;
  }

  // Newest first.
  list(): ContainerRecord[] {
    return [...this.byId.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  // ----- on disk -----

  // Not recursive: the root exists, and a recursive mkdir reports a full
  // disk as ENOENT.
  async makeDir(id: string): Promise<void> {
    await fsp.mkdir(path.join(this.root, id));
  }

  // Always atomic; fsync is skipped only where a restart repairs the loss.
  // The record is taken as it is now, and the writes of one record land in
  // the order they were asked for: a save that started earlier (a health
  // result's, without fsync) never lands over a later one (an exit's).
  // Without fsync the write is made at once: a few KB into the page cache
  // and a rename, where the thread pool took four round trips (open, write,
  // close, rename) on the path of every start and of run --rm's create.
  save(rec: ContainerRecord, sync = true): Promise<void> {
    const data = JSON.stringify(rec);
    const file = path.join(this.root, rec.id, RECORD);
    return this.inOrder(rec.id, async () => (sync ? writeFileAtomic(file, data, { sync }) : writeQuick(file, data)));
  }

  // The point of no return of a removal: once the record is gone, a restart
  // finishes the job from the orphaned directory. Needs no free space.
  // Without sync, a host crash may bring the record back.
  forget(id: string, sync = true): Promise<void> {
    return this.inOrder(id, async () => {
      await fsp.rm(path.join(this.root, id, RECORD), { force: true });
      if (sync) await syncDir(path.join(this.root, id)).catch(() => {});
    });
  }

  // The last write asked for, per record.
  private writes = new Map<string, Promise<void>>();
  private inOrder(id: string, write: () => Promise<void>): Promise<void> {
    const p = (this.writes.get(id) ?? Promise.resolve()).then(write);
    const tail = p.catch(() => {});
    this.writes.set(id, tail);
    void tail.then(() => { if (this.writes.get(id) === tail) this.writes.delete(id); });
    return p;
  }

  async removeDir(id: string): Promise<void> {
    await fsp.rm(path.join(this.root, id), { recursive: true, force: true });
  }
}

// An atomic replace without fsync, done at once (see save).
function writeQuick(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}-${(quickSeq = (quickSeq + 1) % 1e9)}`;
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (err) {
    // A full disk fails the write: the partial temp file must not keep the space.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
let quickSeq = 0;
