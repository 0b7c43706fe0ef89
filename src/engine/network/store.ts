// Networks and containers' network state on disk: one JSON file each,
// written atomically (temp file, fsync, rename), as the other stores do.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJSON, writeFileAtomic } from '../../util/fs';
import type { ContainerNet, NetworkRecord, PoolEntry } from './types';

export class NetworkStore {
  constructor(readonly root: string) {}

  private get nets(): string {
    return path.join(this.root, 'networks');
  }
  private get ctrs(): string {
    return path.join(this.root, 'containers');
  }
  private get pooled(): string {
    return path.join(this.root, 'pool');
  }

  async init(): Promise<{ networks: NetworkRecord[]; containers: ContainerNet[]; pool: PoolEntry[] }> {
    await fsp.mkdir(this.nets, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.ctrs, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.pooled, { recursive: true, mode: 0o700 });
    const load = async <T>(dir: string): Promise<T[]> => {
      const out: T[] = [];
      for (const f of await fsp.readdir(dir)) {
        if (!f.endsWith('.json')) {
          if (f.includes('.tmp-')) await fsp.rm(path.join(dir, f), { force: true });
          continue;
        }
        const v = await readJSON<T>(path.join(dir, f)).catch(() => undefined);
        if (v) out.push(v);
      }
      return out;
    };
    return { networks: await load<NetworkRecord>(this.nets), containers: await load<ContainerNet>(this.ctrs), pool: await load<PoolEntry>(this.pooled) };
  }

  saveNetwork(n: NetworkRecord): Promise<void> {
    return writeFileAtomic(path.join(this.nets, `${n.id}.json`), JSON.stringify(n));
  }

  async removeNetwork(id: string): Promise<void> {
    await fsp.rm(path.join(this.nets, `${id}.json`), { force: true });
  }

  // No fsync: a container's wiring is kernel state that a host crash takes
  // with it; what must survive is a crash of the daemon, and the rename
  // does that.
  saveContainer(c: ContainerNet): Promise<void> {
    return writeFileAtomic(path.join(this.ctrs, `${c.id}.json`), JSON.stringify(c), { sync: false });
  }

  async removeContainer(id: string): Promise<void> {
    await fsp.rm(path.join(this.ctrs, `${id}.json`), { force: true });
  }

  // Pool entries: written before their namespace exists and removed after
  // it is gone, so that whatever a crash leaves is found at the next start.
  savePool(p: PoolEntry): Promise<void> {
    return writeFileAtomic(path.join(this.pooled, `${p.key}.json`), JSON.stringify(p), { sync: false });
  }

  async removePool(key: string): Promise<void> {
    await fsp.rm(path.join(this.pooled, `${key}.json`), { force: true });
  }
}
