// What the builder needs of the engine, as a small interface (faked in unit
// tests), and its implementation over the engine's services: RUN is a
// container made by the ContainerService from the current image, run,
// and committed as the next layer (engine/containers/commit.ts); COPY/ADD
// extract a tar into a created container's root with docker cp's chrooted
// helper (so links in the image resolve inside it) and commit it; images
// are mounted read-only to read COPY --from sources.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, isKind } from '../../errors';
import { MNT_DETACH, MS_RDONLY, type Host } from '../../host';
import { parseReference } from '../../oci/reference';
import type { ContainerArchives } from '../containers/archive';
import { childImageConfig, type ContainerSnapshots } from '../containers/commit';
import type { ContainerService } from '../containers/service';
import { withDefaults, type MountSpec, type NetworkSpec } from '../containers/spec';
import type { ContentStore } from '../content/store';
import type { ProgressSink } from '../events/progress';
import type { ImageService } from '../images/service';
import type { ImageStore } from '../images/store';
import type { ImageRecord, ImageRunConfig } from '../images/types';
import type { RootTools } from '../layers';

// Marks the builder's own containers, so a build cut short by a crash
// leaves none behind after the next start.
export const BUILD_LABEL = 'berth.build';

export interface RunOptions {
  image: ImageRecord;
  config: ImageRunConfig; // the step's config: Env, User, WorkingDir
  argv: string[];
  env: string[];
  network: NetworkSpec;
  mounts?: MountSpec[]; // RUN --mount
}

export interface BuildBackend {
  // Where the builder keeps its cache index and temporary contexts.
  dataDir: string;
  // Drops what a build cut short by a crash left: contexts, mounts.
  cleanup?(): Promise<void>;
  image(id: string): ImageRecord | undefined;
  findImage(ref: string): ImageRecord | undefined;
  pullImage(ref: string, progress: ProgressSink): Promise<ImageRecord>;
  // A child image that changes the config only (an empty layer).
  commitConfig(parent: ImageRecord | undefined, config: ImageRunConfig, createdBy: string): Promise<ImageRecord>;
  // Creates a container, runs argv in it, sends its output; the container
  // stays (stopped) for commitContainer or removeContainer.
  runContainer(o: RunOptions, out: (data: Buffer) => void, created: (id: string) => void): Promise<number>;
  createContainer(image: ImageRecord, config: ImageRunConfig): Promise<string>;
  putArchive(containerId: string, dir: string, tar: Readable): Promise<void>;
  commitContainer(containerId: string, config: ImageRunConfig, createdBy: string): Promise<ImageRecord>;
  removeContainer(id: string): Promise<void>;
  // An image's filesystem, read-only, until release.
  mountImage(image: ImageRecord | undefined): Promise<{ root: string; release(): Promise<void> }>;
  // Extracts a build context tar into dir (chrooted: no entry lands outside).
  extractContext(tar: Readable, dir: string): Promise<void>;
  tag(imageId: string, ref: string): Promise<void>;
  // The image's top layer: its tree and the bytes of its tar (--check).
  topLayer?(image: ImageRecord): { dir: string; size: number } | undefined;
}

export interface EngineBuildDeps {
  root: string; // <data-root>/builder
  host: Host;
  containers: ContainerService;
  snapshots: ContainerSnapshots;
  archives: ContainerArchives;
  images: ImageService;
  imageStore: ImageStore;
  content: ContentStore;
  // The layer dirs of a chain, top first.
  lowers(chainID: string): string[];
  layer?(chainID: string): { dir: string; size: number } | undefined;
  tools: RootTools;
}

export class EngineBuildBackend implements BuildBackend {
  readonly dataDir: string;

  constructor(private d: EngineBuildDeps) {
    this.dataDir = d.root;
  }

  async cleanup(): Promise<void> {
    for (const c of this.d.containers.list()) if (c.spec.labels[BUILD_LABEL]) await this.removeContainer(c.id).catch(() => {});
    const mnt = path.join(this.d.root, 'mnt');
    for (const dir of await fsp.readdir(mnt).catch(() => [] as string[])) {
      try {
        this.d.host.umount(path.join(mnt, dir, 'root'), MNT_DETACH);
      } catch {
        // not mounted
      }
    }
    await fsp.rm(mnt, { recursive: true, force: true });
    await fsp.rm(path.join(this.d.root, 'contexts'), { recursive: true, force: true });
    // RUN --mount=type=secret files of a step cut short.
    await fsp.rm(path.join(this.d.root, 'secrets'), { recursive: true, force: true });
  }

  image(id: string): ImageRecord | undefined {
    return this.d.imageStore.get(id);
  }

  findImage(ref: string): ImageRecord | undefined {
    return this.d.images.tryResolve(ref);
  }

  async pullImage(ref: string, progress: ProgressSink): Promise<ImageRecord> {
    const [rec] = await this.d.images.pull(ref, { progress });
    return rec;
  }

  async commitConfig(parent: ImageRecord | undefined, config: ImageRunConfig, createdBy: string): Promise<ImageRecord> {
    const cfg = childImageConfig(parent?.config, {
      config,
      containerConfig: { ...config, Cmd: ['/bin/sh', '-c', createdBy.replace(/^\/bin\/sh -c /, '')] },
      containerID: '',
      created: new Date().toISOString(),
      createdBy,
    });
    const lease = this.d.content.lease();
    try {
      const digest = await this.d.content.put(Buffer.from(JSON.stringify(cfg)));
      return await this.d.imageStore.add(digest);
    } finally {
      lease.release();
    }
  }

  private spec(image: ImageRecord, config: ImageRunConfig, argv: string[], env: string[], network: NetworkSpec) {
    return withDefaults({
      image: { id: image.id, ref: image.id },
      process: { entrypoint: null, cmd: argv, env, cwd: config.WorkingDir || '/', user: config.User ?? '', terminal: false, stdin: false, stdinOnce: false },
      runtime: '',
      network,
      labels: { [BUILD_LABEL]: 'true' },
    });
  }

  async runContainer(o: RunOptions, out: (data: Buffer) => void, created: (id: string) => void): Promise<number> {
    const { id } = await this.d.containers.create({ ...this.spec(o.image, o.config, o.argv, o.env, o.network), mounts: o.mounts ?? [] });
    created(id);
    let ended!: () => void;
    const drained = new Promise<void>((r) => (ended = r));
    const handle = await this.d.containers.attach(id, { stdin: false, stdout: true, stderr: true, stream: true, logs: false }, {
      out: (_s, data) => out(data),
      end: () => ended(),
    });
    try {
      const waited = this.d.containers.wait(id, 'next-exit');
      await this.d.containers.start(id);
      const r = await waited;
      // The output ends with the process; do not wait on it for ever.
      await Promise.race([drained, new Promise((res) => setTimeout(res, 2000).unref())]);
      return r.StatusCode;
    } finally {
      handle.detach();
    }
  }

  async createContainer(image: ImageRecord, config: ImageRunConfig): Promise<string> {
    const { id } = await this.d.containers.create(this.spec(image, config, ['/bin/sh'], config.Env ?? [], { mode: 'none' }));
    return id;
  }

  putArchive(containerId: string, dir: string, tar: Readable): Promise<void> {
    return this.d.archives.put(containerId, dir, tar);
  }

  commitContainer(containerId: string, config: ImageRunConfig, createdBy: string): Promise<ImageRecord> {
    return this.d.snapshots.commit(containerId, {
      requested: config,
      container: config,
      containerConfig: { ...config, Cmd: ['/bin/sh', '-c', createdBy.replace(/^\/bin\/sh -c /, '')] },
      createdBy,
      pause: false,
      quiescent: true,
    });
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.d.containers.remove(id, { force: true, volumes: true });
    } catch (err) {
      if (!isKind(err, 'NotFound')) throw err;
    }
  }

  async mountImage(image: ImageRecord | undefined): Promise<{ root: string; release(): Promise<void> }> {
    const base = path.join(this.d.root, 'mnt', randomBytes(8).toString('hex'));
    const root = path.join(base, 'root');
    const empty = path.join(base, 'empty');
    await fsp.mkdir(root, { recursive: true });
    await fsp.mkdir(empty, { recursive: true });
    let mounted = false;
    if (image?.chainID) {
      // An empty dir at the bottom: overlayfs wants two lowers without an upper.
      const lowers = [...this.d.lowers(image.chainID), empty];
      this.d.host.mount('overlay', root, 'overlay', MS_RDONLY, `lowerdir=${lowers.join(':')}`);
      mounted = true;
    }
    return {
      root,
      release: async () => {
        if (mounted) {
          try {
            this.d.host.umount(root, MNT_DETACH);
          } catch {
            // already gone
          }
        }
        await fsp.rm(base, { recursive: true, force: true });
      },
    };
  }

  async extractContext(tar: Readable, dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await this.d.tools.extract(dir, '/', tar, {});
    } catch (err) {
      throw err instanceof BerthError ? err : new BerthError('InvalidArgument', `the build context is not a valid tar: ${(err as Error).message}`);
    }
  }

  topLayer(image: ImageRecord): { dir: string; size: number } | undefined {
    return image.chainID ? this.d.layer?.(image.chainID) : undefined;
  }

  async tag(imageId: string, ref: string): Promise<void> {
    parseReference(ref);
    await this.d.images.tag(imageId, ref);
  }
}
