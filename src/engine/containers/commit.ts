// `docker commit` (a container's writable layer becomes a new image on top
// of its image) and `docker export` (a tar of a container's whole filesystem).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, conflict, invalidArgument, notFound } from '../../errors';
import { MNT_DETACH, MS_RDONLY, type Host } from '../../host';
import type { ContentStore } from '../content/store';
import { applyThrough, LayerHelpers, type LayerTars } from '../layers';
import { ingestTee } from '../content/streams';
import { EMPTY_LAYER_DIFFID } from '../../oci/layers';
import { applyChanges } from '../images/changes';
import { checkRunConfig } from '../images/runconfig';
import { hostPlatform } from '../../oci/platform';
import { parseReference, type Reference } from '../../oci/reference';
import type { ImageStore } from '../images/store';
import type { HistoryEntry, ImageConfig, ImageRecord, ImageRunConfig } from '../images/types';
import type { Snapshotter } from '../snapshots/snapshotter';
import { validateCreateBody, type ContainerService } from './service';
import type { ContainerConfig, ContainerRecord } from './types';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  config?: Record<string, unknown>; // a container Config that overrides
  pause?: boolean; // accepted; berth cannot pause a container (yet)
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

const RUN_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'] as const;

// The run config fields of a commit request's body, type-checked like a
// create body, and each run config field for the type an image config gives it.
export function commitRequestConfig(body: Record<string, unknown> | undefined): ImageRunConfig {
  if (!body) return {};
  checkRunConfig(body);
  const checked = validateCreateBody(body) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of RUN_FIELDS) if (checked[k] !== undefined) out[k] = checked[k];
  return out as ImageRunConfig;
}

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
  containerConfig: ContainerConfig;
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
    const image = this.d.imageStore.get(c.Image);
    if (!image) throw notFound(`image ${c.Image} of container ${c.Id.slice(0, 12)} not found`);
    return image;
  }

  // `docker commit`.
  async commit(ref: string, o: CommitOptions): Promise<ImageRecord> {
    // Everything the request can get wrong fails before any work.
    let target: Reference | undefined;
    if (o.repo) {
      target = parseReference(o.tag ? `${o.repo}:${o.tag}` : o.repo);
      if (target.digest) throw invalidArgument('cannot commit to a digest reference');
    } else if (o.tag) {
      throw invalidArgument('a tag needs a repository name');
    }
    const requested = applyChanges(commitRequestConfig(o.config), o.changes ?? []);

    // Under the container's lock: no start, stop or remove meanwhile; under a
    // content lease, so an rmi meanwhile cannot collect the new blobs.
    const lease = this.d.content.lease();
    try {
      return await this.commitLocked(ref, o, target, requested);
    } finally {
      lease.release();
    }
  }

  private commitLocked(ref: string, o: CommitOptions, target: Reference | undefined, requested: ImageRunConfig): Promise<ImageRecord> {
    return this.d.containers.withLock(ref, async (c) => {
      this.d.containers.get(c.Id); // still there
      if (c.State.Status === 'removing' || c.State.Dead) throw conflict(`container ${c.Id.slice(0, 12)} is being removed`);
      const image = this.image(c);
      const diffID = await this.diffLayer(c.Id, image.chainID);
      const config = childImageConfig(image.config, {
        config: mergeCommitConfig(requested, c.Config),
        containerConfig: c.Config,
        containerID: c.Id,
        created: new Date().toISOString(),
        createdBy: (c.Config.Cmd ?? []).join(' '),
        author: o.author || undefined,
        comment: o.comment || undefined,
        diffID,
      });
      const digest = await this.d.content.put(Buffer.from(JSON.stringify(config)));
      const rec = await this.d.imageStore.add(digest);
      if (target) await this.d.imageStore.tag(target, rec.id);
      return rec;
    });
  }

  // The container's writable layer as a new layer on parent: packed with
  // overlay whiteouts turned into ".wh." entries, stored as the diffID blob
  // and applied to a scratch dir in one pass. undefined when it is empty.
  private async diffLayer(id: string, parent: string | undefined): Promise<string | undefined> {
    const upper = path.join(this.d.snapshots.containerDir(id), 'diff');
    await fsp.access(upper).catch(() => {
      throw notFound(`the writable layer of container ${id.slice(0, 12)} is missing`);
    });
    const s = await this.d.snapshots.scratch();
    const blob = this.d.content.ingest();
    try {
      await applyThrough(this.tars, this.tars.packLayer(upper), [ingestTee(blob)], s.dir);
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
      this.d.containers.get(c.Id);
      if (c.State.Status === 'removing') throw conflict(`container ${c.Id.slice(0, 12)} is being removed`);
      const dir = this.d.snapshots.containerDir(c.Id);
      const merged = path.join(dir, 'merged');
      if (c.State.Running) {
        const out = this.tars.packDir(merged);
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
      const m = this.d.snapshots.mounts(c.Id, image.chainID);
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
