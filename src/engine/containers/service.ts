// Container lifecycle: created -> running -> exited -> removed, driven
// through the snapshotter (root filesystem) and the conmon runtime.
import { EventEmitter } from 'node:events';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthError, conflict, invalidArgument, notFound, notModified } from '../../errors';
import { MNT_DETACH, type Host } from '../../host';
import { readJSON, writeFileAtomic } from '../../util/fs';
import { newId } from '../../util/ids';
import { KeyedLock } from '../../util/lock';
import { readFileInRoot, resolveInRoot } from '../../util/rootfs';
import { parseSignal } from '../../util/signals';
import { parseReference } from '../../oci/reference';
import type { ImageService } from '../images/service';
import type { ImageRecord } from '../images/types';
import { hostHostname, hostsFile, resolvConf } from '../network/files';
import type { AttachConn, ConmonRuntime } from '../runtime/conmon';
import { seccompForContainer } from '../runtime/seccomp';
import { buildEnv, DEFAULT_CAPS, generateSpec } from '../runtime/spec';
import { resolveUser } from '../runtime/user';
import type { OverlaySnapshotter } from '../snapshots/overlay';
import { readLogs, type LogOptions, type LogRecord } from './logs';
import { randomName, validateName } from './names';
import { initialState, ZERO_TIME, type ContainerConfig, type ContainerRecord, type HostConfig } from './types';

export interface ContainerServiceOptions {
  root: string; // <data-root>/containers
  defaultRuntime: string;
  log: (msg: string) => void;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
}

export interface AttachSink {
  out(stream: 1 | 2, data: Buffer): void;
  end(): void;
}

export interface AttachHandle {
  write(data: Buffer): void;
  closeStdin(): void;
  detach(): void;
}

interface PendingAttach {
  opts: AttachOptions;
  sink: AttachSink;
  stdin: Buffer[];
  stdinClosed: boolean;
  conn?: AttachConn;
  detached: boolean;
}

interface Entry {
  rec: ContainerRecord;
  attaches: Set<PendingAttach>;
  exiting?: Promise<void>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

const NETWORK_MODES = new Set(['none', 'host', 'bridge', 'default', '']);

export class ContainerService {
  private entries = new Map<string, Entry>();
  private names = new Map<string, string>(); // "/name" -> id
  private lock = new KeyedLock();
  readonly events = new EventEmitter();

  constructor(
    private host: Host,
    private runtime: ConmonRuntime,
    private snapshots: OverlaySnapshotter,
    private images: ImageService,
    private opts: ContainerServiceOptions,
  ) {
    this.events.setMaxListeners(0);
  }

  // Loads records and reconciles them with what conmon left behind.
  async init(): Promise<void> {
    await fsp.mkdir(this.opts.root, { recursive: true });
    this.runtime.onExit((id) => void this.handleExit(id));
    for (const id of await fsp.readdir(this.opts.root)) {
      const dir = path.join(this.opts.root, id);
      const rec = await readJSON<ContainerRecord>(path.join(dir, 'config.v2.json')).catch(() => undefined);
      if (!rec) {
        // A create cut short before its record landed: nothing to keep.
        await this.snapshots.removeContainer(id);
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      this.entries.set(rec.Id, { rec, attaches: new Set() });
      this.names.set(rec.Name, rec.Id);
    }
    for (const e of this.entries.values()) {
      const s = e.rec.State;
      if (s.Status === 'removing' || (!s.Running && e.rec.HostConfig.AutoRemove && s.StartedAt !== ZERO_TIME)) {
        await this.remove(e.rec.Id, { force: true }).catch((err) => this.opts.log(`remove ${e.rec.Id}: ${err.message}`));
      } else if (s.Running) {
        const exit = await this.runtime.exitStatus(e.rec.Id);
        if (exit) await this.handleExit(e.rec.Id);
        else if (!this.host.isAlive(e.rec.ConmonPid)) {
          // The shim is gone without an exit file (host reboot, kill -9 of conmon).
          await this.finishExit(e, 255, new Date(), 'container shim exited unexpectedly');
        }
      }
    }
  }

  // ----- lookup -----

  get(idOrName: string): ContainerRecord {
    return this.entry(idOrName).rec;
  }

  private entry(idOrName: string): Entry {
    const e = this.find(idOrName);
    if (!e) throw notFound(`No such container: ${idOrName}`);
    return e;
  }

  private find(ref: string): Entry | undefined {
    if (!ref) return undefined;
    const exact = this.entries.get(ref);
    if (exact) return exact;
    const byName = this.names.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.entries.get(byName);
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = [...this.entries.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw invalidArgument(`multiple containers match the prefix ${ref}`);
      if (matches.length === 1) return this.entries.get(matches[0]);
    }
    return undefined;
  }

  list(): ContainerRecord[] {
    return [...this.entries.values()].map((e) => e.rec).sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  }

  usersOfImage(imageId: string): { id: string; running: boolean }[] {
    return this.list().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running }));
  }

  // ----- create -----

  async create(body: Record<string, unknown> | undefined, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    const cfg = validateCreateBody(body);
    const hc = cfg.HostConfig;
    let name: string;
    if (nameParam) {
      name = validateName(nameParam);
      const holder = this.names.get(name);
      if (holder) {
        throw conflict(`Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } else {
      name = randomName((n) => this.names.has(n));
    }
    if (!cfg.Image) throw invalidArgument('No image specified');
    parseReference(cfg.Image.startsWith('sha256:') ? 'x' : cfg.Image); // reject invalid references with 400
    const image = this.images.tryResolve(cfg.Image);
    if (!image) {
      const ref = parseReference(cfg.Image);
      throw notFound(`No such image: ${ref.tag || ref.digest ? cfg.Image : `${cfg.Image}:latest`}`);
    }
    // "default" is what clients send when no network is chosen; Docker shows it as bridge.
    const networkMode = !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : (hc.NetworkMode as string);
    if (!NETWORK_MODES.has(networkMode)) throw notFound(`network ${networkMode} not found`);
    const runtimeName = (hc.Runtime as string) || this.opts.defaultRuntime;
    this.runtime.runtimePath(runtimeName);

    const img = image.config.config ?? {};
    const entrypoint = cfg.Entrypoint !== undefined && cfg.Entrypoint !== null ? cfg.Entrypoint : img.Entrypoint ?? null;
    // An entrypoint given on create drops the image's CMD, as in Docker.
    const cmd = cfg.Cmd && cfg.Cmd.length ? cfg.Cmd : cfg.Entrypoint && cfg.Entrypoint.length ? null : img.Cmd ?? null;
    const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
    if (argv.length === 0) throw invalidArgument('No command specified');

    const id = newId();
    const hostname = cfg.Hostname || (networkMode === 'host' ? hostHostname() : id.slice(0, 12));
    const dir = path.join(this.opts.root, id);
    const config: ContainerConfig = {
      Hostname: hostname,
      Domainname: cfg.Domainname ?? '',
      User: cfg.User || img.User || '',
      AttachStdin: !!cfg.AttachStdin,
      AttachStdout: cfg.AttachStdout !== false,
      AttachStderr: cfg.AttachStderr !== false,
      Tty: !!cfg.Tty,
      OpenStdin: !!cfg.OpenStdin,
      StdinOnce: !!cfg.StdinOnce,
      Env: mergeEnv(img.Env ?? [], cfg.Env ?? []),
      Cmd: cmd,
      Image: cfg.Image,
      WorkingDir: cfg.WorkingDir || img.WorkingDir || '',
      Entrypoint: entrypoint,
      Labels: { ...(img.Labels ?? {}), ...(cfg.Labels ?? {}) },
      ...(cfg.StopSignal || img.StopSignal ? { StopSignal: cfg.StopSignal || img.StopSignal } : {}),
      ...(cfg.StopTimeout !== undefined ? { StopTimeout: cfg.StopTimeout } : {}),
      ...(img.ExposedPorts || cfg.ExposedPorts ? { ExposedPorts: { ...(img.ExposedPorts ?? {}), ...(cfg.ExposedPorts ?? {}) } } : {}),
      ...(img.Volumes ? { Volumes: img.Volumes } : {}),
    };
    if (config.Tty) throw invalidArgument('TTY mode (-t) is not supported yet');
    if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
      throw invalidArgument(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    }
    const hostConfig: HostConfig = {
      ...hc,
      NetworkMode: networkMode,
      AutoRemove: !!hc.AutoRemove,
      RestartPolicy: (hc.RestartPolicy as HostConfig['RestartPolicy']) ?? { Name: 'no', MaximumRetryCount: 0 },
      Runtime: runtimeName,
      LogConfig: { Type: 'k8s-file', Config: {} },
      Binds: (hc.Binds as string[]) ?? null,
      ReadonlyRootfs: !!hc.ReadonlyRootfs,
      Privileged: false,
    };
    this.seccomp(hostConfig); // a bad --security-opt is a 400 now, not at start
    const rec: ContainerRecord = {
      Id: id,
      Name: name,
      Created: new Date().toISOString(),
      Path: argv[0],
      Args: argv.slice(1),
      Image: image.id,
      ImageRef: cfg.Image,
      Config: config,
      HostConfig: hostConfig,
      State: initialState(),
      RestartCount: 0,
      LogPath: path.join(dir, 'container.log'),
      HostnamePath: path.join(dir, 'hostname'),
      HostsPath: path.join(dir, 'hosts'),
      ResolvConfPath: path.join(dir, 'resolv.conf'),
      ConmonPid: 0,
    };
    this.names.set(name, id); // reserve before any await
    try {
      await fsp.mkdir(dir, { recursive: true });
      await Promise.all([
        fsp.writeFile(rec.HostnamePath, `${hostname}\n`),
        fsp.writeFile(rec.HostsPath, hostsFile(networkMode)),
        fsp.writeFile(rec.ResolvConfPath, resolvConf(networkMode)),
        this.snapshots.prepare(id, image.chainID ?? ''),
      ]);
      // The record lands last: until then a crash leaves only a dir that init() drops.
      await this.persist(rec);
    } catch (err) {
      this.names.delete(name);
      await this.snapshots.removeContainer(id).catch(() => {});
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    this.entries.set(id, { rec, attaches: new Set() });
    return { Id: id, Warnings: [] };
  }

  // ----- start -----

  async start(ref: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.Id, () => this.startLocked(e));
  }

  private async startLocked(e: Entry): Promise<void> {
    const c = e.rec;
    if (c.State.Running) throw notModified('container already started');
    if (c.State.Status === 'removing' || !this.entries.has(c.Id)) throw notFound(`No such container: ${c.Id}`);
    const image = this.images.list().find((i) => i.id === c.Image);
    if (!image) throw notFound(`image ${c.Image} of container ${c.Id.slice(0, 12)} not found`);
    const id = c.Id;
    let mounted = false;
    let created = false;
    try {
      const rootfs = await this.mountRootfs(id, image);
      mounted = true;
      const user = resolveUser(c.Config.User, await readFileInRoot(rootfs, '/etc/passwd'), await readFileInRoot(rootfs, '/etc/group'));
      const cwd = c.Config.WorkingDir || '/';
      if (!cwd.startsWith('/')) throw invalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
      await ensureDir(rootfs, cwd, user.uid, user.gid);
      const spec = generateSpec({
        rootfs,
        args: [c.Path, ...c.Args],
        env: buildEnv([], c.Config.Env, c.Config.Hostname, user.home),
        cwd,
        user,
        hostname: c.Config.Hostname,
        network: c.HostConfig.NetworkMode === 'host' ? 'host' : 'none',
        files: { hosts: c.HostsPath, hostname: c.HostnamePath, resolvConf: c.ResolvConfPath },
        cgroupsPath: `/berth/${id}`,
        readonlyRootfs: c.HostConfig.ReadonlyRootfs,
        seccomp: this.seccomp(c.HostConfig),
      });
      const { pid, conmonPid } = await this.runtime.create(id, spec, {
        runtime: c.HostConfig.Runtime,
        logPath: c.LogPath,
        name: c.Name.slice(1),
        stdin: c.Config.OpenStdin,
        tty: c.Config.Tty,
      });
      created = true;
      // Attach before the process runs, so no output is missed.
      for (const a of e.attaches) this.connectAttach(e, a);
      await this.runtime.start(id, c.HostConfig.Runtime);
      Object.assign(c.State, { Status: 'running', Running: true, Paused: false, Restarting: false, Dead: false, OOMKilled: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME });
      c.ConmonPid = conmonPid;
      await this.persist(c);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (created) await this.runtime.delete(id, c.HostConfig.Runtime, true).catch(() => {});
      await this.runtime.cleanup(id).catch(() => {});
      if (mounted) this.unmountRootfs(id);
      for (const a of e.attaches) this.endAttach(e, a);
      c.State.Error = msg;
      c.State.ExitCode = /executable file not found|no such file or directory/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 128;
      c.State.Status = c.State.StartedAt === ZERO_TIME ? 'created' : 'exited';
      await this.persist(c).catch(() => {});
      // `docker run --rm` waits for the removal even when start fails.
      if (c.HostConfig.AutoRemove) setImmediate(() => void this.remove(id, { force: true }).catch(() => {}));
      if (err instanceof BerthError && err.kind !== 'Internal') throw err;
      throw new BerthError(/executable file not found|no such file or directory|permission denied/i.test(msg) ? 'InvalidArgument' : 'Internal', msg);
    }
    // The process may have exited before the state above was saved.
    if (await this.runtime.exitStatus(id)) void this.handleExit(id);
  }

  private seccomp(hc: HostConfig) {
    return seccompForContainer({ securityOpt: hc.SecurityOpt as string[] | null, privileged: hc.Privileged, capabilities: DEFAULT_CAPS, kernel: os.release() });
  }

  private async mountRootfs(id: string, image: ImageRecord): Promise<string> {
    const m = await this.snapshots.prepare(id, image.chainID ?? '');
    this.unmountRootfs(id);
    this.host.mount(m.source, m.target, m.type, 0, m.options.join(','));
    return m.target;
  }

  private unmountRootfs(id: string): void {
    const target = path.join(this.snapshots.containerDir(id), 'merged');
    try {
      this.host.umount(target, MNT_DETACH);
    } catch (err: any) {
      if (err.code !== 'EINVAL' && err.code !== 'ENOENT') this.opts.log(`unmount ${target}: ${err.message}`);
    }
  }

  // ----- exit -----

  // Called for each change in the exit dir; the first complete exit file wins.
  private handleExit(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e || !e.rec.State.Running) return Promise.resolve();
    if (!e.exiting) {
      e.exiting = (async () => {
        const st = await this.runtime.exitStatus(id);
        if (!st) return;
        await this.finishExit(e, st.code, st.at);
      })().finally(() => { e.exiting = undefined; });
    }
    return e.exiting;
  }

  private async finishExit(e: Entry, code: number, at: Date, error = ''): Promise<void> {
    const c = e.rec;
    await this.runtime.delete(c.Id, c.HostConfig.Runtime, true).catch((err) => this.opts.log(`runtime delete ${c.Id}: ${err.message}`));
    await this.runtime.cleanup(c.Id);
    this.unmountRootfs(c.Id);
    Object.assign(c.State, { Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: code, Error: error, FinishedAt: at.toISOString() });
    c.ConmonPid = 0;
    await this.persist(c, !c.HostConfig.AutoRemove);
    this.events.emit('exit', c.Id, code);
    if (c.HostConfig.AutoRemove) {
      await this.remove(c.Id, { force: true }).catch((err) => this.opts.log(`auto-remove ${c.Id}: ${err.message}`));
    }
  }

  // Resolves once the container is not running any more.
  private exited(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e || !e.rec.State.Running) return Promise.resolve();
    return new Promise((resolve) => {
      const onExit = (eid: string) => {
        if (eid !== id) return;
        this.events.off('exit', onExit);
        this.events.off('removed', onExit);
        resolve();
      };
      this.events.on('exit', onExit);
      this.events.on('removed', onExit);
    });
  }

  // ----- stop / kill / restart -----

  async stop(ref: string, timeout?: number, signal?: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.Id, () => this.stopLocked(e, timeout, signal));
  }

  private async stopLocked(e: Entry, timeout?: number, signal?: string): Promise<void> {
    const c = e.rec;
    if (!c.State.Running) throw notModified('container already stopped');
    const sig = parseSignal(signal || c.Config.StopSignal, 'SIGTERM');
    const t = timeout ?? c.Config.StopTimeout ?? 10;
    const done = this.exited(c.Id);
    this.host.kill(c.State.Pid, sig);
    if (t < 0) return done;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      done.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), t * 1000); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.host.kill(c.State.Pid, 'SIGKILL');
      await done;
    }
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const e = this.entry(ref);
    const c = e.rec;
    const sig = parseSignal(signal, 'SIGKILL');
    if (!c.State.Running) throw conflict(`cannot kill container: ${ref}: container ${c.Id} is not running`);
    const done = this.exited(c.Id);
    this.host.kill(c.State.Pid, sig);
    // After SIGKILL, callers expect the container to be gone when we answer.
    if (sig === 9) await done;
  }

  async restart(ref: string, timeout?: number, signal?: string): Promise<void> {
    const e = this.entry(ref);
    await this.lock.run(e.rec.Id, async () => {
      if (e.rec.State.Running) await this.stopLocked(e, timeout, signal);
      await this.startLocked(e);
    });
  }

  // ----- wait -----

  // Throws NotFound at once (before the caller sends headers); the returned
  // promise settles when the condition is met.
  wait(ref: string, condition: WaitCondition): Promise<WaitResult> {
    const e = this.entry(ref);
    const id = e.rec.Id;
    const result = (): WaitResult => ({ StatusCode: e.rec.State.ExitCode, Error: null });
    if (condition === 'not-running' && !e.rec.State.Running) return Promise.resolve(result());
    return new Promise((resolve) => {
      const onExit = (eid: string) => {
        if (eid !== id || condition === 'removed') return;
        this.events.off('exit', onExit);
        this.events.off('removed', onRemoved);
        resolve(result());
      };
      const onRemoved = (eid: string) => {
        if (eid !== id) return;
        this.events.off('exit', onExit);
        this.events.off('removed', onRemoved);
        resolve(result());
      };
      this.events.on('exit', onExit);
      this.events.on('removed', onRemoved);
    });
  }

  // ----- remove -----

  async remove(ref: string, opts: { force: boolean }): Promise<void> {
    const e = this.entry(ref);
    const id = e.rec.Id;
    await this.lock.run(id, async () => {
      if (!this.entries.has(id)) return;
      const c = e.rec;
      if (c.State.Running) {
        if (!opts.force) {
          throw conflict(`cannot remove container "${c.Name}": container is running: stop the container before removing or force remove`);
        }
        const done = this.exited(id);
        this.host.kill(c.State.Pid, 'SIGKILL');
        await done;
      }
      if (!this.entries.has(id)) return;
      c.State.Status = 'removing';
      await this.persist(c, false);
      for (const a of e.attaches) this.endAttach(e, a);
      // Exit handling already ran `runc delete`; only a leftover needs it.
      if (this.runtime.hasState(id, c.HostConfig.Runtime)) await this.runtime.delete(id, c.HostConfig.Runtime, true).catch(() => {});
      await this.runtime.cleanup(id);
      this.unmountRootfs(id);
      await this.snapshots.removeContainer(id);
      await fsp.rm(path.join(this.opts.root, id), { recursive: true, force: true });
      this.entries.delete(id);
      this.names.delete(c.Name);
      this.events.emit('removed', id, c.State.ExitCode);
    });
  }

  // ----- logs -----

  logs(ref: string, o: LogOptions, signal?: AbortSignal): AsyncGenerator<LogRecord> {
    const e = this.entry(ref);
    const done = o.follow ? this.exited(e.rec.Id) : Promise.resolve();
    return readLogs(e.rec.LogPath, o, done, signal);
  }

  // ----- attach -----

  async attach(ref: string, opts: AttachOptions, sink: AttachSink): Promise<AttachHandle> {
    const e = this.entry(ref);
    const a: PendingAttach = { opts, sink, stdin: [], stdinClosed: false, detached: false };
    if (opts.logs) {
      for await (const r of readLogs(e.rec.LogPath, { stdout: opts.stdout, stderr: opts.stderr, follow: false }, Promise.resolve())) sink.out(r.stream, r.data);
    }
    if (!opts.stream) {
      sink.end();
      return { write() {}, closeStdin() {}, detach() {} };
    }
    e.attaches.add(a);
    if (e.rec.State.Running) this.connectAttach(e, a);
    return {
      write: (data) => {
        if (!opts.stdin) return;
        if (a.conn) void a.conn.write(data).catch(() => {});
        else a.stdin.push(data);
      },
      closeStdin: () => {
        if (!opts.stdin) return;
        a.stdinClosed = true;
        a.conn?.closeStdin();
      },
      detach: () => {
        a.detached = true;
        e.attaches.delete(a);
        a.conn?.close();
      },
    };
  }

  private connectAttach(e: Entry, a: PendingAttach): void {
    if (a.conn || a.detached) return;
    try {
      a.conn = this.runtime.attach(e.rec.Id);
    } catch (err) {
      this.opts.log(`attach ${e.rec.Id}: ${(err as Error).message}`);
      this.endAttach(e, a);
      return;
    }
    const conn = a.conn;
    conn.pump(
      (stream, data) => {
        if (stream === 1 ? a.opts.stdout : a.opts.stderr) a.sink.out(stream, data);
      },
      () => this.endAttach(e, a),
    );
    for (const d of a.stdin) void conn.write(d).catch(() => {});
    a.stdin = [];
    if (a.stdinClosed) conn.closeStdin();
  }

  private endAttach(e: Entry, a: PendingAttach): void {
    if (!e.attaches.delete(a)) return;
    a.conn?.close();
    a.sink.end();
  }

  // ----- persistence -----

  // Always atomic; fsync is skipped only for states whose loss a restart
  // repairs (an auto-remove container's exit, the "removing" mark).
  private async persist(c: ContainerRecord, sync = true): Promise<void> {
    await writeFileAtomic(path.join(this.opts.root, c.Id, 'config.v2.json'), JSON.stringify(c), { sync });
  }

  async sizeRw(id: string): Promise<number> {
    return this.snapshots.upperSize(id);
  }

  shutdown(): void {
    for (const e of this.entries.values()) for (const a of [...e.attaches]) a.conn?.close();
  }

  // Runs fn holding the container's lifecycle lock (commit, export): no
  // start, stop or remove of that container runs meanwhile.
  async withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    const e = this.entry(ref);
    return this.lock.run(e.rec.Id, () => fn(e.rec));
  }
}

// ----- helpers -----

function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const kv of over) {
    const k = kv.split('=')[0];
    const i = out.findIndex((e) => e.split('=')[0] === k);
    if (!kv.includes('=')) continue; // "-e FOO" with FOO unset on the client
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

async function ensureDir(rootfs: string, dir: string, uid: number, gid: number): Promise<void> {
  const target = await resolveInRoot(rootfs, dir);
  try {
    const st = await fsp.stat(target);
    if (!st.isDirectory()) throw invalidArgument(`the working directory ${dir} is not a directory`);
    return;
  } catch (err: any) {
    if (err instanceof BerthError) throw err;
  }
  await fsp.mkdir(target, { recursive: true, mode: 0o755 });
  await fsp.chown(target, uid, gid).catch(() => {});
}

interface CreateBody {
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  Labels?: Record<string, string> | null;
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  ExposedPorts?: Record<string, object>;
  HostConfig: Record<string, unknown>;
}

const FIELD_TYPES: Record<string, 'string' | 'boolean' | 'number' | 'strings' | 'stringmap' | 'object' | 'strOrStrings'> = {
  Image: 'string', Cmd: 'strOrStrings', Entrypoint: 'strOrStrings', Env: 'strings', Labels: 'stringmap', WorkingDir: 'string',
  User: 'string', Hostname: 'string', Domainname: 'string', AttachStdin: 'boolean', AttachStdout: 'boolean',
  AttachStderr: 'boolean', Tty: 'boolean', OpenStdin: 'boolean', StdinOnce: 'boolean', StopSignal: 'string',
  StopTimeout: 'number', ExposedPorts: 'object', HostConfig: 'object', NetworkingConfig: 'object', Volumes: 'object',
  Healthcheck: 'object', MacAddress: 'string', Shell: 'strings', NetworkDisabled: 'boolean', ArgsEscaped: 'boolean',
  OnBuild: 'strings',
};

const HOSTCONFIG_TYPES: Record<string, 'string' | 'boolean' | 'number' | 'strings' | 'object'> = {
  NetworkMode: 'string', AutoRemove: 'boolean', Runtime: 'string', Binds: 'strings', ReadonlyRootfs: 'boolean',
  RestartPolicy: 'object', Privileged: 'boolean', LogConfig: 'object', SecurityOpt: 'strings',
};

function checkType(where: string, key: string, v: unknown, t: string): void {
  if (v === null || v === undefined) return;
  const ok =
    t === 'string' ? typeof v === 'string'
    : t === 'boolean' ? typeof v === 'boolean'
    : t === 'number' ? typeof v === 'number'
    : t === 'strings' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
    : t === 'strOrStrings' ? typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))
    : t === 'stringmap' ? typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string')
    : typeof v === 'object' && !Array.isArray(v);
  if (!ok) {
    const got = Array.isArray(v) ? 'array' : typeof v;
    throw invalidArgument(`json: cannot unmarshal ${got} into field ${where}${key} of type ${t === 'strings' ? '[]string' : t === 'stringmap' ? 'map[string]string' : t === 'strOrStrings' ? '[]string' : t}`);
  }
}

export function validateCreateBody(body: Record<string, unknown> | undefined): CreateBody {
  if (!body) throw invalidArgument('config cannot be empty in order to create a container');
  for (const [k, t] of Object.entries(FIELD_TYPES)) checkType('Config.', k, body[k], t);
  const hc = (body.HostConfig as Record<string, unknown>) ?? {};
  for (const [k, t] of Object.entries(HOSTCONFIG_TYPES)) checkType('HostConfig.', k, hc[k], t);
  const strs = (v: unknown) => (typeof v === 'string' ? [v] : (v as string[] | null | undefined));
  return { ...(body as object), Cmd: strs(body.Cmd), Entrypoint: strs(body.Entrypoint), HostConfig: hc } as CreateBody;
}

