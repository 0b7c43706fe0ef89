// `docker commit` (a container's writable layer becomes a new image on top
// of its image) and `docker export` (a tar of a container's whole filesystem).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, conflict, notFound } from '../../errors';
import { MNT_DETACH, MS_RDONLY, type Host } from '../../host';
import { EMPTY_LAYER_DIFFID } from '../../oci/layers';
import { hostPlatform } from '../../oci/platform';
import type { Reference } from '../../oci/reference';
import type { ContentStore } from '../content/store';
import { ingestTee } from '../content/streams';
import type { ImageStore } from '../images/store';
import type { HistoryEntry, ImageConfig, ImageRecord, ImageRunConfig } from '../images/types';
import { applyThrough, LayerHelpers, type LayerTars } from '../layers';
import { packTree } from '../layers/pack';
import type { Snapshotter } from '../snapshots/snapshotter';
import { isRunning, type ContainerRecord } from './record';
import type { ContainerService } from './service';

export interface CommitOptions {
  // Where to tag the new image, if anywhere (validated by the caller).
  target?: Reference;
  comment?: string;
  author?: string;
  // What the request sets (its config with --change applied); the rest
  // comes from `container`.
  requested: ImageRunConfig;
  // The container's run config, as the front-end that made it keeps it.
  container: ImageRunConfig;
  // Recorded as the image's container_config, untouched.
  containerConfig: unknown;
  // Freeze a running container while its layer is read.
  pause?: boolean;
  // The history entry's created_by (the builder's step); the container's
  // command when unset.
  createdBy?: string;
  // The builder's own container, which has exited (or never started) and
  // which nothing else can write to: its layer is packed in berthd itself
  // instead of in a chrooted berth-pack process (a Node start, 0.1–0.5 s
  // per build step on a loaded machine). With every process of the
  // container gone, nothing can swap a path for a symlink while we walk;
  // packTree's O_NOFOLLOW opens and inode checks remain.
  quiescent?: boolean;
}

export interface SnapshotDeps {
  host: Host;
  content: ContentStore;
  snapshots: Snapshotter;
  imageStore: ImageStore;
  containers: ContainerService;
}

// ---------------------------------------------------------------------------
// Pure helpers

const envKey = (kv: string) => kv.split('=')[0];

// Docker's commit merge: what the request (with --change applied) leaves
// unset comes from the container's config.
export function mergeCommitConfig(user: ImageRunConfig, container: ImageRunConfig): ImageRunConfig {
  const c: ImageRunConfig = { ...user };
  if (!c.User) c.User = container.User;
  if (!c.ExposedPorts || Object.keys(c.ExposedPorts).length === 0) c.ExposedPorts = container.ExposedPorts;
  else c.ExposedPorts = { ...(container.ExposedPorts ?? {}), ...c.ExposedPorts };
  if (!c.Env || c.Env.length === 0) c.Env = container.Env;
  else {
    const env = [...c.Env];
    for (const kv of container.Env ?? []) if (!env.some((e) => envKey(e) === envKey(kv))) env.push(kv);
    c.Env = env;
  }
  c.Labels = { ...(container.Labels ?? {}), ...(c.Labels ?? {}) };
  if (!c.Entrypoint || c.Entrypoint.length === 0) {
    if (!c.Cmd || c.Cmd.length === 0) c.Cmd = container.Cmd;
    if (c.Entrypoint === undefined || c.Entrypoint === null) c.Entrypoint = container.Entrypoint;
  }
  if (c.Healthcheck === undefined && container.Healthcheck !== undefined) c.Healthcheck = container.Healthcheck;
  if (!c.WorkingDir) c.WorkingDir = container.WorkingDir;
  if (!c.Volumes || Object.keys(c.Volumes).length === 0) c.Volumes = container.Volumes;
  else c.Volumes = { ...(container.Volumes ?? {}), ...c.Volumes };
  if (!c.StopSignal) c.StopSignal = container.StopSignal;
  for (const k of Object.keys(c) as Array<keyof ImageRunConfig>) if (c[k] === undefined) delete c[k];
  return c;
}

export interface ChildImage {
  config: ImageRunConfig;
  containerConfig: unknown;
  containerID: string;
  created: string;
  createdBy: string;
  author?: string;
  comment?: string;
  diffID?: string; // undefined: the container changed nothing (empty layer)
}

// The new image's config: the parent's, with the commit's run config, one
// more layer (unless empty) and one more history entry.
export function childImageConfig(parent: ImageConfig | undefined, o: ChildImage): ImageConfig {
  const base: Record<string, unknown> = { ...(parent ?? {}) };
  for (const k of ['config', 'container_config', 'container', 'created', 'author', 'comment', 'history', 'rootfs', 'docker_version', 'id', 'parent']) delete base[k];
  const entry: HistoryEntry = { created: o.created, created_by: o.createdBy };
  if (o.author) entry.author = o.author;
  if (o.comment) entry.comment = o.comment;
  if (!o.diffID) entry.empty_layer = true;
  const cfg = {
    ...base,
    architecture: parent?.architecture ?? hostPlatform().architecture,
    os: parent?.os ?? 'linux',
    ...(o.author ? { author: o.author } : {}),
    ...(o.comment ? { comment: o.comment } : {}),
    config: o.config,
    container: o.containerID,
    container_config: o.containerConfig,
    created: o.created,
    rootfs: { type: 'layers' as const, diff_ids: [...(parent?.rootfs?.diff_ids ?? []), ...(o.diffID ? [o.diffID] : [])] },
    history: [...(parent?.history ?? []), entry],
  };
  return cfg as ImageConfig;
}

// Resolves once s has data to read (or has ended or failed): by then the
// pack helper has chrooted into the tree.
function firstData(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      s.off('readable', ok);
      s.off('close', ok);
      s.off('error', done);
      // Until the caller pipes it somewhere, a late error must not go unheard.
      s.on('error', () => {});
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    s.on('readable', ok);
    s.on('close', ok);
    s.on('error', done);
  });
}

// ---------------------------------------------------------------------------

export class ContainerSnapshots {
  private tars: LayerTars;

  constructor(private d: SnapshotDeps) {
    this.tars = new LayerHelpers(d.host);
  }

  private image(c: ContainerRecord): ImageRecord {
    const image = this.d.imageStore.get(c.spec.image.id);
    if (!image) throw notFound(`image ${c.spec.image.id} of container ${c.id.slice(0, 12)} not found`);
    return image;
  }

  // `docker commit`.
  async commit(ref: string, o: CommitOptions): Promise<ImageRecord> {
    // Under a content lease, so an rmi meanwhile cannot collect the new blobs.
    const lease = this.d.content.lease();
    try {
      return await this.commitLocked(ref, o);
    } finally {
      lease.release();
    }
  }

  private commitLocked(ref: string, o: CommitOptions): Promise<ImageRecord> {
    // Under the container's lock: no start, stop or remove meanwhile.
    return this.d.containers.withLock(ref, async (c) => {
      this.d.containers.get(c.id); // still there
      if (c.state.status === 'removing' || c.state.status === 'dead') throw conflict(`container ${c.id.slice(0, 12)} is being removed`);
      const image = this.image(c);
      if (o.quiescent && isRunning(c.state)) throw conflict(`container ${c.id.slice(0, 12)} is running`);
      const diffID = await this.diffLayer(c.id, image.chainID, o.quiescent === true);
      const config = childImageConfig(image.config, {
        config: mergeCommitConfig(o.requested, o.container),
        containerConfig: o.containerConfig,
        containerID: c.id,
        created: new Date().toISOString(),
        createdBy: o.createdBy ?? (o.container.Cmd ?? []).join(' '),
        author: o.author || undefined,
        comment: o.comment || undefined,
        diffID,
      });
      const digest = await this.d.content.put(Buffer.from(JSON.stringify(config)));
      const rec = await this.d.imageStore.add(digest);
      if (o.target) await this.d.imageStore.tag(o.target, rec.id);
      return rec;
    }, { pause: o.pause });
  }

  // The container's writable layer as a new layer on parent: packed with
  // overlay whiteouts turned into ".wh." entries, stored as the diffID blob
  // and applied to a scratch dir in one pass. undefined when it is empty.
  private async diffLayer(id: string, parent: string | undefined, inProcess: boolean): Promise<string | undefined> {
    const upper = path.join(this.d.snapshots.containerDir(id), 'diff');
    await fsp.access(upper).catch(() => {
      throw notFound(`the writable layer of container ${id.slice(0, 12)} is missing`);
    });
    const s = await this.d.snapshots.scratch();
    const blob = this.d.content.ingest();
    try {
      const tar = inProcess ? Readable.from(packTree(upper, this.d.host, { whiteouts: true }), { objectMode: false }) : this.tars.packLayer(upper);
      await applyThrough(this.tars, tar, [ingestTee(blob)], s.dir);
      const diffID = blob.digest(); // the ingest hashes what it keeps
      if (diffID === EMPTY_LAYER_DIFFID) {
        await blob.abort();
        await this.d.snapshots.discard(s);
        return undefined;
      }
      if (await this.d.content.has(diffID)) await blob.abort();
      else await blob.commit();
      await this.d.snapshots.commit(s, parent, diffID, blob.written);
      return diffID;
    } catch (err) {
      await blob.abort();
      await this.d.snapshots.discard(s);
      throw err instanceof BerthError ? err : new BerthError('Internal', `commit ${id.slice(0, 12)}: ${(err as Error)?.message ?? err}`, { cause: err });
    }
  }

  // `docker export`: a tar of the merged root filesystem. A running
  // container's is mounted already; otherwise it is mounted read-only for
  // as long as the pack helper needs to chroot into it, then detached (the
  // helper's root keeps the detached mount alive until it is done).
  async export(ref: string): Promise<Readable> {
    return this.d.containers.withLock(ref, async (c) => {
      this.d.containers.get(c.id);
      if (c.state.status === 'removing') throw conflict(`container ${c.id.slice(0, 12)} is being removed`);
      const dir = this.d.snapshots.containerDir(c.id);
      const merged = path.join(dir, 'merged');
      if (isRunning(c.state)) {
        // A remapped one's shows host ids: the tar gets the container's. A
        // stopped one's is mounted plainly below: its layers hold those.
        const idmap = this.d.containers.idmapOf(c);
        const out = this.tars.packDir(merged, idmap ? { idmap } : {});
        await firstData(out);
        return out;
      }
      const image = this.image(c);
      if (!image.chainID) {
        // No image layers: the writable layer is the whole filesystem.
        const out = this.tars.packDir(path.join(dir, 'diff'));
        await firstData(out);
        return out;
      }
      const m = this.d.snapshots.mounts(c.id, image.chainID);
      await fsp.mkdir(merged, { recursive: true });
      this.d.host.mount(m.source, m.target, m.type, MS_RDONLY, m.options.join(','));
      try {
        const out = this.tars.packDir(m.target);
        await firstData(out);
        return out;
      } finally {
        try {
          this.d.host.umount(m.target, MNT_DETACH);
        } catch {
          // already gone
        }
      }
    });
  }
}
