// The container lifecycle: created -> running -> exited -> removed, over the
// seams it is given: records (ContainerStore), the root filesystem
// (snapshotter), networks, volumes, an OCI runtime and the event bus. It
// takes the engine's own ContainerSpec; no API shape reaches it.
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthError, conflict, invalidArgument, isKind, notFound, notModified } from '../../errors';
import { MNT_DETACH, type Host } from '../../host';
import { newId } from '../../util/ids';
import { KeyedLock } from '../../util/lock';
import { readFileInRootSync, resolveInRoot } from '../../util/rootfs';
import { parseSignal } from '../../util/signals';
import type { EventPublisher } from '../events/bus';
import type { ImageRecord } from '../images/types';
import { hostHostname } from '../network/files';
import type { NetworkEndpoint, Networks } from '../network/network';
import type { Runtime, RuntimeRef, TerminalSize } from '../runtime/runtime';
import { cgroupPaths, type CgroupDriver } from '../runtime/cgroups';
import { ociResources, ociRlimits, ociUpdate, shmSizeOption } from '../runtime/resources';
import { buildEnv, DEFAULT_CAPS, generateSpec, type NsChoice } from '../runtime/spec';
import { resolveUser } from '../runtime/user';
import { checkSecurity, checkWorkdirInRoot, securityOf } from './security';
import type { RootfsSnapshotter } from '../snapshots/snapshotter';
import type { Volumes } from '../volumes/volumes';
import { Attachments, noAttach, type AttachHandle, type AttachOptions, type AttachSink } from './io';
import { blockDevice, fitLimits, type HostLimits, type LimitsSpec } from './limits';
import { readLog, type LogOptions, type LogRecord } from '../logs/read';
import { logPath } from '../logs/settings';
import { randomName, validateName } from './names';
import { initialState, isRunning, type ContainerRecord } from './record';
import { wallClock, type Clock } from '../../util/clock';
import { BACKOFF_MAX_MS, decide, PendingRestarts, restartsAtAll, shouldRestart, type RestartPolicy } from './restart';
import { argvOf, type ContainerSpec, type MountSpec, type Namespace, type VolumesFromSpec } from './spec';
import type { ContainerFiles, ContainerStore } from './store';

export type { AttachHandle, AttachOptions, AttachSink } from './io';

// What the lifecycle needs of the snapshotter: a container's root
// filesystem over its image's layers.
export type RootfsSnapshots = Pick<RootfsSnapshotter, 'prepare' | 'containerDir' | 'removeContainer' | 'upperSize'>;

// What it needs of the images: the record of an image id.
export interface ImageLookup {
  get(id: string): ImageRecord | undefined;
}

export interface ContainerDeps {
  host: Host;
  store: ContainerStore;
  runtime: Runtime;
  rootfs: RootfsSnapshots;
  images: ImageLookup;
  networks: Networks;
  volumes: Volumes;
  events: EventPublisher;
}

export interface ContainerServiceOptions {
  defaultRuntime: string;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
  // How often a caller waiting for an exit checks that the process still
  // exists, in case its exit was never recorded (the shim died with it).
  livenessCheckMs?: number;
  // Limits: where containers' cgroups go (cgroupfs when unset), what the
  // host can limit (unchecked when unset), and whether the OOM killer
  // ended the process in a group (read at exit, before the group goes).
  cgroupDriver?: CgroupDriver;
  hostLimits?: HostLimits;
  oomKilled?: (group: string) => boolean;
  // The capabilities berthd holds (its bounding set): what --privileged and
  // --cap-add ALL grant. Docker's 14 when not given.
  heldCaps?: string[];
  // Time for restart policies' back-off (tests pass a fake).
  clock?: Clock;
  // The init (--init): whether containers get one when their spec does
  // not say, and the host's binary (none found: such a start fails).
  init?: { default: boolean; path?: string; name: string };
  // userns-remap: the host ids container root maps to, and where the
  // overlay's layers are seen through an idmapped mount (view() turns a
  // path of the overlay into the same path in that view).
  remap?: { uid: number; gid: number; size: number; view: (p: string) => string };
  // Speculative runtime create: right after a container is created (and
  // its answer sent), its mounts and `runtime create` are done ahead of the
  // start the client is about to ask for, so that start only lets the
  // process run. Unused for windowMs, it is torn down again; at most `max`
  // are held at once (a script creating many containers to start them
  // later gets no shims held for nothing). Off when unset.
  speculate?: { windowMs: number; max?: number };
}

export interface CreateOptions {
  name?: string;
  // Kept with the record untouched (the Docker front-end's request).
  meta?: unknown;
}

interface Entry {
  rec: ContainerRecord;
  io: Attachments;
  exiting?: Promise<void>;
  // A start in progress (settles either way).
  starting?: Promise<void>;
  // When checkAlive first found the process gone with no exit code.
  goneSince?: number;
  // Its exit's cleanup has let go of the runtime's state, the network and
  // the mount (what an auto-removal that follows need not do again).
  released?: boolean;
  // An exit's cleanup in progress. The state says "exited" from its first
  // moment, so a `wait` answers and a client may start the container again
  // at once: that start waits for this, or the old run's unmount and
  // network teardown would take the new run's.
  settling?: Promise<void>;
  // Restart policy: the last back-off, and a restart called off by a
  // client's signal meant to end it (dockerd's ExitOnNext).
  backoffMs?: number;
  noRestart?: boolean;
  // An `oom` event was published since it started (the exit then sends none).
  oomReported?: boolean;
  // The runtime's state of the last exit is still there: an auto-removed
  // container's, removed once its removal has been answered, or before it
  // starts again (a restart that came first).
  runtimeLeft?: boolean;
  // A speculative create's result (see speculate()): the runtime holds the
  // container created, its root and volumes mounted; the record still says
  // "created" and nothing of it is shown.
  spec?: Prepared;
}

// What a start has made before it lets the process run.
interface Prepared {
  pid: number;
  conmonPid: number;
  group: string;
  // Calls off the speculation's expiry, and counts it no longer held.
  cancel?: () => void;
  release?: () => void;
}

// How far a start got, for its undoing.
interface Made {
  mounted: boolean;
  volumes: boolean;
  created: boolean;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export class ContainerService {
  private entries = new Map<string, Entry>();
  private lock = new KeyedLock();
  // 'exit' and 'removed' with the container id: what wait and stop wait for.
  private internal = new EventEmitter();
  // Restart policies' pending starts; they wait for autostart(), which the
  // daemon calls once the networks know the containers restored.
  private pending: PendingRestarts;
  private letStart!: () => void;
  private startable = new Promise<void>((r) => (this.letStart = r));
  private closing = false;
  // Speculative creates in progress or ready.
  private speculating = 0;

  constructor(private d: ContainerDeps, private opts: ContainerServiceOptions) {
    this.internal.setMaxListeners(0);
    this.pending = new PendingRestarts(opts.clock ?? wallClock);
  }

  // Loads the records and reconciles them with what the runtime left: exits
  // recorded while the daemon was down, removals and creates cut short,
  // leftovers of exits whose cleanup was interrupted.
  async init(): Promise<void> {
    this.d.runtime.onExit((id) => void this.handleExit(id));
    this.d.runtime.onOom((id) => this.handleOom(id));
    const { records, orphans } = await this.d.store.load();
    for (const id of orphans) await this.dropOrphan(id);
    for (const rec of records) this.entries.set(rec.id, { rec, io: this.attachments(rec) });
    // Side by side: each may ask the runtime, or wait a moment for an exit
    // code being written, and a daemon with many containers starts as fast.
    await Promise.all([...this.entries.values()].map((e) =>
      this.restore(e).catch((err) => this.opts.log('error', `restore ${e.rec.id.slice(0, 12)}: ${(err as Error).message}`))));
  }

  private async restore(e: Entry): Promise<void> {
    const c = e.rec;
    const s = c.state;
    if (s.status === 'removing') return this.remove(c.id, { force: true, volumes: c.spec.autoRemove });
    if (isRunning(s)) {
      let st = await this.d.runtime.status(this.ref(c));
      if (st.state === 'stopped' && !st.exit) {
        // Exited this moment: conmon may not have written the code yet.
        await new Promise((r) => setTimeout(r, this.opts.livenessCheckMs ?? 1000));
        st = await this.d.runtime.status(this.ref(c));
      }
      if (st.exit) return this.finishExit(e, st.exit.code, st.exit.at);
      if (st.state === 'paused' && s.status === 'running') {
        // Frozen by a commit that the daemon did not live to finish.
        await this.d.runtime.pause(this.ref(c), true);
        return;
      }
      if (st.state === 'running' && s.status === 'paused') {
        // Thawed while the daemon was away: the record follows the kernel.
        s.status = 'running';
        await this.saveQuietly(c);
        return;
      }
      if (st.state !== 'stopped' && st.state !== 'gone') return; // still there; its exit will be seen
      // The process is gone and left no exit code.
      return this.finishExit(e, 255, new Date(), 'container shim exited unexpectedly');
    }
    if (c.spec.autoRemove && s.startedAt) return this.remove(c.id, { force: true, volumes: true });
    // An exit whose cleanup was cut short, or a start that failed halfway.
    await this.d.runtime.delete(this.ref(c));
    this.unmountRootfs(c.id);
    // A policy restart the daemon did not live to make: due when it was.
    if (s.status === 'restarting') this.scheduleRestart(e, Math.min(c.restartAt ? Date.parse(c.restartAt) - this.pending.clock.now() : 0, BACKOFF_MAX_MS));
  }

  // The end of the daemon's start: pending policy restarts may run, and, as
  // dockerd's restore, containers that were started once and whose policy
  // wants them running are started (`always` even if stopped by hand,
  // `unless-stopped` unless, `on-failure` after a failure within its
  // retries), as a start by hand (the count starts over).
  async autostart(): Promise<void> {
    this.letStart();
    const wanted = (e: Entry) => {
      const c = e.rec;
      return c.state.status === 'exited' && !!c.state.startedAt && !c.spec.autoRemove && this.entries.has(c.id) &&
        shouldRestart(c.spec.restart, { exitCode: c.state.exitCode, manuallyStopped: !!c.manuallyStopped, restartCount: c.restartCount });
    };
    await Promise.all([...this.entries.values()].filter(wanted).map((e) =>
      this.lock.run(e.rec.id, async () => {
        if (!wanted(e) || this.closing) return;
        this.resetRestarts(e);
        await this.startLocked(e);
      }).catch((err) => this.opts.log('error', `autostart ${e.rec.id.slice(0, 12)}: ${(err as Error).message}`))));
  }

  private async dropOrphan(id: string): Promise<void> {
    // A create cut short, or a removal after its point of no return (whose
    // runtime state may be left: an auto-removal's goes last).
    await this.d.runtime.forget(id).catch((err) => this.opts.log('warn', `runtime state of ${id.slice(0, 12)}: ${(err as Error).message}`));
    this.unmountRootfs(id);
    await this.d.rootfs.removeContainer(id);
    await this.d.store.removeDir(id);
  }

  // ----- lookup -----

  get(ref: string): ContainerRecord {
    return this.entry(ref).rec;
  }

  private entry(ref: string): Entry {
    const rec = this.d.store.find(ref);
    const e = rec && this.entries.get(rec.id);
    if (!e) throw notFound(`No such container: ${ref}`);
    return e;
  }

  list(): ContainerRecord[] {
    return this.d.store.list();
  }

  files(id: string): ContainerFiles {
    return this.d.store.files(id);
  }

  usersOfImage(imageId: string): { id: string; running: boolean }[] {
    // A restarting one counts as running, as in dockerd: its image must stay.
    return this.list().filter((c) => c.spec.image.id === imageId).map((c) => ({ id: c.id, running: isRunning(c.state) || c.state.status === 'restarting' }));
  }

  private heldCaps(): string[] {
    return this.opts.heldCaps ?? DEFAULT_CAPS;
  }

  private ref(c: ContainerRecord): RuntimeRef {
    return { id: c.id, runtime: c.spec.runtime };
  }

  // ----- create -----

  async create(input: ContainerSpec, o: CreateOptions = {}): Promise<{ id: string; warnings: string[] }> {
    const spec: ContainerSpec = { ...input, runtime: input.runtime || this.opts.defaultRuntime };
    const image = this.d.images.get(spec.image.id);
    if (!image) throw notFound(`No such image: ${spec.image.ref || spec.image.id}`);
    this.d.runtime.check(spec.runtime);
    this.d.networks.check(spec.network);
    if (spec.process.cwd && !spec.process.cwd.startsWith('/')) {
      throw invalidArgument(`the working directory '${spec.process.cwd}' is invalid, it needs to be an absolute path`);
    }
    if (argvOf(spec.process).length === 0) throw invalidArgument('No command specified');
    if (spec.stop.signal !== undefined) parseSignal(spec.stop.signal);
    if (spec.autoRemove && restartsAtAll(spec.restart)) throw invalidArgument("can't create 'AutoRemove' container with restart policy");
    const warnings = this.checkLimits(spec);
    // moby's verifyPlatformContainerSettings: what a user namespace cannot be combined with.
    if (this.opts.remap && spec.userns !== 'host') {
      if (spec.security.privileged) throw invalidArgument('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
      if (spec.network.mode === 'host') throw invalidArgument('cannot share the host\'s network namespace when user namespaces are enabled');
      if (spec.pid.mode === 'host') throw invalidArgument('cannot share the host PID namespace when user namespaces are enabled');
    }
    checkSecurity(spec, this.heldCaps());
    // A container to join is named by its id from here on, as Docker does.
    if (spec.network.mode === 'container') spec.network = { mode: 'container', container: this.joinTarget(spec.network.container ?? '') };
    for (const k of ['ipc', 'pid', 'uts'] as const) {
      const ns = spec[k];
      if (ns.mode === 'container') spec[k] = { mode: 'container', container: this.joinTarget(ns.container) };
    }

    const id = newId();
    const name = o.name ? validateName(o.name) : randomName((n) => this.d.store.holderOf(n) !== undefined);
    if (!this.d.store.reserveName(name, id)) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${this.d.store.holderOf(name)}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    if (!spec.hostname) spec.hostname = spec.network.mode === 'host' ? hostHostname() : id.slice(0, 12);
    const files = this.d.store.files(id);
    const rec: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      spec,
      state: initialState(),
      restartCount: 0,
      conmonPid: 0,
      ...(o.meta !== undefined ? { meta: o.meta } : {}),
    };
    try {
      spec.mounts = await this.d.volumes.prepare(id, this.withVolumesFrom(spec.mounts, spec.volumesFrom ?? []));
      await this.d.store.makeDir(id);
      await Promise.all([
        spec.network.mode === 'container' ? undefined : this.d.networks.writeFiles(this.endpoint(rec), files),
        this.d.rootfs.prepare(id, image.chainID ?? ''),
      ]);
      // The record lands last: until then a crash leaves only a dir that init() drops.
      // An auto-removed container's is not synced: a host crash then loses
      // nothing anyone keeps (a record lost or torn leaves such a dir).
      await this.d.store.save(rec, !spec.autoRemove);
    } catch (err) {
      this.d.store.releaseName(name, id);
      this.d.volumes.settled(id);
      await this.d.volumes.release(id, spec.mounts, { removeAnonymous: true }).catch(() => {});
      await this.d.rootfs.removeContainer(id).catch(() => {});
      await this.d.store.removeDir(id).catch(() => {});
      throw err;
    }
    this.d.store.add(rec);
    this.d.volumes.settled(id);
    const entry: Entry = { rec, io: this.attachments(rec) };
    this.entries.set(id, entry);
    this.publish(rec, 'create');
    this.speculate(entry);
    return { id, warnings };
  }

  // `--volumes-from`: the other container's binds and volumes (not its
  // tmpfs), read-only if asked; the container's own mounts win at the same
  // target, and these win over its anonymous ones (the image's VOLUMEs).
  private withVolumesFrom(mounts: MountSpec[], from: VolumesFromSpec[]): MountSpec[] {
    const inherited: MountSpec[] = [];
    for (const f of from) {
      const other = this.d.store.find(f.container);
      if (!other) throw invalidArgument(`No such container: ${f.container}`);
      for (const m of other.spec.mounts) {
        if (m.type === 'tmpfs') continue;
        inherited.push({ ...m, readonly: f.readonly === undefined ? m.readonly : m.readonly || f.readonly, createHostPath: true });
      }
    }
    const own = mounts.filter((m) => !m.anonymous);
    const taken = new Set(own.map((m) => m.target));
    const shared = inherited.filter((m) => !taken.has(m.target) && (taken.add(m.target), true));
    return [...shared, ...own, ...mounts.filter((m) => m.anonymous && !taken.has(m.target))];
  }

  // Containers whose mounts name the volume.
  usersOfVolume(name: string): string[] {
    return this.list().filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name)).map((c) => c.id);
  }

  private attachments(c: ContainerRecord): Attachments {
    const p = c.spec.process;
    return new Attachments((m) => this.opts.log('warn', m), { tty: p.terminal, stdinOnce: p.stdinOnce }, () => this.publish(c, 'detach'));
  }

  private endpoint(c: ContainerRecord): NetworkEndpoint {
    return { id: c.id, name: c.name.replace(/^\//, ''), files: this.d.store.files(c.id), hostname: c.spec.hostname, domainname: c.spec.domainname, network: c.spec.network };
  }

  // ----- start -----

  async start(ref: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.id, async () => {
      // Restarting counts as running, as in dockerd.
      if (e.rec.state.status === 'restarting') throw notModified('container already started');
      if (!isRunning(e.rec.state)) this.resetRestarts(e);
      await this.startLocked(e);
    });
  }

  // The process runs, and may print, before the runtime's start returns and
  // the state says so: a kill meanwhile waits for it (kill()).
  private async startLocked(e: Entry): Promise<void> {
    const started = this.startProcess(e);
    e.starting = started.catch(() => {});
    try {
      await started;
    } finally {
      e.starting = undefined;
    }
  }

  private async startProcess(e: Entry): Promise<void> {
    const c = e.rec;
    if (e.settling) await e.settling;
    if (isRunning(c.state)) throw notModified('container already started');
    if (c.state.status === 'removing' || !this.entries.has(c.id)) throw notFound(`No such container: ${c.id}`);
    const image = this.d.images.get(c.spec.image.id);
    if (!image) {
      await this.dropSpeculation(e);
      throw notFound(`image ${c.spec.image.id} of container ${c.id.slice(0, 12)} not found`);
    }
    e.released = false;
    e.oomReported = false;
    if (e.runtimeLeft) {
      await this.d.runtime.delete(this.ref(c));
      e.runtimeLeft = false;
    }
    // A speculative create made ahead of this start: used if its process
    // still waits to run (one killed meanwhile is undone, and made again).
    let ready = e.spec;
    if (ready) {
      e.spec = undefined;
      ready.cancel?.();
      ready.release?.();
      if (!this.d.host.isAlive(ready.pid)) {
        await this.undoMade(c, { mounted: true, volumes: true, created: true });
        this.opts.log('debug', `speculative create of ${c.id.slice(0, 12)}: its process is gone, made again`);
        ready = undefined;
      } else this.opts.log('debug', `speculative create of ${c.id.slice(0, 12)}: used`);
    }
    const id = c.id;
    const made: Made = ready ? { mounted: true, volumes: true, created: true } : { mounted: false, volumes: false, created: false };
    try {
      const { pid, conmonPid, group } = ready ?? (await this.prepareRun(e, image, made));
      // Attach before the process runs, so no output is missed.
      e.io.connectAll(() => this.d.runtime.attach(this.ref(c)));
      await this.d.networks.attach(this.endpoint(c), pid);
      await this.d.runtime.start(this.ref(c));
      Object.assign(c.state, { status: 'running', oomKilled: false, pid, exitCode: 0, error: '', startedAt: new Date().toISOString(), finishedAt: '' });
      c.conmonPid = conmonPid;
      c.cgroup = group;
      // No fsync: what it guards against is a host crash, which ends the
      // process too; a record still saying "created" is then the truth.
      await this.d.store.save(c, false);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      await this.undoMade(c, made);
      e.io.endAll();
      if (c.state.status === 'running') {
        // Started, but its record could not be saved (a full disk): the
        // process was removed above, so the container has exited.
        Object.assign(c.state, { status: 'exited', pid: 0, finishedAt: new Date().toISOString() });
      }
      c.state.error = msg;
      c.state.exitCode = /executable file not found|no such file or directory/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 128;
      if (c.state.status !== 'exited') c.state.status = c.state.startedAt ? 'exited' : 'created';
      await this.saveQuietly(c);
      // `docker run --rm` waits for the removal even when start fails.
      if (c.spec.autoRemove) setImmediate(() => void this.remove(id, { force: true, volumes: true }).catch(() => {}));
      if (err instanceof BerthError && err.kind !== 'Internal') throw err;
      throw new BerthError(/executable file not found|no such file or directory|permission denied/i.test(msg) ? 'InvalidArgument' : 'Internal', msg);
    }
    this.publish(c, 'start');
    // The process may have exited before the state above was saved: its
    // exit code says so (asking the runtime itself would start a process
    // on the path of every start).
    if (await this.d.runtime.exited(this.ref(c))) void this.handleExit(id);
  }

  // A start up to the process about to run: the root and volumes mounted,
  // the OCI spec, and the runtime's create (the process waits to be let
  // go). `made` says how far it got, for undoMade.
  private async prepareRun(e: Entry, image: ImageRecord, made: Made): Promise<Prepared> {
    const c = e.rec;
    const id = c.id;
    const p = c.spec.process;
    // Namespaces to join are checked first: nothing is mounted for a start that cannot be.
    const joined = {
      network: c.spec.network.mode === 'container' ? this.joinable(c.spec.network.container ?? '', 'net') : undefined,
      ipc: this.nsChoice(c.spec.ipc, 'ipc'),
      pid: this.nsChoice(c.spec.pid, 'pid'),
      uts: this.nsChoice(c.spec.uts, 'uts'),
    };
    const remap = this.remapOf(c.spec);
    // A remapped container's network namespace is made by the runtime,
    // inside its user namespace (one made here would be the init
    // namespace's, which exec, having joined the container's user
    // namespace first, may not enter); attach() pins and wires it
    // between the runtime's create and start, as dockerd's prestart hook.
    const netns = remap ? undefined : this.d.networks.prepare?.(this.endpoint(c));
    netns?.catch(() => {});
    const rootfs = await this.mountRootfs(id, image, c.spec.autoRemove, remap);
    made.mounted = true;
    // At once, as exec's: two small files, where the thread pool's
    // round trips (open, stat, read, close each) cost more than the reads.
    const passwd = readFileInRootSync(rootfs, '/etc/passwd');
    const group = readFileInRootSync(rootfs, '/etc/group');
    const sec = securityOf(c.spec, this.heldCaps(), group, os.release());
    const user = resolveUser(p.user, passwd, group);
    const mounts = await this.d.volumes.mount(id, c.spec.mounts, rootfs, remap ? { remap } : {});
    made.volumes = true;
    user.additionalGids = [...new Set([...user.additionalGids, ...sec.groups])];
    const cwd = p.cwd || '/';
    await checkWorkdirInRoot(rootfs, cwd);
    if (cwd !== '/') {
      // In a remapped root, made as its root (host root's would be unmapped there) and owned by the user's host ids.
      const mkdir = remap ? async (dir: string) => this.d.host.mkdirAs(remap, dir, 0o755) : undefined;
      await ensureDir(rootfs, cwd, user.uid + (remap?.uid ?? 0), user.gid + (remap?.gid ?? 0), mkdir);
    }
    const files = joined.network ? this.d.store.files(joined.network.container.id) : this.d.store.files(id);
    // Root in the container owns its hosts, hostname and resolv.conf, as with dockerd.
    if (remap && !joined.network) await Promise.all([files.hosts, files.hostname, files.resolvConf].map((f) => fsp.chown(f, remap.uid, remap.gid).catch(() => {})));
    const limits = c.spec.limits ?? {};
    const cgroup = cgroupPaths(this.opts.cgroupDriver ?? 'cgroupfs', id, limits.cgroupParent);
    const spec = generateSpec({
      rootfs,
      args: argvOf(p),
      env: buildEnv([], p.env, c.spec.hostname, user.home, p.terminal),
      cwd,
      user,
      hostname: c.spec.hostname,
      domainname: c.spec.domainname,
      tty: p.terminal,
      ...(p.terminal && p.consoleSize ? { consoleSize: p.consoleSize } : {}),
      network: joined.network ? { path: joined.network.path } : c.spec.network.mode === 'host' ? 'host' : (await netns) ? { path: (await netns)! } : remap && c.spec.network.mode === 'bridge' ? 'private' : 'none',
      ipc: joined.ipc,
      pid: joined.pid,
      uts: joined.uts,
      files: { hosts: files.hosts, hostname: files.hostname, resolvConf: files.resolvConf },
      cgroupsPath: cgroup.runtime,
      resources: ociResources(limits, (p) => blockDevice(p)),
      rlimits: ociRlimits(limits),
      shmSize: shmSizeOption(limits),
      oomScoreAdj: limits.oomScoreAdj,
      cgroupns: limits.cgroupns,
      readonlyRootfs: c.spec.security.readonlyRootfs,
      seccomp: sec.seccomp,
      capabilities: sec.capabilities,
      noNewPrivileges: sec.noNewPrivileges,
      sysctl: sec.sysctl,
      devices: sec.devices,
      deviceRules: sec.deviceRules,
      privileged: sec.privileged,
      ...(this.initFor(c.spec) ? { init: this.initFor(c.spec) } : {}),
      // On a remapped container's network, its user namespace too (as
      // dockerd): the network namespace is that one's, which an exec
      // from another user namespace could not enter.
      ...(remap ? { userns: { uid: remap.uid, gid: remap.gid, size: remap.size, ...(joined.network && this.remapOf(joined.network.container.spec) ? { path: `/proc/${joined.network.container.state.pid}/ns/user` } : {}) } } : {}),
      annotations: c.spec.annotations,
      maskedPaths: c.spec.security.maskedPaths,
      readonlyPaths: c.spec.security.readonlyPaths,
      mounts,
    });
    const { pid, conmonPid } = await this.d.runtime.create(this.ref(c), spec, {
      logPath: this.logFile(c),
      ...(c.spec.log ? { log: c.spec.log } : {}),
      name: c.name.slice(1),
      stdin: p.stdin,
      tty: p.terminal,
      stdinOnce: p.stdinOnce,
    });
    made.created = true;
    return { pid, conmonPid, group: cgroup.group };
  }

  // Undoes what a start made (prepareRun's parts), quietly.
  private async undoMade(c: ContainerRecord, made: Made): Promise<void> {
    if (made.created) await this.d.runtime.delete(this.ref(c)).catch(() => {});
    await this.d.networks.detach(c.id).catch(() => {});
    if (made.volumes) await this.d.volumes.unmount(c.id, c.spec.mounts).catch(() => {});
    if (made.mounted) this.unmountRootfs(c.id);
  }

  // ----- speculative create -----

  // Whether a created container may be made ready ahead of its start:
  // nothing it joins or is wired to can change between now and then (no
  // other container's namespaces, no bridge endpoint, whose pool and
  // connect/disconnect belong to the start).
  private speculable(spec: ContainerSpec): boolean {
    if (spec.network.mode !== 'none' && spec.network.mode !== 'host') return false;
    return spec.ipc.mode !== 'container' && spec.pid.mode !== 'container' && spec.uts.mode !== 'container';
  }

  // After a create (its answer on its way): the start's mounts and the
  // runtime's create, made now in the container's lock, while the client
  // sends attach, wait and start. Nothing is published and the state stays
  // "created"; anything that could change what it made (a removal, cp, an
  // update, a rename, commit, export, the daemon's stop) undoes it first;
  // unused for the window, it is undone too. A failure here is not the
  // start's: it is undone and the start makes it again (and reports it).
  private speculate(e: Entry): void {
    const o = this.opts.speculate;
    const c = e.rec;
    if (!o || !this.speculable(c.spec) || this.speculating >= (o.max ?? 8)) return;
    this.speculating++;
    let held = false;
    setImmediate(() => void this.lock.run(c.id, async () => {
      if (c.state.status !== 'created' || !this.entries.has(c.id) || this.closing || e.spec) return;
      const image = this.d.images.get(c.spec.image.id);
      if (!image) return;
      const made: Made = { mounted: false, volumes: false, created: false };
      try {
        const ready = await this.prepareRun(e, image, made);
        ready.cancel = this.pending.clock.after(o.windowMs, () => void this.lock.run(c.id, async () => {
          if (e.spec === ready) await this.dropSpeculation(e);
        }).catch(() => {}));
        ready.release = () => this.speculating--;
        e.spec = ready;
        held = true;
        this.opts.log('debug', `speculative create of ${c.id.slice(0, 12)}: ready`);
      } catch (err) {
        await this.undoMade(c, made);
        this.opts.log('debug', `speculative create of ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }).catch(() => {}).finally(() => {
      if (!held) this.speculating--;
    }));
  }

  // Undoes a speculative create (holding the lock): the container is plainly created again.
  private async dropSpeculation(e: Entry): Promise<void> {
    const ready = e.spec;
    if (!ready) return;
    e.spec = undefined;
    ready.cancel?.();
    ready.release?.();
    await this.undoMade(e.rec, { mounted: true, volumes: true, created: true });
    this.opts.log('debug', `speculative create of ${e.rec.id.slice(0, 12)}: undone`);
  }

  // The host's init binary when the container runs under one: asked for, or
  // the daemon's default; never in a pid namespace it does not own (pid 1
  // is another's there), as dockerd.
  private initFor(spec: ContainerSpec): string | undefined {
    const o = this.opts.init;
    if (spec.pid.mode !== 'private' || !(spec.init ?? o?.default ?? false)) return undefined;
    if (!o?.path) throw new BerthError('InvalidArgument', `exec: "${o?.name ?? 'docker-init'}": executable file not found in $PATH`);
    return o.path;
  }

  // The id of a container whose namespaces a new one will join. Not a 404:
  // clients take a 404 from create for a missing image and try to pull.
  private joinTarget(ref: string): string {
    const other = this.d.store.find(ref);
    if (!other) throw invalidArgument(`cannot join container ${ref}: No such container: ${ref}`);
    return other.id;
  }

  // A namespace of another running container, as /proc/<pid>/ns/<kind>.
  private joinable(ref: string, kind: string): { container: ContainerRecord; path: string } {
    const other = this.entry(ref).rec;
    if (!isRunning(other.state)) throw conflict(`cannot join container ${other.name.slice(1)}: it is not running`);
    return { container: other, path: `/proc/${other.state.pid}/ns/${kind}` };
  }

  private nsChoice(ns: Namespace, kind: string): NsChoice {
    if (ns.mode === 'host') return 'host';
    if (ns.mode === 'container') return { path: this.joinable(ns.container, kind).path };
    return 'private';
  }

  // An auto-removed container's writable layer is mounted volatile: it is
  // never synced, since it goes when the process exits (a host crash
  // removes the container too), and its unmount then waits for no
  // writeback of the whole filesystem. A kernel without the option (before
  // 5.10) mounts it as any other.
  // With userns-remap the layers are taken through the idmapped view, so
  // that the container's root (a host id of the remapped range) owns what
  // root owns on disk, and what it writes lands as root's there: the layers
  // and the container's own stay as without remapping (commit, diff, cp of
  // a stopped container, --userns=host). overlayfs works in the upper dir
  // with its mounter's ids, which must be mapped ones: mountAs.
  private async mountRootfs(id: string, image: ImageRecord, volatile = false, remap?: ContainerServiceOptions['remap']): Promise<string> {
    const m = await this.d.rootfs.prepare(id, image.chainID ?? '', { volatile });
    this.unmountRootfs(id);
    try {
      this.mountOverlay(m, 0, remap);
    } catch (err: any) {
      if (!volatile || err.code !== 'EINVAL') throw err;
      this.mountOverlay({ ...m, options: m.options.filter((o) => o !== 'volatile') }, 0, remap);
    }
    return m.target;
  }

  // A container's overlay mount, through the idmapped view with remap.
  private mountOverlay(m: { source: string; target: string; type: string; options: string[] }, flags: number, remap?: ContainerServiceOptions['remap']): void {
    if (!remap) return this.d.host.mount(m.source, m.target, m.type, flags, m.options.join(','));
    // The init link is absolute: it would lead out of the view.
    const inView = (p: string) => remap.view(path.basename(p) === 'init' ? realpathSync(p) : p);
    const options = m.options.map((o) => o.replace(/^(lowerdir|upperdir|workdir)=(.*)$/, (_, k: string, v: string) => `${k}=${v.split(':').map(inView).join(':')}`));
    this.d.host.mountAs({ uid: remap.uid, gid: remap.gid }, m.source, m.target, m.type, flags, options.join(','));
  }

  // For docker cp of a stopped container: its root mounted as a start
  // mounts it (through the idmapped view when remapped, so that it shows
  // the same ids as while it runs: host ids of the range).
  mountStoppedRoot(c: ContainerRecord, m: { source: string; target: string; type: string; options: string[] }, flags: number): void {
    this.mountOverlay(m, flags, this.remapOf(c.spec));
  }

  // The ids a remapped container's root shows from outside (host ids of
  // the range, size ids each); none for one that is not remapped.
  idmapOf(c: ContainerRecord): { uid: number; gid: number; size: number } | undefined {
    const r = this.remapOf(c.spec);
    return r ? { uid: r.uid, gid: r.gid, size: r.size } : undefined;
  }

  // The remapping a container runs under: the daemon's, unless --userns=host.
  private remapOf(spec: ContainerSpec): ContainerServiceOptions['remap'] {
    return spec.userns === 'host' ? undefined : this.opts.remap;
  }

  private unmountRootfs(id: string): void {
    const target = path.join(this.d.rootfs.containerDir(id), 'merged');
    try {
      this.d.host.umount(target, MNT_DETACH);
    } catch (err: any) {
      if (err.code !== 'EINVAL' && err.code !== 'ENOENT') this.opts.log('warn', `unmount ${target}: ${err.message}`);
    }
  }

  // ----- exit -----

  // An OOM event of a running container's memory cgroup: dockerd's `oom`
  // event, at once (the container may well live on: a child was killed).
  private handleOom(id: string): void {
    const e = this.entries.get(id);
    if (!e || !isRunning(e.rec.state)) return;
    e.oomReported = true;
    this.publish(e.rec, 'oom');
  }

  // Called for each change in the exit dir; the first complete exit wins.
  private handleExit(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e || !isRunning(e.rec.state)) return Promise.resolve();
    if (!e.exiting) {
      e.exiting = (async () => {
        // A start still finishing (its record saved, its `start` event not
        // yet out) goes first: a quick process's `die` follows its `start`.
        if (e.starting) await e.starting;
        // Only a recorded exit code settles it; a process gone without
        // one is checkAlive's to find.
        const exit = await this.d.runtime.exited(this.ref(e.rec));
        if (exit) await this.finishExit(e, exit.code, exit.at);
      })()
        .catch((err) => this.opts.log('error', `exit of ${id.slice(0, 12)}: ${(err as Error).message}`))
        .finally(() => { e.exiting = undefined; });
    }
    return e.exiting;
  }

  // The exit is saved before the runtime forgets the container (its exit
  // code goes with it): a crash in between leaves leftovers that init()
  // clears, never a container shown running that is not.
  private async finishExit(e: Entry, code: number, at: Date, error = ''): Promise<void> {
    const c = e.rec;
    if (!isRunning(c.state)) return;
    const oomKilled = !!c.cgroup && !!this.opts.oomKilled?.(c.cgroup);
    const restartIn = this.planRestart(e, code, at);
    Object.assign(c.state, { status: restartIn === undefined ? 'exited' : 'restarting', pid: 0, exitCode: code, error, finishedAt: at.toISOString(), oomKilled });
    let settled!: () => void;
    e.settling = new Promise<void>((r) => (settled = r));
    try {
      await this.releaseExit(e, code);
    } finally {
      e.settling = undefined;
      settled();
    }
    if (restartIn !== undefined) this.scheduleRestart(e, restartIn);
    else if (c.spec.autoRemove) {
      await this.remove(c.id, { force: true, auto: true, volumes: true }).catch((err) => this.opts.log('warn', `auto-remove ${c.id.slice(0, 12)}: ${err.message}`));
    }
  }

  // The rest of an exit: saved, and the runtime, network, mount and volumes
  // let go of; then the die event.
  private async releaseExit(e: Entry, code: number): Promise<void> {
    const c = e.rec;
    c.conmonPid = 0;
    // An auto-removed container's exit is not saved: it is removed next,
    // and a daemon stopped before that removes it at start whatever its
    // record says (a running one whose process is gone is settled as
    // exited, then removed).
    const saved = c.spec.autoRemove || (await this.saveQuietly(c));
    // Unsaved (a full disk), the runtime keeps the exit code for a restart.
    // Side by side: the runtime's delete and the network's teardown (whose
    // disconnect events follow the die, as dockerd's do). An auto-removed
    // container's runtime state goes after its removal is answered
    // (remove()): nothing needs it before, and a start again deletes it first.
    const deferRuntime = !!c.spec.autoRemove;
    let released = saved;
    let died!: () => void;
    const dieSent = new Promise<void>((r) => (died = r));
    try {
      await Promise.all([
        saved && !deferRuntime
          ? this.d.runtime.delete(this.ref(c)).catch((err) => {
              released = false;
              this.opts.log('warn', `runtime delete ${c.id.slice(0, 12)}: ${err.message}`);
            })
          : undefined,
        this.d.networks.detach(c.id, { announceAfter: dieSent, background: true }).catch((err) => {
          released = false;
          this.opts.log('warn', `network detach ${c.id.slice(0, 12)}: ${err.message}`);
        }),
      ]);
      this.unmountRootfs(c.id);
      await this.d.volumes.unmount(c.id, c.spec.mounts).catch((err) => this.opts.log('warn', `volume unmount ${c.id.slice(0, 12)}: ${err.message}`));
      e.released = released;
      e.runtimeLeft = deferRuntime;
      this.internal.emit('exit', c.id);
      // An OOM kill whose event did not come first (conmon reports it as
      // the process dies, or the daemon was down) still precedes the die.
      if (c.state.oomKilled && !e.oomReported) this.publish(c, 'oom');
      e.oomReported = false;
      this.publish(c, 'die', { exitCode: String(code) });
    } finally {
      died();
    }
  }

  // ----- restart policies (restart.ts) -----

  // The policy's word on an exit: a restart is counted, and when it is due
  // is kept with the record. Returns its delay.
  private planRestart(e: Entry, code: number, at: Date): number | undefined {
    const c = e.rec;
    const d = decide(c.spec.restart, {
      exitCode: code,
      manuallyStopped: !!c.manuallyStopped,
      restartCount: c.restartCount,
      ranMs: at.getTime() - Date.parse(c.state.startedAt),
      lastBackoffMs: e.backoffMs ?? 0,
      canceled: !!e.noRestart,
    });
    e.backoffMs = d.backoffMs;
    delete c.restartAt;
    if (d.delayMs === undefined) return undefined;
    c.restartCount++;
    c.restartAt = new Date(this.pending.clock.now() + d.delayMs).toISOString();
    return d.delayMs;
  }

  // A daemon going away leaves it to the record (restore schedules it again).
  private scheduleRestart(e: Entry, ms: number): void {
    if (this.closing) return;
    this.pending.schedule(e.rec.id, ms, () => void this.policyRestart(e));
  }

  // The start a policy asked for, unless called off meanwhile. One that
  // fails leaves the container exited (its waiters are told).
  private async policyRestart(e: Entry): Promise<void> {
    await this.startable;
    const c = e.rec;
    await this.lock.run(c.id, async () => {
      if (c.state.status !== 'restarting' || !this.entries.has(c.id) || this.closing) return;
      delete c.restartAt;
      try {
        await this.startLocked(e);
      } catch (err) {
        this.opts.log('warn', `restart of ${c.id.slice(0, 12)} by its policy: ${(err as Error).message}`);
        // Refused before anything ran (its image gone): exited all the same.
        if (c.state.status === 'restarting') {
          Object.assign(c.state, { status: 'exited', error: (err as Error).message });
          await this.saveQuietly(c);
        }
        this.internal.emit('exit', c.id);
      }
    }).catch((err) => this.opts.log('error', `restart of ${c.id.slice(0, 12)}: ${(err as Error).message}`));
  }

  // A start by hand: the count starts over, the back-off too, and the
  // container is no longer "stopped by hand" (moby's ResetRestartManager).
  private resetRestarts(e: Entry): void {
    e.rec.restartCount = 0;
    delete e.rec.manuallyStopped;
    e.backoffMs = 0;
    e.noRestart = false;
  }

  // Calls off a pending restart (holding the lock): the container is
  // exited, with the code of its last exit.
  private async cancelRestart(e: Entry): Promise<void> {
    const c = e.rec;
    this.pending.cancel(c.id);
    if (c.state.status !== 'restarting') return;
    c.state.status = 'exited';
    delete c.restartAt;
    await this.saveQuietly(c);
    this.internal.emit('exit', c.id);
  }

  // A client's stop, kill, restart or rm -f: the container is "stopped by
  // hand", saved before the signal goes, and a signal meant to end it calls
  // off the restart its exit would bring (dockerd's kill).
  private async markStopped(e: Entry, sig: NodeJS.Signals | number): Promise<void> {
    if (this.meantToEnd(e.rec, sig)) e.noRestart = true;
    if (e.rec.manuallyStopped) return;
    e.rec.manuallyStopped = true;
    await this.saveQuietly(e.rec, false);
  }

  // dockerd's rule for a signal meant to end a container: SIGKILL, its stop
  // signal, or any signal when it has none set.
  private meantToEnd(c: ContainerRecord, sig: NodeJS.Signals | number): boolean {
    const n = parseSignal(String(sig));
    return c.spec.stop.signal === undefined || n === 9 || n === parseSignal(c.spec.stop.signal);
  }

  // Resolves once the container is not running any more. While waiting it
  // checks, now and then, that the process still exists: a process whose
  // exit was never recorded must not keep a caller waiting forever.
  // A caller that goes away (a log follower that hangs up) passes a signal,
  // so nothing keeps watching for it.
  private exited(e: Entry, signal?: AbortSignal): Promise<void> {
    const id = e.rec.id;
    if (!isRunning(e.rec.state) || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (eid: string) => {
        if (eid !== id) return;
        clearInterval(timer);
        this.internal.off('exit', done);
        this.internal.off('removed', done);
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => done(id);
      const timer = setInterval(() => void this.checkAlive(e), this.opts.livenessCheckMs ?? 1000);
      this.internal.on('exit', done);
      this.internal.on('removed', done);
      signal?.addEventListener('abort', abort);
    });
  }

  // The runtime reports a process stopped a moment before conmon has written
  // its exit code, so one sighting of a process gone without one is only a
  // suspicion; a second, a check later, settles it.
  private async checkAlive(e: Entry): Promise<void> {
    if (!isRunning(e.rec.state) || e.exiting) return;
    // The cheap answer first: a live process needs no `runc state`.
    if (this.d.host.isAlive(e.rec.state.pid)) {
      e.goneSince = undefined;
      return;
    }
    const st = await this.d.runtime.status(this.ref(e.rec));
    if (st.exit) return this.handleExit(e.rec.id);
    if (st.state !== 'gone' && st.state !== 'stopped') {
      e.goneSince = undefined;
      return;
    }
    const now = Date.now();
    if (e.goneSince === undefined || now - e.goneSince < (this.opts.livenessCheckMs ?? 1000) / 2) {
      e.goneSince ??= now;
      return;
    }
    await this.finishExit(e, 255, new Date(), 'container process is gone and left no exit code');
  }

  // ----- stop / kill / restart -----

  async stop(ref: string, o: { timeout?: number; signal?: string } = {}): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.id, () => this.stopLocked(e, o.timeout, o.signal));
  }

  private async stopLocked(e: Entry, timeout?: number, signal?: string): Promise<void> {
    const c = e.rec;
    const sig = parseSignal(signal || c.spec.stop.signal, 'SIGTERM');
    if (c.state.status === 'restarting') {
      // No process to signal: the pending restart is called off.
      await this.markStopped(e, 'SIGKILL');
      await this.cancelRestart(e);
      this.publish(c, 'stop');
      return;
    }
    if (!isRunning(c.state)) throw notModified('container already stopped');
    const t = timeout ?? c.spec.stop.timeout ?? 10;
    await this.markStopped(e, sig);
    const done = this.exited(e);
    this.signal(e, sig);
    this.publish(c, 'kill', { signal: String(sig) });
    if (t >= 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), t * 1000); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        e.noRestart = true;
        this.signal(e, 'SIGKILL');
        this.publish(c, 'kill', { signal: '9' });
      }
    }
    await done;
    this.publish(c, 'stop');
  }

  // Signals the process; one that is gone already gets its exit settled.
  // A paused container is thawed after a signal meant to end it, so it can
  // die (dockerd's rule: SIGKILL, its stop signal, or any signal when it has
  // none set); other signals wait for the unpause.
  private signal(e: Entry, sig: NodeJS.Signals | number): void {
    if (!this.d.runtime.kill(e.rec.state.pid, sig)) {
      void this.checkAlive(e);
      return;
    }
    const c = e.rec;
    if (c.state.status !== 'paused' || !this.meantToEnd(c, sig)) return;
    c.state.status = 'running';
    void this.d.runtime.pause(this.ref(c), true)
      .then(() => this.saveQuietly(c, false))
      .catch((err) => this.opts.log('warn', `unpause ${c.id.slice(0, 12)} to end it: ${(err as Error).message}`));
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const e = this.entry(ref);
    const c = e.rec;
    const sig = parseSignal(signal, 'SIGKILL');
    // As dockerd's kill waits for the container's lock held by a start: a
    // client forwarding a signal as soon as it sees output is not refused.
    if (e.starting) await e.starting;
    if (c.state.status === 'restarting') {
      // As dockerd: no process to signal; one meant to end it calls off the restart.
      const calledOff = await this.lock.run(c.id, async () => {
        if (c.state.status !== 'restarting') return false;
        await this.markStopped(e, sig);
        if (e.noRestart) await this.cancelRestart(e);
        return true;
      });
      if (calledOff) return;
    }
    if (!isRunning(c.state)) throw conflict(`cannot kill container: ${ref}: container ${c.id} is not running`);
    await this.markStopped(e, sig);
    const done = this.exited(e);
    this.signal(e, sig);
    this.publish(c, 'kill', { signal: String(sig) });
    // After SIGKILL, callers expect the container to be gone when we answer.
    if (sig === 9) await done;
  }

  async restart(ref: string, o: { timeout?: number; signal?: string } = {}): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.id, async () => {
      if (isRunning(e.rec.state) || e.rec.state.status === 'restarting') await this.stopLocked(e, o.timeout, o.signal);
      this.resetRestarts(e);
      await this.startLocked(e);
    });
    this.publish(e.rec, 'restart');
  }

  // ----- wait -----

  // Throws NotFound at once (before the caller sends headers); the returned
  // promise settles when the condition is met.
  // A waiter that goes away passes a signal: its listeners go with it (the
  // promise then settles with the state as it is).
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const e = this.entry(ref);
    const id = e.rec.id;
    const result = (): WaitResult => ({ StatusCode: e.rec.state.exitCode, Error: null });
    if (condition === 'not-running' && !isRunning(e.rec.state) && e.rec.state.status !== 'restarting') return Promise.resolve(result());
    return new Promise((resolve) => {
      const settle = (eid: string, removed: boolean) => {
        if (eid !== id || (condition === 'removed' && !removed)) return;
        this.internal.off('exit', onExit);
        this.internal.off('removed', onRemoved);
        signal?.removeEventListener('abort', onAbort);
        resolve(result());
      };
      const onExit = (eid: string) => settle(eid, false);
      const onRemoved = (eid: string) => settle(eid, true);
      const onAbort = () => settle(id, true);
      this.internal.on('exit', onExit);
      this.internal.on('removed', onRemoved);
      signal?.addEventListener('abort', onAbort);
    });
  }

  // ----- remove -----

  // `auto` is the auto-removal of an exited --rm container, which no client
  // asked for and the client of `run --rm` only waits for: its record goes
  // without fsync (one that a host crash brings back is removed again at
  // the next start, as auto-remove and started), and the container is
  // reported removed once its record is gone; its directories go after,
  // and the daemon waits for them when it stops (those of a daemon killed
  // meanwhile are orphans, which init() drops).
  // volumes: the container's anonymous volumes go too (rm -v, --rm).
  async remove(ref: string, opts: { force: boolean; auto?: boolean; volumes?: boolean }): Promise<void> {
    const e = this.entry(ref);
    const id = e.rec.id;
    await this.lock.run(id, async () => {
      if (!this.entries.has(id)) return;
      const c = e.rec;
      await this.dropSpeculation(e);
      // Started again meanwhile (a restart held the lock): it stays, as
      // dockerd keeps a container restarted by hand; its next exit removes
      // it. Killing it here would wait for an exit that this removal, part
      // of the last exit's handling, keeps from being handled.
      if (opts.auto && isRunning(c.state)) return;
      if (isRunning(c.state) || c.state.status === 'restarting') {
        if (!opts.force) {
          throw conflict(`cannot remove container "${c.name}": container is ${c.state.status === 'restarting' ? 'restarting' : 'running'}: stop the container before removing or force remove`);
        }
        await this.markStopped(e, 'SIGKILL');
      }
      if (c.state.status === 'restarting') await this.cancelRestart(e);
      if (isRunning(c.state)) {
        const done = this.exited(e);
        this.signal(e, 'SIGKILL');
        await done;
      }
      if (!this.entries.has(id)) return;
      const before = c.state.status;
      c.state.status = 'removing';
      // So that a crash from here on finishes the removal at the next start;
      // on a full disk it cannot be written, and removing must still work.
      // An auto-removed container is removed at start anyway.
      if (!opts.auto) await this.saveQuietly(c, false);
      // The process has exited: what the shim still holds of its output
      // reaches the attached clients (docker run --rm of a quick command).
      e.io.endAll({ drainMs: 2000 });
      // Left by the exit for after the answer (a daemon killed before it
      // leaves an orphaned directory, whose runtime state init() removes).
      const runtimeLeft = !!(opts.auto && e.released && e.runtimeLeft);
      try {
        // What the exit's cleanup did is not done again.
        if (!(opts.auto && e.released)) {
          await this.d.runtime.delete(this.ref(c));
          await this.d.networks.detach(id);
          this.unmountRootfs(id);
        }
        await this.d.networks.forget?.(id, { background: !!opts.auto });
        await this.d.store.forget(id, !opts.auto);
      } catch (err) {
        c.state.status = before;
        await this.saveQuietly(c, false);
        throw err;
      }
      this.entries.delete(id);
      this.d.store.drop(c);
      await this.d.volumes.release(id, c.spec.mounts, { removeAnonymous: !!opts.volumes }).catch((err) => this.opts.log('warn', `volumes of ${id.slice(0, 12)}: ${(err as Error).message}`));
      const dirs = async () => {
        if (runtimeLeft) await this.d.runtime.delete(this.ref(c)).catch((err) => this.opts.log('warn', `runtime delete ${id.slice(0, 12)}: ${(err as Error).message}`));
        await this.d.rootfs.removeContainer(id);
        await this.d.store.removeDir(id);
      };
      if (opts.auto) this.inBackground(dirs(), `auto-remove ${id.slice(0, 12)}`);
      else await dirs();
      this.internal.emit('removed', id);
      this.publish(c, 'destroy');
    });
  }

  // Work left to finish after its caller was answered; stop() waits for it.
  private background = new Set<Promise<void>>();
  private inBackground(p: Promise<void>, what: string): void {
    const tracked = p.catch((err) => this.opts.log('warn', `${what}: ${(err as Error).message}`)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  // Resolves once no work is left in the background.
  async idle(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  // ----- logs and attach -----

  // Throws before the first record (for the route's status) when the
  // driver keeps nothing to read.
  logs(ref: string, o: LogOptions, signal?: AbortSignal): AsyncGenerator<LogRecord> {
    const e = this.entry(ref);
    const driver = e.rec.spec.log?.driver ?? 'k8s-file';
    if (driver === 'none') throw new BerthError('NotImplemented', 'configured logging driver does not support reading');
    const done = o.follow ? this.exited(e, signal) : Promise.resolve();
    return readLog(this.logFile(e.rec), driver, o, done, signal);
  }

  // The container's log file as its driver names it ("" for none).
  logFile(c: ContainerRecord): string {
    return logPath(this.d.store.files(c.id).dir, c.id, c.spec.log?.driver ?? 'k8s-file');
  }

  async attach(ref: string, opts: AttachOptions, sink: AttachSink): Promise<AttachHandle> {
    const e = this.entry(ref);
    const c = e.rec;
    if (c.state.status === 'paused') throw conflict(`container ${ref} is paused, unpause the container before attach`);
    if (c.state.status === 'restarting') throw conflict(`container ${ref} is restarting, wait until the container is running`);
    // A client's stdin goes nowhere unless the container keeps stdin open.
    opts = { ...opts, stdin: opts.stdin && c.spec.process.stdin };
    this.publish(c, 'attach');
    if (opts.logs && c.spec.log?.driver !== 'none') {
      const past = readLog(this.logFile(c), c.spec.log?.driver ?? 'k8s-file', { stdout: opts.stdout, stderr: opts.stderr, follow: false }, Promise.resolve());
      for await (const r of past) sink.out(r.stream, r.data);
    }
    if (!opts.stream) {
      sink.end();
      return noAttach;
    }
    return e.io.add(opts, sink, isRunning(c.state) ? () => this.d.runtime.attach(this.ref(c)) : undefined);
  }

  // Sets the size of a TTY container's terminal. As dockerd (whose shim
  // does nothing for a process without a terminal), a running container
  // without one answers success.
  async resize(ref: string, size: TerminalSize): Promise<void> {
    const e = this.entry(ref);
    const c = e.rec;
    if (!isRunning(c.state)) throw conflict(`container ${c.id} is not running`);
    if (!c.spec.process.terminal) return;
    try {
      await this.d.runtime.resize(this.ref(c), size);
    } catch (err) {
      // It exited meanwhile.
      if (isKind(err, 'Conflict')) throw conflict(`container ${c.id} is not running`);
      throw err;
    }
    this.publish(c, 'resize', { height: String(size.height), width: String(size.width) });
  }

  // ----- pause, unpause, rename -----

  // Freezes every process of the container (the freezer cgroup); the state
  // is saved, so a daemon restart keeps it paused.
  async pause(ref: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.id, async () => {
      const c = e.rec;
      if (c.state.status === 'restarting') throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
      if (!isRunning(c.state)) throw conflict(`container ${c.id} is not running`);
      if (c.state.status === 'paused') throw conflict(`Container ${c.id} is already paused`);
      try {
        await this.d.runtime.pause(this.ref(c), false);
      } catch (err) {
        throw new BerthError('Internal', `cannot pause container ${c.id}: ${(err as Error).message}`);
      }
      c.state.status = 'paused';
      await this.saveQuietly(c);
      this.publish(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.id, async () => {
      const c = e.rec;
      if (c.state.status !== 'paused') throw conflict(`Container ${c.id} is not paused`);
      try {
        await this.d.runtime.pause(this.ref(c), true);
      } catch (err) {
        throw new BerthError('Internal', `Cannot unpause container ${c.id}: ${(err as Error).message}`);
      }
      c.state.status = 'running';
      await this.saveQuietly(c);
      this.publish(c, 'unpause');
    });
  }

  // Gives the container a new name; the old one is free at once. Running
  // or not: the shim and the runtime know the container by its id.
  async rename(ref: string, newName: string): Promise<void> {
    const wanted = newName.trim();
    if (ref.trim().replace(/^\//, '') === '' || wanted.replace(/^\//, '') === '') throw invalidArgument('Neither old nor new names may be empty');
    const e = this.entry(ref.trim());
    await this.lock.run(e.rec.id, async () => {
      const c = e.rec;
      const name = wanted.startsWith('/') ? wanted : `/${wanted}`;
      // The shim was given the old name.
      await this.dropSpeculation(e);
      if (c.name === name) throw invalidArgument('Renaming a container with the same name as its current name');
      try {
        validateName(name);
      } catch (err) {
        throw new BerthError('InvalidArgument', `Error when allocating new name: ${(err as Error).message}`);
      }
      if (!this.d.store.reserveName(name, c.id)) {
        throw conflict(`Error when allocating new name: Conflict. The container name "${name}" is already in use by container "${this.d.store.holderOf(name)}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      const oldName = c.name;
      c.name = name;
      try {
        await this.d.store.save(c);
      } catch (err) {
        c.name = oldName;
        this.d.store.releaseName(name, c.id);
        throw err;
      }
      this.d.store.releaseName(oldName, c.id);
      this.publish(c, 'rename', { oldName });
    });
  }

  // ----- limits -----

  // Checks a spec's limits against the host, dropping what its cgroups
  // cannot apply; returns dockerd's warnings for those.
  private checkLimits(spec: ContainerSpec): string[] {
    if (!spec.limits) return [];
    cgroupPaths(this.opts.cgroupDriver ?? 'cgroupfs', 'check', spec.limits.cgroupParent);
    if (!this.opts.hostLimits) return [];
    const { limits, warnings } = fitLimits(spec.limits, this.opts.hostLimits);
    spec.limits = limits;
    return warnings;
  }

  // Replaces the container's limits (the front-end merges an update into
  // the old ones), its restart policy when given, and its meta; a running or
  // paused container's cgroup changes at once, a stopped one's at its next
  // start; a new policy rules the next exit. Returns warnings.
  async update(ref: string, limits: LimitsSpec, meta?: unknown, restart?: RestartPolicy): Promise<string[]> {
    const e = this.entry(ref);
    return this.lock.run(e.rec.id, async () => {
      const c = e.rec;
      if (c.state.status === 'removing' || c.state.status === 'dead') {
        throw conflict(`Cannot update container ${c.id}: container is marked for removal and cannot be "update"`);
      }
      if (restart && c.spec.autoRemove && restartsAtAll(restart)) {
        throw conflict(`Cannot update container ${c.id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
      }
      const spec: ContainerSpec = { ...c.spec, limits, ...(restart ? { restart } : {}) };
      const warnings = this.checkLimits(spec);
      // Its cgroup was made with the old limits.
      await this.dropSpeculation(e);
      if (isRunning(c.state)) {
        try {
          await this.d.runtime.update(this.ref(c), ociUpdate(spec.limits ?? {}, (p) => blockDevice(p)));
        } catch (err) {
          if (err instanceof BerthError && err.kind !== 'Internal') throw err;
          throw new BerthError('Internal', `Cannot update container ${c.id}: ${(err as Error).message}`);
        }
      }
      const old = { spec: c.spec, meta: c.meta };
      c.spec = spec;
      if (meta !== undefined) c.meta = meta;
      try {
        await this.d.store.save(c);
      } catch (err) {
        Object.assign(c, old);
        throw err;
      }
      this.publish(c, 'update');
      return warnings;
    });
  }

  // ----- the rest -----

  async sizeRw(id: string): Promise<number> {
    return this.d.rootfs.upperSize(id);
  }

  // Lets go of the clients' streams and waits for what is left in the
  // background.
  shutdown(): Promise<void> {
    // Pending policy restarts stay in the records, for the next start.
    this.closing = true;
    this.pending.cancelAll();
    for (const e of this.entries.values()) {
      e.io.closeAll();
      if (e.spec) this.inBackground(this.lock.run(e.rec.id, () => this.dropSpeculation(e)), `speculative create of ${e.rec.id.slice(0, 12)}`);
    }
    return this.idle();
  }

  // Runs fn holding the container's lifecycle lock (commit, export): no
  // start, stop or remove of that container runs meanwhile. With pause, a
  // running container is frozen for as long as fn runs (a consistent commit).
  async withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>, o: { pause?: boolean } = {}): Promise<T> {
    const e = this.entry(ref);
    return this.lock.run(e.rec.id, async () => {
      const c = e.rec;
      // cp, commit and export mount a stopped container's root themselves,
      // and what cp writes must be what the start sees.
      await this.dropSpeculation(e);
      if (!o.pause || c.state.status !== 'running') return fn(c);
      await this.d.runtime.pause(this.ref(c), false);
      c.state.status = 'paused';
      try {
        return await fn(c);
      } finally {
        if (c.state.status === 'paused') {
          c.state.status = 'running';
          await this.d.runtime.pause(this.ref(c), true).catch((err) => this.opts.log('error', `resume ${c.id.slice(0, 12)}: ${err.message}`));
        }
      }
    });
  }

  // Saves a running container's record as it is (its health, which the
  // health monitor keeps in its state), quietly and without fsync.
  async saveRunning(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e && isRunning(e.rec.state)) await this.saveQuietly(e.rec, false);
  }

  // Saves, logging instead of failing: a full disk must not take the
  // daemon down or leave the container's state unsettled in memory.
  private async saveQuietly(c: ContainerRecord, sync = true): Promise<boolean> {
    try {
      await this.d.store.save(c, sync);
      return true;
    } catch (err) {
      this.opts.log('error', `saving container ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      return false;
    }
  }

  private publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.d.events.publish('container', action, c.id, { ...c.spec.labels, image: c.spec.image.ref, name: c.name.slice(1), ...extra });
  }
}

async function ensureDir(rootfs: string, dir: string, uid: number, gid: number, mkdir?: (dir: string) => Promise<void>): Promise<void> {
  const target = await resolveInRoot(rootfs, dir);
  try {
    const st = await fsp.stat(target);
    if (!st.isDirectory()) throw invalidArgument(`the working directory ${dir} is not a directory`);
    return;
  } catch (err: any) {
    if (err instanceof BerthError) throw err;
  }
  if (mkdir) await mkdir(target);
  else await fsp.mkdir(target, { recursive: true, mode: 0o755 });
  await fsp.chown(target, uid, gid).catch(() => {});
}
