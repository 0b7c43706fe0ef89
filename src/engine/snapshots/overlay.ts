// Overlay snapshotter. Image layers are read-only directories keyed by chain
// id; a container gets an upper and work dir on top. It returns mount
// descriptions and never mounts anything itself (the runtime side does).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { notFound } from '../../errors';
import { chainIDOf } from '../../oci/layers';
import { readJSON, writeFileAtomic } from '../../util/fs';
import { KeyedLock } from '../../util/lock';

import type { LayerInfo, Mount, ScratchLayer, Snapshotter } from './snapshotter';

export type { LayerInfo, Mount, ScratchLayer } from './snapshotter';

const hex = (d: string) => d.replace(/^sha256:/, '');

// Docker's init layer: what the runtime mounts over (and the marker file
// tools look for), made in a layer of its own between the image and the
// container's writable layer. runc finds every mount point there, so it
// creates none in the writable layer, and a commit holds only what the
// container itself changed. It is the same for every container, so it is
// made once (<root>/init) and each container's `init` links to it: one
// symlink at create instead of a dozen files.
const INIT_DIRS = ['dev/pts', 'dev/shm', 'proc', 'sys', 'etc'];
const INIT_FILES = ['.dockerenv', 'etc/resolv.conf', 'etc/hosts', 'etc/hostname', 'dev/console'];
const INIT_LINKS: [string, string][] = [['etc/mtab', '/proc/mounts']];

async function makeInitLayer(dir: string): Promise<void> {
  for (const d of INIT_DIRS) await fsp.mkdir(path.join(dir, d), { recursive: true, mode: 0o755 });
  for (const f of INIT_FILES) await fsp.writeFile(path.join(dir, f), '', { mode: 0o755 });
  for (const [link, target] of INIT_LINKS) await fsp.symlink(target, path.join(dir, link));
}

export class OverlaySnapshotter implements Snapshotter {
  private layers = new Map<string, LayerInfo>();
  // Two pulls or imports of the same layer may finish together.
  private commitLock = new KeyedLock();

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    for (const d of ['layers', 'l', 'containers']) await fsp.mkdir(path.join(this.root, d), { recursive: true });
    // A layer is visible only once its meta.json exists; drop unfinished ones.
    await fsp.rm(path.join(this.root, 'tmp'), { recursive: true, force: true });
    await fsp.mkdir(path.join(this.root, 'tmp'));
    for (const name of await fsp.readdir(path.join(this.root, 'layers'))) {
      const info = await readJSON<LayerInfo>(path.join(this.root, 'layers', name, 'meta.json'));
      if (info) this.layers.set(info.chainID, info);
      else await fsp.rm(path.join(this.root, 'layers', name), { recursive: true, force: true });
    }
    const links = new Set([...this.layers.values()].map((l) => l.link));
    for (const name of await fsp.readdir(path.join(this.root, 'l'))) {
      if (!links.has(name)) await fsp.rm(path.join(this.root, 'l', name), { force: true });
    }
  }

  get(chainID: string): LayerInfo | undefined {
    return this.layers.get(chainID);
  }

  list(): LayerInfo[] {
    return [...this.layers.values()];
  }

  diffDir(chainID: string): string {
    return path.join(this.root, 'layers', hex(chainID), 'diff');
  }

  // A layer tree is filled in a scratch dir first; it becomes a layer only
  // when committed on its parent. Layers of one image can thus be
  // extracted in parallel and in any order, then committed bottom-up.
  async scratch(): Promise<ScratchLayer> {
    const tmp = path.join(this.root, 'tmp', randomBytes(8).toString('hex'));
    await fsp.mkdir(path.join(tmp, 'diff'), { recursive: true });
    return { tmp, dir: path.join(tmp, 'diff') };
  }

  async discard(s: ScratchLayer): Promise<void> {
    await fsp.rm(s.tmp, { recursive: true, force: true });
  }

  // Moves a filled scratch dir into place as the layer (parent, diffID). If
  // that chain id exists already, the scratch copy is dropped.
  async commit(s: ScratchLayer, parent: string | undefined, diffID: string, size: number): Promise<LayerInfo> {
    if (parent && !this.layers.has(parent)) throw notFound(`parent layer ${parent} not found`);
    const chainID = chainIDOf(parent, diffID);
    try {
      return await this.commitLock.run(chainID, async () => {
        const existing = this.layers.get(chainID);
        if (existing) return existing;
        const link = randomBytes(13).toString('hex').slice(0, 26).toUpperCase();
        const info: LayerInfo = { chainID, diffID, parent, size, link };
        const dir = path.join(this.root, 'layers', hex(chainID));
        await fsp.rename(s.tmp, dir);
        await fsp.symlink(path.join('..', 'layers', hex(chainID), 'diff'), path.join(this.root, 'l', link));
        await writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(info));
        this.layers.set(chainID, info);
        return info;
      });
    } finally {
      await this.discard(s);
    }
  }

  // scratch + fill + commit in one step. fill returns the layer's diffID and
  // the size of its uncompressed tar.
  async createLayer(parent: string | undefined, fill: (dir: string) => Promise<{ diffID: string; size: number }>): Promise<LayerInfo> {
    if (parent && !this.layers.has(parent)) throw notFound(`parent layer ${parent} not found`);
    const s = await this.scratch();
    try {
      const { diffID, size } = await fill(s.dir);
      return await this.commit(s, parent, diffID, size);
    } finally {
      await this.discard(s);
    }
  }

  async removeLayer(chainID: string): Promise<void> {
    const info = this.layers.get(chainID);
    if (!info) return;
    this.layers.delete(chainID);
    const dir = path.join(this.root, 'layers', hex(chainID));
    // Remove meta first so a crash midway leaves an invisible, collectable dir.
    await fsp.rm(path.join(dir, 'meta.json'), { force: true });
    await fsp.rm(path.join(this.root, 'l', info.link), { force: true });
    await fsp.rm(dir, { recursive: true, force: true });
  }

  // The chain ids of a layer and the layers under it, top first; it stops
  // at a layer that is not stored.
  chain(chainID: string | undefined): string[] {
    const out: string[] = [];
    for (let c = chainID; c && this.layers.has(c); c = this.layers.get(c)!.parent) out.push(c);
    return out;
  }

  // Lower dirs from top to bottom, as overlayfs wants them.
  lowers(chainID: string): string[] {
    const out: string[] = [];
    for (let c: string | undefined = chainID; c; ) {
      const info = this.layers.get(c);
      if (!info) throw notFound(`layer ${c} not found`);
      out.push(path.join(this.root, 'l', info.link));
      c = info.parent;
    }
    return out;
  }

  containerDir(id: string): string {
    return path.join(this.root, 'containers', id);
  }

  // Makes the init and writable layers for a container (once) and returns
  // how to mount them.
  async prepare(id: string, chainID: string, o: { volatile?: boolean } = {}): Promise<Mount> {
    const dir = this.containerDir(id);
    const shared = await this.sharedInit();
    await fsp.mkdir(dir, { recursive: true });
    await Promise.all([
      ...['diff', 'work', 'merged'].map((d) => fsp.mkdir(path.join(dir, d), { recursive: true })),
      // A container from before the shared layer keeps its own init dir.
      fsp.symlink(shared, path.join(dir, 'init')).catch((err) => {
        if (err.code !== 'EEXIST') throw err;
      }),
      // A volatile mount leaves work/work/incompat/volatile behind, and
      // overlayfs refuses to mount over it again (after a crash the upper
      // dir may be torn). Such a container is removed when the daemon
      // starts again, so a marker still here was left by a clean unmount
      // of our own (the container ran before) and may go.
      o.volatile ? fsp.rm(path.join(dir, 'work', 'work', 'incompat'), { recursive: true, force: true }) : undefined,
    ]);
    const m = this.mounts(id, chainID);
    return o.volatile ? { ...m, options: [...m.options, 'volatile'] } : m;
  }

  // The init layer all containers share, made on first use. Filled aside and
  // renamed: a crash leaves no half-made init layer.
  private initReady?: Promise<string>;
  private sharedInit(): Promise<string> {
    this.initReady ??= (async () => {
      const dir = path.join(this.root, 'init');
      if (existsSync(dir)) return dir;
      const tmp = path.join(this.root, 'init.tmp');
      await fsp.rm(tmp, { recursive: true, force: true });
      await fsp.mkdir(tmp, { mode: 0o755 });
      await makeInitLayer(tmp);
      await fsp.rename(tmp, dir);
      return dir;
    })().catch((err) => {
      this.initReady = undefined;
      throw err;
    });
    return this.initReady;
  }

  // Containers made before init layers existed have none; they mount without.
  mounts(id: string, chainID: string): Mount {
    const dir = this.containerDir(id);
    const init = path.join(dir, 'init');
    const lowers = [...(existsSync(init) ? [init] : []), ...this.lowers(chainID)];
    return {
      type: 'overlay',
      source: 'overlay',
      target: path.join(dir, 'merged'),
      // Diffs of the upper dir (commit, export) rely on plain whiteouts, so
      // keep overlay from writing redirects or metacopy-only files.
      options: [`lowerdir=${lowers.join(':')}`, `upperdir=${path.join(dir, 'diff')}`, `workdir=${path.join(dir, 'work')}`, 'redirect_dir=off', 'metacopy=off'],
    };
  }

  async removeContainer(id: string): Promise<void> {
    await fsp.rm(this.containerDir(id), { recursive: true, force: true });
  }

  // Bytes in a container's writable layer (SizeRw).
  async upperSize(id: string): Promise<number> {
    return dirSize(path.join(this.containerDir(id), 'diff'));
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await fsp.lstat(p)).size;
  }
  return total;
}
