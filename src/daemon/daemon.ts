// Wires the subsystems together; the only place that knows all of them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerService } from '../engine/containers/service';
import { ContentStore } from '../engine/content/store';
import { ImageService } from '../engine/images/service';
import { ImageStore } from '../engine/images/store';
import { LayerHelpers } from '../engine/layers';
import { ConmonRuntime } from '../engine/runtime/conmon';
import { OverlaySnapshotter } from '../engine/snapshots/overlay';
import type { Host } from '../host';
import { ApiServer } from '../server';
import { Router } from '../server/router';
import { containerRoutes } from '../server/routes/containers';
import { archiveRoutes } from '../server/routes/archive';
import { imageRoutes } from '../server/routes/images';
import { VERSION } from '../api/version';
import { systemRoutes } from '../server/routes/system';
import type { DaemonConfig } from './config';

export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export class Daemon {
  readonly id: string;
  readonly content: ContentStore;
  readonly snapshots: OverlaySnapshotter;
  readonly imageStore: ImageStore;
  readonly images: ImageService;
  readonly runtime: ConmonRuntime;
  readonly containers: ContainerService;
  readonly server: ApiServer;
  runtimeVersion = '';
  conmonVersion = '';

  constructor(readonly config: DaemonConfig, readonly host: Host, readonly log: Logger) {
    this.id = createHash('sha256').update(config.dataRoot).digest('hex').slice(0, 32);
    const root = config.dataRoot;
    this.content = new ContentStore(path.join(root, 'content'));
    this.snapshots = new OverlaySnapshotter(path.join(root, 'overlay'));
    this.imageStore = new ImageStore(path.join(root, 'image'), this.content, this.snapshots);
    this.runtime = new ConmonRuntime(host, { execRoot: config.execRoot, runtimes: config.runtimes, conmonPath: config.conmonPath, debug: config.debug });
    let containers: ContainerService | undefined;
    this.images = new ImageService({
      store: this.imageStore,
      content: this.content,
      layers: this.snapshots,
      tars: new LayerHelpers(host),
      inUse: (id) => containers!.usersOfImage(id),
      root: path.join(root, 'image'),
      registries: { insecure: config.insecureRegistries, certsDir: config.certsDir, userAgent: `berth/${VERSION}` },
    });
    containers = new ContainerService(host, this.runtime, this.snapshots, this.images, {
      root: path.join(root, 'containers'),
      defaultRuntime: config.defaultRuntime,
      log: (m) => log('warn', m),
    });
    this.containers = containers;
    const router = new Router();
    systemRoutes(router, this);
    containerRoutes(router, this);
    imageRoutes(router, this);
    archiveRoutes(router, this);
    this.server = new ApiServer(router, { log: (m) => log('error', m), debug: (m) => log('debug', m) });
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.config.dataRoot, { recursive: true, mode: 0o711 });
    fs.mkdirSync(this.config.execRoot, { recursive: true, mode: 0o700 });
    this.runtimeVersion = firstLine(this.config.runtimes[this.config.defaultRuntime], ['--version']);
    this.conmonVersion = firstLine(this.config.conmonPath, ['--version']).replace(/^conmon version /, '');
    await this.content.init();
    await this.snapshots.init();
    await this.imageStore.init();
    await this.images.init();
    await this.runtime.init();
    await this.containers.init();
    for (const h of this.config.hosts) {
      const sock = h.slice('unix://'.length);
      fs.mkdirSync(path.dirname(sock), { recursive: true });
      await this.server.listenUnix(sock);
      this.log('info', `API listen on ${sock}`);
    }
  }

  async stop(): Promise<void> {
    // Containers keep running under conmon; only our side goes away.
    await this.server.close();
    this.containers.shutdown();
    this.runtime.close();
  }
}

function firstLine(bin: string, args: string[]): string {
  try {
    const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return (out.split('\n')[0] ?? '').replace(/^runc version /, '').trim();
  } catch {
    return '';
  }
}
