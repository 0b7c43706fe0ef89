// `docker cp` (stat, read and write a path in a container's filesystem) and
// `docker diff` (what the container changed), on running and stopped
// containers alike. Each runs under the container's lifecycle lock, so no
// start, stop or remove races it; a stopped container's root is mounted for
// the operation (read-only unless it writes) and detached after. The work
// inside the root is done by helpers chrooted into it (RootTools), so a
// path, "..", or a symlink the container swaps in meanwhile resolves inside
// the root, never outside: the kernel enforces it.
//
// The container's own mounts are bound into the helper's private view of
// the root before it chroots (binds below): the network files runc binds
// in, and its volumes and host binds (parents first), so cp reads and
// writes the mounted data as dockerd does; PUT checks the read-only flag of
// the mount a path falls in instead of the rootfs's (moby's
// checkIfPathIsInAVolume). tmpfs mounts live only in the container's own
// mount namespace and are not seen. diff and export read the rootfs alone.
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { conflict, invalidArgument, isKind, notFound } from '../../errors';
import { MNT_DETACH, MS_RDONLY, type Host } from '../../host';
import { resolveInRoot } from '../../util/rootfs';
import type { EventPublisher } from '../events/bus';
import { decompressed } from '../images/service';
import type { Bind, RootTools } from '../layers';
import { containerAbsPath, goFileMode, type PathStat } from '../layers/inroot';
import type { RootfsSnapshotter } from '../snapshots/snapshotter';
import { resolveUser } from '../runtime/user';
import { computeChanges, type Change, type LowerStat } from './changes';
import { isRunning, type ContainerRecord } from './record';
import type { MountSpec } from './spec';
import type { ContainerService } from './service';

export type { Change } from './changes';
export type { PathStat } from '../layers/inroot';

export interface ArchiveDeps {
  host: Pick<Host, 'mount' | 'umount'>;
  tools: RootTools;
  snapshots: Pick<RootfsSnapshotter, 'mounts' | 'containerDir' | 'lowers'>;
  // The chain id of an image's top layer ("" for none); undefined when the
  // image is gone.
  imageChain(imageID: string): string | undefined;
  containers: Pick<ContainerService, 'withLock' | 'files' | 'idmapOf' | 'mountStoppedRoot'>;
  events: EventPublisher;
  // A volume's directory on the host.
  volumeDir?(name: string): string;
}

export interface PutOptions {
  noOverwriteDirNonDir?: boolean;
  // Files get the container user's uid and gid (from its /etc/passwd and
  // /etc/group), instead of the tar's; without a user, the tar's are kept.
  copyUIDGID?: boolean;
}

// A path as a client sends it: not empty, no NUL byte.
function checkPath(p: string): string {
  if (p === '') throw invalidArgument('bad parameter: path cannot be empty');
  if (p.includes('\0')) throw invalidArgument(`invalid path ${JSON.stringify(p)}: contains a NUL byte`);
  return containerAbsPath(p);
}

export class ContainerArchives {
  constructor(private d: ArchiveDeps) {}

  // HEAD …/archive: the path's stat.
  async stat(ref: string, p: string): Promise<PathStat> {
    const abs = checkPath(p);
    return this.withRoot(ref, 'ro', (c, root) => this.named(ref, p, this.d.tools.stat(root, abs, this.binds(c))));
  }

  // GET …/archive: the stat and a tar of the path. The lock is held (and a
  // stopped container's root stays mounted) until the tar is read or dropped.
  async get(ref: string, p: string): Promise<{ stat: PathStat; tar: Readable }> {
    const abs = checkPath(p);
    return new Promise((resolve, reject) => {
      this.withRoot(ref, 'ro', async (c, root) => {
        const out = await this.named(ref, p, this.d.tools.pack(root, abs, this.binds(c), this.d.containers.idmapOf(c)));
        const done = new Promise<void>((r) => out.tar.once('close', () => r()));
        this.publish(c, 'archive-path');
        resolve(out);
        await done;
      }).catch(reject);
    });
  }

  // PUT …/archive: extracts a tar into the directory at p.
  async put(ref: string, p: string, input: Readable, o: PutOptions = {}): Promise<void> {
    const abs = checkPath(p);
    await this.withRoot(ref, 'rw', async (c, root) => {
      const inMount = mountOf(c, abs);
      if (inMount?.readonly) throw invalidArgument('mounted volume is marked read-only');
      if (!inMount && c.spec.security.readonlyRootfs) {
        // dockerd resolves the directory first: a missing one is still a 404.
        await this.named(ref, p, this.d.tools.stat(root, abs, this.binds(c)));
        throw invalidArgument('container rootfs is marked read-only');
      }
      let chown: { uid: number; gid: number } | undefined;
      if (o.copyUIDGID && c.spec.process.user) {
        const files = await this.d.tools.readFiles(root, ['/etc/passwd', '/etc/group']);
        const u = resolveUser(c.spec.process.user, files['/etc/passwd'], files['/etc/group']);
        chown = { uid: u.uid, gid: u.gid };
      }
      // dockerd takes a gzip-compressed tar too.
      const tar = await decompressed(input);
      const idmap = this.d.containers.idmapOf(c);
      await this.named(ref, p, this.d.tools.extract(root, abs, tar, { noOverwriteDirNonDir: o.noOverwriteDirNonDir, chown, binds: this.binds(c), ...(idmap ? { idmap } : {}) }));
      this.publish(c, 'extract-to-dir');
    });
  }

  // GET …/changes: `docker diff`.
  changes(ref: string): Promise<Change[]> {
    return this.d.containers.withLock(ref, async (c) => {
      this.usable(c);
      const dir = this.d.snapshots.containerDir(c.id);
      const upper = path.join(dir, 'diff');
      if (!existsSync(upper)) throw notFound(`the writable layer of container ${c.id.slice(0, 12)} is missing`);
      const init = path.join(dir, 'init');
      const lowers = [...(existsSync(init) ? [init] : []), ...this.d.snapshots.lowers(this.chain(c))];
      return computeChanges(this.d.tools.upperEntries(upper), (p) => lowerStat(lowers, p));
    });
  }

  // ---------------------------------------------------------------------

  // The files runc binds into the container (start's choice: a container on
  // another's network gets that one's hosts and resolv.conf), so cp sees
  // and writes them as the container does.
  private binds(c: ContainerRecord): Bind[] {
    const owner = c.spec.network.mode === 'container' && c.spec.network.container ? c.spec.network.container : c.id;
    const f = this.d.containers.files(owner);
    const mounts = c.spec.mounts
      .filter((m) => m.type === 'bind' || (m.type === 'volume' && this.d.volumeDir))
      .map((m) => ({ source: m.type === 'bind' ? m.source : this.d.volumeDir!(m.source), destination: m.target }))
      .sort((a, b) => depth(a.destination) - depth(b.destination));
    return [
      { source: f.resolvConf, destination: '/etc/resolv.conf' },
      { source: f.hostname, destination: '/etc/hostname' },
      { source: f.hosts, destination: '/etc/hosts' },
      ...mounts,
    ];
  }

  private usable(c: ContainerRecord): void {
    if (c.state.status === 'removing' || c.state.status === 'dead') throw conflict(`container ${c.id.slice(0, 12)} is being removed`);
  }

  private chain(c: ContainerRecord): string {
    const chain = this.d.imageChain(c.spec.image.id);
    if (chain === undefined) throw notFound(`image ${c.spec.image.id} of container ${c.id.slice(0, 12)} not found`);
    return chain;
  }

  // Docker's words for a path that is not there.
  private async named<T>(ref: string, p: string, op: Promise<T>): Promise<T> {
    try {
      return await op;
    } catch (err) {
      if (isKind(err, 'NotFound')) throw notFound(`Could not find the file ${p} in container ${ref}`);
      throw err;
    }
  }

  // Runs fn under the container's lock with its root mounted: a running
  // container's is; a stopped one's is mounted here and detached after.
  private withRoot<T>(ref: string, mode: 'ro' | 'rw', fn: (c: ContainerRecord, root: string) => Promise<T>): Promise<T> {
    return this.d.containers.withLock(ref, async (c) => {
      this.usable(c);
      const merged = path.join(this.d.snapshots.containerDir(c.id), 'merged');
      if (isRunning(c.state)) return fn(c, merged);
      const m = this.d.snapshots.mounts(c.id, this.chain(c));
      await fsp.mkdir(m.target, { recursive: true });
      // Mount points a container never started lacks are made, as dockerd's
      // mountVolumes makes them, so cp reaches the mounts: writable then.
      const points = this.binds(c).slice(3);
      const flags = mode === 'ro' && points.length === 0 ? MS_RDONLY : 0;
      // A remapped one's as its start mounts it: showing the ids it shows running.
      if (this.d.containers.idmapOf(c)) this.d.containers.mountStoppedRoot(c, m, flags);
      else this.d.host.mount(m.source, m.target, m.type, flags, m.options.join(','));
      try {
        await makeMountPoints(m.target, points);
        return await fn(c, m.target);
      } finally {
        try {
          this.d.host.umount(m.target, MNT_DETACH);
        } catch {
          // already gone
        }
      }
    });
  }

  private publish(c: ContainerRecord, action: string): void {
    this.d.events.publish('container', action, c.id, { ...c.spec.labels, image: c.spec.image.ref, name: c.name.slice(1) });
  }
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

// Makes each missing mount point (a directory, or an empty file for a file's
// bind) in a stopped container's root. Nothing runs in the root, and each
// path resolves inside it first, so no link leads the mkdir out.
async function makeMountPoints(root: string, binds: Bind[]): Promise<void> {
  for (const b of binds) {
    let isDir: boolean;
    try {
      isDir = (await fsp.stat(b.source)).isDirectory();
    } catch {
      continue; // a source that is gone: nothing to bind
    }
    const dst = await resolveInRoot(root, b.destination);
    try {
      await fsp.lstat(dst);
      continue;
    } catch {
      // missing: made below
    }
    if (isDir) {
      await fsp.mkdir(dst, { recursive: true, mode: 0o755 });
    } else {
      await fsp.mkdir(path.dirname(dst), { recursive: true, mode: 0o755 });
      await fsp.writeFile(dst, '', { flag: 'wx', mode: 0o644 }).catch(() => {});
    }
  }
}

// The container's bind or volume mount a path falls in (the deepest), by
// its path as given, as dockerd checks it.
function mountOf(c: ContainerRecord, abs: string): MountSpec | undefined {
  let best: MountSpec | undefined;
  for (const m of c.spec.mounts) {
    if (m.type === 'tmpfs') continue;
    const t = m.target.replace(/\/+$/, '');
    if (abs !== t && !abs.startsWith(t + '/')) continue;
    if (!best || depth(m.target) > depth(best.target)) best = m;
  }
  return best;
}

// What the first lower layer (top first) holding p has there, following
// symlinks as moby's os.Stat does, but inside that layer. Image and init
// layers never change, so resolving by path strings races nothing.
async function lowerStat(lowers: string[], p: string): Promise<LowerStat | undefined> {
  for (const layer of lowers) {
    try {
      const st = await fsp.lstat(await resolveInRoot(layer, p), { bigint: true });
      return { size: Number(st.size), mode: goFileMode(Number(st.mode)), mtimeNs: st.mtimeNs };
    } catch (err: any) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') continue;
      throw err;
    }
  }
  return undefined;
}
