// Volumes on the local disk (Docker's `local` driver) and the container
// mounts built on them: named and anonymous volumes under the data root,
// tmpfs and device volumes mounted at first use and unmounted when their
// last user exits, host binds, and tmpfs mounts. Copy-up fills a new empty
// volume from the image's content at its path, through the same chrooted
// helpers as layers (pack the tree, apply it into the volume), so no link in
// the image can lead the copy out of either.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, conflict, invalidArgument, notFound } from '../../errors';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT, type Host } from '../../host';
import { KeyedLock } from '../../util/lock';
import { resolveInRoot } from '../../util/rootfs';
import type { MountSpec } from '../containers/spec';
import type { EventPublisher } from '../events/bus';
import { applyThrough, type LayerTars } from '../layers';
import type { OciMount } from '../runtime/spec';
import { mergeTmpfsOptions, mountCall, needsMount, validateLocalOptions, validateVolumeName } from './options';
import type { VolumeRecord, VolumeStore } from './store';
import type { Volumes } from './volumes';

export type { VolumeRecord } from './store';

// The label dockerd (23+) gives anonymous volumes; prune (API 1.42+) takes
// only volumes with it unless asked for all.
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface LocalVolumeDeps {
  host: Pick<Host, 'mount' | 'umount'>;
  store: VolumeStore;
  tars: Pick<LayerTars, 'apply' | 'packDir'>;
  events: EventPublisher;
  // Ids of the containers whose records mount the volume (any state).
  users(name: string): string[];
  log(level: 'info' | 'warn' | 'error', msg: string): void;
}

export interface CreateVolume {
  name?: string;
  driver?: string;
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

export class LocalVolumes implements Volumes {
  private lock = new KeyedLock();
  // Volumes a create in flight stands on (no record names them yet).
  private pending = new Map<string, Set<string>>();

  constructor(private d: LocalVolumeDeps) {}

  // Loads the records; drops directories a create or removal left.
  async init(): Promise<void> {
    for (const name of await this.d.store.load()) {
      this.unmountData(name);
      await this.d.store.removeDir(name);
    }
  }

  // After the containers are restored: a container that is not running
  // holds no mount (it exited while the daemon was away, or its exit's
  // cleanup was cut short).
  async reconcile(running: (id: string) => boolean): Promise<void> {
    for (const v of this.d.store.list()) {
      const gone = v.mountedBy.filter((id) => !running(id));
      for (const id of gone) await this.dropUser(v, id, false);
    }
  }

  // ----- the volume API -----

  async create(o: CreateVolume): Promise<VolumeRecord> {
    const driver = o.driver || 'local';
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const name = o.name || randomBytes(32).toString('hex');
    validateVolumeName(name);
    const options = o.options ?? {};
    return this.lock.run(`v:${name}`, async () => {
      const existing = this.d.store.get(name);
      if (existing) return existing; // as dockerd: creating a name that exists returns it
      validateLocalOptions(options);
      // As dockerd: a volume created without a name is anonymous (prune
      // takes it without `all`).
      const labels = o.name ? (o.labels ?? {}) : { [ANONYMOUS_LABEL]: '', ...(o.labels ?? {}) };
      const rec: VolumeRecord = { name, driver, labels, options, createdAt: rfc3339(new Date()), mountedBy: [] };
      await this.d.store.create(rec);
      this.d.events.publish('volume', 'create', name, { driver });
      return rec;
    });
  }

  get(name: string): VolumeRecord {
    const v = this.d.store.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  list(): VolumeRecord[] {
    return this.d.store.list();
  }

  mountpoint(name: string): string {
    return this.d.store.dataDir(name);
  }

  // Containers that use the volume, including creates in flight.
  usersOf(name: string): string[] {
    const ids = new Set(this.d.users(name));
    for (const [id, names] of this.pending) if (names.has(name)) ids.add(id);
    return [...ids];
  }

  // dockerd: a volume some container uses is not removed, force or not;
  // force only makes a missing one no error.
  async remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    await this.lock.run(`v:${name}`, async () => {
      const v = this.d.store.get(name);
      if (!v) {
        if (o.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.usersOf(name);
      if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      if (v.mountedBy.length) throw conflict(`remove ${name}: volume is in use - [${v.mountedBy.join(', ')}]`);
      this.unmountData(name);
      await this.d.store.remove(name);
      this.d.events.publish('volume', 'destroy', name, { driver: v.driver });
    });
  }

  // Removes the volumes no container uses that pass keep(); what each held.
  async prune(keep: (v: VolumeRecord) => boolean): Promise<{ names: string[]; reclaimed: number }> {
    const names: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if (!keep(v) || this.usersOf(v.name).length || v.mountedBy.length) continue;
      const size = await dirSize(this.d.store.dataDir(v.name));
      try {
        await this.remove(v.name);
      } catch (err) {
        if (err instanceof BerthError && (err.kind === 'Conflict' || err.kind === 'NotFound')) continue;
        throw err;
      }
      names.push(v.name);
      reclaimed += size;
    }
    return { names, reclaimed };
  }

  // `system df`: the bytes in the volume (a tmpfs or device volume's while
  // it is mounted, as dockerd counts them) and its users.
  async usage(name: string): Promise<{ size: number; refCount: number }> {
    this.get(name);
    return { size: await dirSize(this.d.store.dataDir(name)), refCount: this.usersOf(name).length };
  }

  // ----- the container side (Volumes) -----

  async prepare(containerId: string, mounts: MountSpec[]): Promise<MountSpec[]> {
    const seen = new Set<string>();
    for (const m of mounts) {
      if (seen.has(m.target)) throw invalidArgument(`Duplicate mount point: ${m.target}`);
      seen.add(m.target);
    }
    const out: MountSpec[] = [];
    const held = new Set<string>();
    this.pending.set(containerId, held);
    try {
      for (const m of mounts) {
        if (m.type === 'bind') {
          await this.prepareBind(m);
          out.push(m);
        } else if (m.type === 'volume') {
          if (m.driver && m.driver !== 'local') throw notFound(`error looking up volume plugin ${m.driver}: plugin "${m.driver}" not found`);
          const labels = m.anonymous ? { [ANONYMOUS_LABEL]: '', ...(m.labels ?? {}) } : m.labels;
          const v = this.d.store.get(m.source) ?? (await this.create({ name: m.source || undefined, options: m.driverOptions, labels }));
          held.add(v.name);
          out.push({ ...m, source: v.name, driver: 'local' });
        } else {
          out.push(m);
        }
      }
    } catch (err) {
      this.pending.delete(containerId);
      await this.release(containerId, out, { removeAnonymous: true });
      throw err;
    }
    // Held until the record that names them is saved (settled()).
    return out;
  }

  settled(containerId: string): void {
    this.pending.delete(containerId);
  }

  private async prepareBind(m: MountSpec): Promise<void> {
    try {
      await fsp.lstat(m.source);
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err;
      if (!m.createHostPath) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
      // As dockerd for -v: a missing host path becomes a directory.
      await fsp.mkdir(m.source, { recursive: true, mode: 0o755 });
    }
  }

  async mount(containerId: string, mounts: MountSpec[], rootfs: string, o: { remap?: { uid: number; gid: number } } = {}): Promise<OciMount[]> {
    const out: { depth: number; i: number; m: OciMount }[] = [];
    try {
      for (const [i, m] of mounts.entries()) {
        out.push({ depth: depth(m.target), i, m: await this.ociMount(containerId, m, rootfs, o.remap) });
      }
    } catch (err) {
      await this.unmount(containerId, mounts);
      throw err;
    }
    // Parents before children, otherwise as given (a stable sort).
    return out.sort((a, b) => a.depth - b.depth || a.i - b.i).map((x) => x.m);
  }

  private async ociMount(containerId: string, m: MountSpec, rootfs: string, remap?: { uid: number; gid: number }): Promise<OciMount> {
    const ro = m.readonly ? ['ro'] : [];
    if (m.type === 'tmpfs') {
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: [...mergeTmpfsOptions(m.tmpfsOptions ?? []), ...ro] };
    }
    if (m.type === 'bind') {
      await this.prepareBind(m);
      return { destination: m.target, type: 'bind', source: m.source, options: [m.nonRecursive ? 'bind' : 'rbind', m.propagation || 'rprivate', ...ro] };
    }
    const data = await this.lock.run(`v:${m.source}`, async () => {
      const v = this.d.store.get(m.source);
      if (!v) throw notFound(`error while mounting volume '${m.source}': no such volume`);
      if (!v.mountedBy.includes(containerId)) {
        if (v.mountedBy.length === 0 && needsMount(v.options)) this.mountData(v);
        v.mountedBy.push(containerId);
        await this.d.store.save(v);
      }
      return this.d.store.dataDir(v.name);
    });
    if (!m.noCopy) await this.copyUp(rootfs, m.target, data);
    if (remap) await this.giveTo(data, remap);
    this.d.events.publish('volume', 'mount', m.source, {
      container: containerId, destination: m.target, driver: m.driver || 'local', propagation: m.propagation ?? '', 'read/write': String(!m.readonly),
    });
    return { destination: m.target, type: 'bind', source: data, options: ['rbind', 'rprivate', ...ro] };
  }

  async unmount(containerId: string, mounts: MountSpec[]): Promise<void> {
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      await this.lock.run(`v:${m.source}`, async () => {
        const v = this.d.store.get(m.source);
        if (v && v.mountedBy.includes(containerId)) await this.dropUser(v, containerId, true);
      });
    }
  }

  private async dropUser(v: VolumeRecord, containerId: string, publish: boolean): Promise<void> {
    v.mountedBy = v.mountedBy.filter((id) => id !== containerId);
    if (v.mountedBy.length === 0 && needsMount(v.options)) this.unmountData(v.name);
    await this.d.store.save(v).catch((err) => this.d.log('warn', `saving volume ${v.name}: ${(err as Error).message}`));
    if (publish) this.d.events.publish('volume', 'unmount', v.name, { container: containerId, driver: v.driver });
  }

  async release(containerId: string, mounts: MountSpec[], o: { removeAnonymous: boolean }): Promise<void> {
    if (!o.removeAnonymous) return;
    for (const m of mounts) {
      if (m.type !== 'volume' || !m.anonymous || !m.source) continue;
      if (this.usersOf(m.source).some((id) => id !== containerId)) continue; // another container's too (--volumes-from)
      await this.remove(m.source, { force: true }).catch((err) => {
        if (!(err instanceof BerthError && err.kind === 'Conflict')) this.d.log('warn', `removing volume ${m.source}: ${(err as Error).message}`);
      });
    }
  }

  // ----- mounts of the volume's own -----

  private mountData(v: VolumeRecord): void {
    const c = mountCall(v.options);
    const target = this.d.store.dataDir(v.name);
    try {
      this.d.host.mount(c.source, target, c.fstype, c.flags, c.data || null);
      if (c.remountReadonly) this.d.host.mount('', target, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null);
    } catch (err) {
      throw invalidArgument(`error while mounting volume '${target}': failed to mount local volume: mount ${c.source}:${target}, flags: 0x${c.flags.toString(16)}, data: ${c.data}: ${(err as Error).message}`);
    }
  }

  private unmountData(name: string): void {
    try {
      this.d.host.umount(this.d.store.dataDir(name), MNT_DETACH);
    } catch (err: any) {
      if (err.code !== 'EINVAL' && err.code !== 'ENOENT') this.d.log('warn', `unmount volume ${name}: ${err.message}`);
    }
  }

  // userns-remap: an empty volume still host root's (nothing copied up:
  // the image has nothing at its path) goes to the container's root, which
  // could not write it otherwise. A remapped root's copy-up already comes
  // with its ids: the root it reads shows them (the idmapped layers).
  private async giveTo(data: string, ids: { uid: number; gid: number }): Promise<void> {
    const st = await fsp.lstat(data);
    if (st.uid !== 0 || st.gid !== 0 || (await fsp.readdir(data)).length) return;
    await fsp.chown(data, ids.uid, ids.gid);
  }

  // Fills an empty volume from what the container's root has at target
  // (the image's content; nothing runs in the root yet), keeping owners,
  // modes and xattrs. The source resolves inside the root; the packer
  // chroots into it and the applier into the volume.
  private async copyUp(rootfs: string, target: string, data: string): Promise<void> {
    const src = await resolveInRoot(rootfs, target);
    let st;
    try {
      st = await fsp.lstat(src);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    if ((await fsp.readdir(data)).length) return;
    if ((await fsp.readdir(src)).length) await applyThrough(this.d.tars as LayerTars, this.d.tars.packDir(src), [], data);
    await fsp.chown(data, st.uid, st.gid);
    await fsp.chmod(data, st.mode & 0o7777);
  }
}

const depth = (p: string): number => path.posix.normalize(p).split('/').filter(Boolean).length;

// dockerd's CreatedAt: RFC 3339 in seconds, with the zone offset.
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

// The bytes of the files under dir (hard links once), as dockerd's
// directory.Size counts them: directories themselves add nothing.
export async function dirSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      let st;
      try {
        st = await fsp.lstat(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
