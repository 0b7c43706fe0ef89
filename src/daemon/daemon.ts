// Wires the subsystems together; the only place that knows all of them.
// Every service is built here and each router is handed the narrow backend
// it declares, never the daemon itself.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VERSION } from '../api/version';
import { ContainerArchives } from '../engine/containers/archive';
import { ContainerSnapshots } from '../engine/containers/commit';
import { ExecService } from '../engine/containers/exec';
import { ExecProber, HealthMonitor } from '../engine/containers/health';
import { wallClock } from '../util/clock';
import { ContainerService } from '../engine/containers/service';
import { ContainerStore } from '../engine/containers/store';
import { ContentStore } from '../engine/content/store';
import { EventBus } from '../engine/events/bus';
import { ImageService } from '../engine/images/service';
import { ImageStore } from '../engine/images/store';
import { LayerHelpers, RootHelpers } from '../engine/layers';
import { NetworkService } from '../engine/network/service';
import { DEFAULT_POOLS } from '../engine/network/ipam';
import { networkRoutes } from '../server/routes/networks';
import { ConmonRuntime } from '../engine/runtime/conmon';
import { capabilitiesOfMask } from '../engine/runtime/spec';
import { OverlaySnapshotter } from '../engine/snapshots/overlay';
import { LocalVolumes } from '../engine/volumes/local';
import { VolumeStore } from '../engine/volumes/store';
import { cgroupReader } from '../engine/stats/cgroup';
import { readHostLimits } from '../engine/containers/limits';
import { cgroupFeatures, oomKilledIn, pickDriver, systemdRunning } from '../engine/runtime/cgroups';
import { readMachine } from '../engine/stats/machine';
import { ContainerStats } from '../engine/stats/service';
import { MNT_DETACH, type Host } from '../host';
import { ApiServer } from '../server';
import type { ContainerViewDeps } from '../server/containers/inspect';
import { Router } from '../server/router';
import { nativeBuild } from '../util/paths';
import { archiveRoutes } from '../server/routes/archive';
import { containerRoutes } from '../server/routes/containers';
import { execRoutes } from '../server/routes/exec';
import { eventRoutes } from '../server/routes/events';
import { statsRoutes } from '../server/routes/stats';
import { imageRoutes, type ImageBackend } from '../server/routes/images';
import { systemRoutes, type DaemonFacts } from '../server/routes/system';
import { diskRoutes } from '../server/routes/disk';
import { buildRoutes } from '../server/routes/build';
import { Builder } from '../engine/build/builder';
import { EngineBuildBackend } from '../engine/build/backend';
import { volumeRoutes } from '../server/routes/volumes';
import type { DaemonConfig } from './config';
import { resolveRemap, type Remap } from './userns';

export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export class Daemon {
  readonly facts: DaemonFacts;
  readonly events: EventBus;
  readonly content: ContentStore;
  readonly snapshots: OverlaySnapshotter;
  readonly imageStore: ImageStore;
  readonly images: ImageService;
  readonly runtime: ConmonRuntime;
  readonly containers: ContainerService;
  readonly execs: ExecService;
  readonly health: HealthMonitor;
  readonly volumes: LocalVolumes;
  readonly server: ApiServer;
  readonly networks: NetworkService;
  readonly builder: Builder;

  // userns-remap: the host ids containers' root maps to (daemon/userns.ts).
  readonly remap?: Remap;

  constructor(readonly config: DaemonConfig, readonly host: Host, readonly log: Logger) {
    const root = config.dataRoot;
    if (config.usernsRemap) this.remap = resolveRemap(config.usernsRemap);
    this.facts = {
      id: createHash('sha256').update(root).digest('hex').slice(0, 32),
      debug: config.debug,
      dataRoot: root,
      runtimes: config.runtimes,
      defaultRuntime: config.defaultRuntime,
      logDriver: config.logDriver,
      insecureRegistries: config.insecureRegistries,
      registryMirrors: config.registryMirrors,
      allowNondistributable: config.allowNondistributable,
      runtimeVersion: '',
      conmonVersion: '',
      ...(this.remap ? { userns: true } : {}),
    };
    this.events = new EventBus((err) => log('error', `event listener: ${(err as Error).message}`));
    this.content = new ContentStore(path.join(root, 'content'));
    this.snapshots = new OverlaySnapshotter(path.join(root, 'overlay'));
    this.imageStore = new ImageStore(path.join(root, 'image'), this.content, this.snapshots);
    // Limits: the cgroup driver dockerd would pick, and what the host's cgroups can do.
    const cgroupRoot = '/sys/fs/cgroup';
    const features = cgroupFeatures(cgroupRoot);
    const cgroupDriver = pickDriver(config.cgroupDriver, features.version === 2, systemdRunning());
    this.facts.cgroups = { driver: cgroupDriver, features };
    this.runtime = new ConmonRuntime(host, {
      execRoot: config.execRoot, runtimes: config.runtimes, conmonPath: config.conmonPath, debug: config.debug,
      systemdCgroup: cgroupDriver === 'systemd',
      ...(config.execHelper ? { execHelper: { path: nativeBuild('berth-exec'), seccompCache: path.join(root, 'seccomp') } } : {}),
    });
    let containers: ContainerService | undefined;
    this.networks = new NetworkService(host, this.events, {
      root: path.join(root, 'network'),
      execRoot: config.execRoot,
      config: { ...config.network, pools: config.network.pools ?? DEFAULT_POOLS },
      log,
      // Remapped containers' namespaces are made by runc (a pooled one is
      // the init user namespace's): no pool then.
      poolSize: this.remap ? 0 : 2,
    });
    this.images = new ImageService({
      store: this.imageStore,
      content: this.content,
      layers: this.snapshots,
      tars: new LayerHelpers(host),
      inUse: (id) => containers!.usersOfImage(id),
      root: path.join(root, 'image'),
      registries: {
        insecure: config.insecureRegistries, certsDir: config.certsDir, userAgent: `berth/${VERSION}`,
        mirrors: config.registryMirrors, allowNondistributable: config.allowNondistributable,
        maxConcurrentDownloads: config.maxConcurrentDownloads, maxConcurrentUploads: config.maxConcurrentUploads,
      },
      events: this.events,
    });
    this.volumes = new LocalVolumes({
      host,
      store: new VolumeStore(path.join(root, 'volumes')),
      tars: new LayerHelpers(host),
      events: this.events,
      users: (name) => containers!.usersOfVolume(name),
      log: (level, m) => log(level, m),
    });
    containers = new ContainerService(
      {
        host,
        store: new ContainerStore(path.join(root, 'containers')),
        runtime: this.runtime,
        rootfs: this.snapshots,
        images: this.imageStore,
        networks: this.networks,
        volumes: this.volumes,
        events: this.events,
      },
      {
        defaultRuntime: config.defaultRuntime,
        log: (level, m) => log(level, m),
        cgroupDriver,
        hostLimits: readHostLimits(features),
        oomKilled: (group) => oomKilledIn(cgroupRoot, features.version, group),
        heldCaps: capabilitiesOfMask(capBnd()),
        init: { default: config.init, ...(config.initPath ? { path: config.initPath } : {}), name: config.initBinary },
        ...(this.remap ? { remap: { ...this.remap, view: (p: string) => this.remapView(p) } } : {}),
        // A created container is made ready for its start for this long
        // (docker run starts it a few ms after the create; a later start
        // makes it again). BERTHD_SPECULATE=0 turns it off (measurements).
        ...(process.env.BERTHD_SPECULATE === '0' ? {} : { speculate: { windowMs: 5000 } }),
      },
    );
    this.containers = containers;
    this.execs = new ExecService(
      {
        containers,
        runtime: this.runtime,
        rootfs: (id) => path.join(this.snapshots.containerDir(id), 'merged'),
        events: this.events,
      },
      { privilegedCaps: capabilitiesOfMask(capBnd()) },
    );
    // A container's exec sessions end with it and go with it.
    this.events.subscribe((e) => {
      if (e.type !== 'container') return;
      if (e.action === 'die') this.execs.containerExited(e.id);
      if (e.action === 'destroy') this.execs.containerRemoved(e.id);
    });

    // Healthchecks run while their container does (probes are exec sessions).
    this.health = new HealthMonitor({ clock: wallClock, prober: new ExecProber(this.execs), events: this.events, save: (c) => void containers!.saveRunning(c.id) });
    this.events.subscribe((e) => {
      if (e.type !== 'container') return;
      if (e.action === 'destroy') return this.health.removed(e.id);
      const hook = { start: 'started', die: 'stopped', pause: 'stopped', unpause: 'unpaused' }[e.action] as 'started' | 'stopped' | 'unpaused' | undefined;
      if (!hook) return;
      let c;
      try {
        c = containers!.get(e.id);
      } catch {
        return;
      }
      this.health[hook](c);
    });

    // Lifecycle and image events are logged at info ("container start 1a2b3c4d5e6f name=web").
    this.events.subscribe((e) => {
      const attrs = ['name', 'image', 'exitCode', 'signal'].filter((k) => e.attributes[k] !== undefined).map((k) => `${k}=${e.attributes[k]}`);
      log('info', `${e.type} ${e.action} ${e.type === 'container' ? e.id.slice(0, 12) : e.id}${attrs.length ? ' ' + attrs.join(' ') : ''}`);
    });

    const imageBackend: ImageBackend = {
      images: this.images,
      containersUsing: (id) => containers!.usersOfImage(id).length,
      lowers: (chainID) => this.snapshots.lowers(chainID),
    };
    const containerView: ContainerViewDeps = {
      image: (id) => this.imageStore.get(id),
      files: (id) => containers!.files(id),
      sizeRw: (id) => containers!.sizeRw(id),
      containerDir: (id) => this.snapshots.containerDir(id),
      lowers: (chainID) => this.snapshots.lowers(chainID),
      execIDs: (id) => this.execs.idsOf(id),
      volumeMountpoint: (name) => this.volumes.mountpoint(name),
      networks: { container: (id) => this.networks.container(id), network: (id) => this.networks.find(id) },
    };
    const snapshots = new ContainerSnapshots({ host, content: this.content, snapshots: this.snapshots, imageStore: this.imageStore, containers });
    const archives = new ContainerArchives({
      host,
      tools: new RootHelpers(host),
      snapshots: this.snapshots,
      imageChain: (id) => {
        const image = this.imageStore.get(id);
        return image ? image.chainID ?? '' : undefined;
      },
      containers,
      events: this.events,
      volumeDir: (name) => this.volumes.mountpoint(name),
    });
    const builder = (this.builder = new Builder(new EngineBuildBackend({
      root: path.join(root, 'builder'),
      host,
      containers,
      snapshots,
      archives,
      images: this.images,
      imageStore: this.imageStore,
      content: this.content,
      lowers: (chainID) => this.snapshots.lowers(chainID),
      layer: (chainID) => {
        const info = this.snapshots.get(chainID);
        return info ? { dir: this.snapshots.diffDir(chainID), size: info.size } : undefined;
      },
      tools: new RootHelpers(host),
    })));
    const router = new Router();
    systemRoutes(router, { facts: this.facts, containers, containerView, images: imageBackend });
    containerRoutes(router, {
      containers,
      resolveImage: (ref) => this.images.tryResolve(ref),
      view: containerView,
      ...(config.logDriver ? { logDefaults: { type: config.logDriver, config: config.logOpts ?? {} } } : {}),
      snapshots,
    });
    imageRoutes(router, imageBackend);
    volumeRoutes(router, { volumes: this.volumes });
    diskRoutes(router, { containers, containerView, images: imageBackend, volumes: { volumes: this.volumes } });
    execRoutes(router, { exec: this.execs });
    archiveRoutes(router, { archives });
    buildRoutes(router, { builder });
    statsRoutes(router, { stats: new ContainerStats({ host, cgroups: cgroupReader(), machine: () => readMachine(), containers, events: this.events }) });
    eventRoutes(router, { events: this.events });
    networkRoutes(router, { networks: this.networks, containers });
    this.server = new ApiServer(router, { log: (m) => log('error', m), debug: (m) => log('debug', m) });
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.config.dataRoot, { recursive: true, mode: 0o711 });
    fs.mkdirSync(this.config.execRoot, { recursive: true, mode: 0o700 });
    this.facts.runtimeVersion = firstLine(this.config.runtimes[this.config.defaultRuntime], ['--version']);
    this.facts.conmonVersion = firstLine(this.config.conmonPath, ['--version']).replace(/^conmon version /, '');
    const initVersion = this.config.initPath ? firstLine(this.config.initPath, ['--version']) : '';
    this.facts.init = { binary: this.config.initBinary, ...(initVersion ? { version: initVersion } : {}) };
    await this.content.init();
    await this.snapshots.init();
    if (this.remap) this.mountRemapView();
    await this.imageStore.init();
    await this.images.init();
    await this.runtime.init();
    await this.volumes.init();
    await this.networks.init();
    await this.containers.init();
    await this.builder.init();
    // Running containers' healthchecks resume where their records left them.
    for (const c of this.containers.list()) this.health.restored(c);
    await this.volumes.reconcile((id) => {
      const s = this.containers.list().find((c) => c.id === id)?.state.status;
      return s === 'running' || s === 'paused';
    });
    await this.networks.reconcile((id) => {
      const c = this.containers.list().find((x) => x.id === id);
      return !c ? 'gone' : c.state.status === 'running' || c.state.status === 'paused' ? 'running' : 'stopped';
    });
    // Restart policies run from here on, the networks knowing who runs.
    await this.containers.autostart();
    for (const h of this.config.hosts) {
      const sock = h.slice('unix://'.length);
      fs.mkdirSync(path.dirname(sock), { recursive: true });
      await this.server.listenUnix(sock);
      this.log('info', `API listen on ${sock}`);
    }
  }

  // <data-root>/<uid>.<gid>/overlay: the overlay's dir through an idmapped
  // mount (its own submounts, the containers' root filesystems, not in it),
  // where remapped containers' layers are taken from. Made again at each
  // start.
  private remapViewRoot(): string {
    return path.join(this.config.dataRoot, `${this.remap!.uid}.${this.remap!.gid}`, 'overlay');
  }

  private remapView(p: string): string {
    const from = path.join(this.config.dataRoot, 'overlay');
    return p === from || p.startsWith(from + '/') ? this.remapViewRoot() + p.slice(from.length) : p;
  }

  private mountRemapView(): void {
    // As dockerd: a parent the remapped root cannot search would fail every start.
    const r = this.remap!;
    for (let dir = path.dirname(this.config.dataRoot); ; dir = path.dirname(dir)) {
      const st = fs.statSync(dir);
      const x = st.mode & 0o001 || (st.uid === r.uid && st.mode & 0o100) || (st.gid === r.gid && st.mode & 0o010);
      if (!x) throw new Error(`a subdirectory in your graphroot path (${this.config.dataRoot}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`);
      if (dir === '/') break;
    }
    const view = this.remapViewRoot();
    fs.mkdirSync(view, { recursive: true, mode: 0o711 });
    for (;;) {
      try {
        this.host.umount(view, MNT_DETACH);
      } catch {
        break;
      }
    }
    this.host.idmapMount(path.join(this.config.dataRoot, 'overlay'), view, this.remap!);
    this.log('info', `userns-remap: ${this.remap!.user}:${this.remap!.group}, container root is ${this.remap!.uid}:${this.remap!.gid} (${this.remap!.size} ids)`);
  }

  async stop(): Promise<void> {
    // Containers keep running under conmon; only our side goes away.
    await this.server.close();
    this.health.shutdown();
    await this.containers.shutdown();
    this.execs.shutdown();
    this.runtime.close();
    await this.networks.stop();
    // Running containers' overlays hold what they took from the view; the
    // next start mounts it again.
    if (this.remap) {
      try {
        this.host.umount(this.remapViewRoot(), MNT_DETACH);
      } catch {
        // not mounted
      }
    }
  }
}

// The daemon's capability bounding set, as /proc/self/status gives it: what
// a privileged exec may have (root here may lack some, CAP_SYS_RESOURCE).
function capBnd(): string {
  try {
    return /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  } catch {
    return '0';
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
