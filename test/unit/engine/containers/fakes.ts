// Fakes of the container lifecycle's seams, for unit tests without root: a
// runtime whose processes live in a table, a snapshotter that only makes
// directories, and a builder for a ContainerService on a temporary root
// with the real record store and the fake Host.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { BerthError, conflict, invalidArgument } from '../../../../src/errors';
import { ContainerService, type ContainerServiceOptions, type RootfsSnapshots } from '../../../../src/engine/containers/service';
import { withDefaults, type ContainerSpec } from '../../../../src/engine/containers/spec';
import { ContainerStore } from '../../../../src/engine/containers/store';
import { EventBus, type EngineEvent } from '../../../../src/engine/events/bus';
import type { ImageRecord } from '../../../../src/engine/images/types';
import { LocalNetworks } from '../../../../src/engine/network/local';
import type { CreateOptions, ExecOptions, ExecProcess, ProcessStream, Runtime, RuntimeRef, RuntimeStatus, TerminalSize } from '../../../../src/engine/runtime/runtime';
import type { OciProcess, OciSpec } from '../../../../src/engine/runtime/spec';
import type { OciResources } from '../../../../src/engine/runtime/resources';
import type { Mount } from '../../../../src/engine/snapshots/overlay';
import { NoVolumes, type Volumes } from '../../../../src/engine/volumes/volumes';
import { FakeHost } from '../../host/fake-host';

interface FakeProcess {
  pid: number;
  state: 'created' | 'running' | 'paused';
  spec: OciSpec;
}

// An exec session's process: the test writes its output and ends it.
export interface FakeExec {
  container: string;
  process: OciProcess;
  opts: ExecOptions;
  out: PassThrough;
  stdin: Buffer[];
  stdinClosed: boolean;
  // The attached stream was let go of; its output is held back.
  closed: boolean;
  paused: boolean;
  resizes: [number, number][];
  exit(code: number): void;
}

// Processes are entries in a table; an exit records a code the way conmon's
// exit file does and tells the listeners, as the exit-dir watcher would.
export class FakeRuntime implements Runtime {
  readonly procs = new Map<string, FakeProcess>();
  readonly exits = new Map<string, { code: number; at: Date }>();
  // Every call, in order: "create <id>", "start <id>", "delete <id>", …
  readonly log: string[] = [];
  runtimes = new Set(['runc', 'crun']);
  // A kill with these signals ends the process with 128+signal.
  fatal = new Set<string | number>(['SIGKILL', 9, 'SIGTERM', 15]);
  // When false, an exit leaves no code (the shim died with the process).
  recordExits = true;
  private listeners: ((id: string) => void)[] = [];
  private nextPid = 5000;
  // Exec sessions by session id.
  readonly execs = new Map<string, FakeExec>();
  // When set, the next exec fails with this runtime message.
  execFailure?: string;

  async exec(ref: RuntimeRef, session: string, process: OciProcess, opts: ExecOptions): Promise<ExecProcess> {
    this.log.push(`exec ${ref.id} ${session}`);
    const p = this.procs.get(ref.id);
    if (!p || p.state !== 'running') throw new BerthError('Internal', `container ${ref.id} is not running`);
    if (this.execFailure) {
      const msg = this.execFailure;
      this.execFailure = undefined;
      throw new BerthError('Internal', msg);
    }
    const out = new PassThrough();
    let exit!: (code: number) => void;
    const exited = new Promise<number>((r) => { exit = r; });
    const e: FakeExec = { container: ref.id, process, opts, out, stdin: [], stdinClosed: false, closed: false, paused: false, resizes: [], exit: (code) => { out.end(); exit(code); } };
    this.execs.set(session, e);
    const stream: ProcessStream | undefined = opts.attach
      ? {
          pump: (onData, onEnd) => {
            // Each write is a packet as conmon sends it: 2 stdout, 3 stderr.
            out.on('data', (d: Buffer) => onData(d[0] === 3 ? 2 : 1, d.subarray(1)));
            out.on('end', onEnd);
          },
          write: async (d) => { e.stdin.push(d); },
          closeStdin: () => { e.stdinClosed = true; },
          close: () => { e.closed = true; out.end(); },
          pause: () => { e.paused = true; out.pause(); },
          resume: () => { e.paused = false; out.resume(); },
        }
      : undefined;
    return { pid: this.nextPid++, stream, exit: exited };
  }

  async resizeExec(_ref: RuntimeRef, session: string, height: number, width: number): Promise<void> {
    this.execs.get(session)?.resizes.push([height, width]);
  }

  readonly forgottenExecs: string[] = [];
  async forgetExec(_ref: RuntimeRef, session: string): Promise<void> {
    this.forgottenExecs.push(session);
  }

  check(runtime: string): void {
    if (!this.runtimes.has(runtime)) throw invalidArgument(`unknown or invalid runtime name: ${runtime}`);
  }

  // The options of each create, by container id.
  readonly createOptions = new Map<string, CreateOptions>();
  // Each attach stream handed out, in order: what the test's "process"
  // prints goes into `output`; what clients send lands in `stdin`.
  readonly streams: { id: string; output: PassThrough; stdin: Buffer[]; stdinClosed: boolean; closed: boolean; paused: boolean }[] = [];

  async create(ref: RuntimeRef, spec: OciSpec, o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    this.log.push(`create ${ref.id}`);
    this.createOptions.set(ref.id, o);
    const pid = this.nextPid++;
    this.procs.set(ref.id, { pid, state: 'created', spec });
    this.exits.delete(ref.id);
    return { pid, conmonPid: pid + 100000 };
  }

  // When set, start returns only once it settles, the process running
  // already (as runc's start returns after the process was let go).
  startReturns?: Promise<void>;

  async start(ref: RuntimeRef): Promise<void> {
    this.log.push(`start ${ref.id}`);
    const p = this.procs.get(ref.id);
    if (!p) throw new Error(`no container ${ref.id}`);
    p.state = 'running';
    await this.startReturns;
  }

  kill(pid: number, signal: NodeJS.Signals | number): boolean {
    const entry = [...this.procs.entries()].find(([, p]) => p.pid === pid);
    this.log.push(`kill ${pid} ${signal}`);
    if (!entry) return false;
    if (this.fatal.has(signal)) this.exit(entry[0], 128 + (signal === 'SIGKILL' || signal === 9 ? 9 : 15));
    return true;
  }

  // The process ends with code.
  exit(id: string, code: number): void {
    this.procs.delete(id);
    if (this.recordExits) this.exits.set(id, { code, at: new Date() });
    setImmediate(() => { for (const l of this.listeners) l(id); });
  }

  async delete(ref: RuntimeRef): Promise<void> {
    this.log.push(`delete ${ref.id}`);
    this.procs.delete(ref.id);
    this.exits.delete(ref.id);
  }

  async forget(id: string): Promise<void> {
    this.log.push(`forget ${id}`);
    this.procs.delete(id);
    this.exits.delete(id);
  }

  async status(ref: RuntimeRef): Promise<RuntimeStatus> {
    const exit = this.exits.get(ref.id);
    if (exit) return { state: 'stopped', exit };
    const p = this.procs.get(ref.id);
    return p ? { state: p.state } : { state: 'gone' };
  }

  async exited(ref: RuntimeRef): Promise<{ code: number; at: Date } | undefined> {
    return this.exits.get(ref.id);
  }

  attach(ref: RuntimeRef): ProcessStream {
    this.log.push(`attach ${ref.id}`);
    const out = new PassThrough();
    const st = { id: ref.id, output: out, stdin: [] as Buffer[], stdinClosed: false, closed: false, paused: false };
    this.streams.push(st);
    return {
      pump: (onData, onEnd) => {
        out.on('data', (d: Buffer) => onData(1, d));
        out.on('end', onEnd);
      },
      write: async (d) => {
        if (!st.closed && !st.stdinClosed) st.stdin.push(Buffer.from(d));
      },
      closeStdin: () => {
        st.stdinClosed = true;
      },
      close: () => {
        st.closed = true;
        out.end();
      },
      pause: () => {
        st.paused = true;
        out.pause();
      },
      resume: () => {
        st.paused = false;
        out.resume();
      },
    };
  }

  // Sizes asked for, by container id.
  readonly sizes = new Map<string, TerminalSize[]>();

  async resize(ref: RuntimeRef, size: TerminalSize): Promise<void> {
    this.log.push(`resize ${ref.id} ${size.height}x${size.width}`);
    if (!this.procs.has(ref.id)) throw conflict('the process is not running');
    this.sizes.set(ref.id, [...(this.sizes.get(ref.id) ?? []), size]);
  }

  async pause(ref: RuntimeRef, resume: boolean): Promise<void> {
    this.log.push(`${resume ? 'resume' : 'pause'} ${ref.id}`);
    const p = this.procs.get(ref.id);
    if (p) p.state = resume ? 'running' : 'paused';
  }

  // The resources of each runtime update, by container.
  readonly updates = new Map<string, OciResources[]>();

  async update(ref: RuntimeRef, resources: OciResources): Promise<void> {
    this.log.push(`update ${ref.id}`);
    if (!this.procs.has(ref.id)) throw new BerthError('Internal', `container ${ref.id} is not running`);
    this.updates.set(ref.id, [...(this.updates.get(ref.id) ?? []), resources]);
  }

  onExit(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  private oomListeners: ((id: string) => void)[] = [];
  onOom(listener: (id: string) => void): void {
    this.oomListeners.push(listener);
  }

  // An OOM event of the container's cgroup, as conmon reports it.
  oom(id: string): void {
    for (const l of this.oomListeners) l(id);
  }

  // A restarted daemon's watcher replaces the old one's.
  clearListeners(): void {
    this.listeners = [];
    this.oomListeners = [];
  }
}

export class FakeRootfs implements RootfsSnapshots {
  constructor(readonly root: string) {}

  async prepare(id: string, chainID: string): Promise<Mount> {
    const dir = this.containerDir(id);
    for (const d of ['diff', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    return { type: 'overlay', source: 'overlay', target: path.join(dir, 'merged'), options: [`lowerdir=${chainID}`] };
  }

  containerDir(id: string): string {
    return path.join(this.root, id);
  }

  async removeContainer(id: string): Promise<void> {
    fs.rmSync(this.containerDir(id), { recursive: true, force: true });
  }

  async upperSize(): Promise<number> {
    return 0;
  }
}

export const IMAGE: ImageRecord = {
  id: 'sha256:' + 'a'.repeat(64),
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'] } },
  chainID: 'sha256:' + 'b'.repeat(64),
  size: 100,
};

export function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return withDefaults({
    image: { id: IMAGE.id, ref: 'busybox' },
    process: { entrypoint: null, cmd: ['sleep', '100'], env: ['PATH=/bin'], cwd: '', user: '', terminal: false, stdin: false, stdinOnce: false },
    runtime: '',
    ...over,
  });
}

export interface Harness {
  dir: string;
  host: FakeHost;
  runtime: FakeRuntime;
  rootfs: FakeRootfs;
  store: ContainerStore;
  events: EngineEvent[];
  logs: string[];
  service: ContainerService;
  // A new service on the same root, runtime and host: a daemon restart.
  restart(): Promise<ContainerService>;
  cleanup(): void;
}

export async function harness(opts: Partial<ContainerServiceOptions> = {}, store?: (root: string) => ContainerStore, volumes: Volumes = new NoVolumes()): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cs-'));
  const host = new FakeHost();
  const runtime = new FakeRuntime();
  const rootfs = new FakeRootfs(path.join(dir, 'overlay'));
  const events: EngineEvent[] = [];
  const logs: string[] = [];
  const make = async () => {
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const s = store ? store(path.join(dir, 'containers')) : new ContainerStore(path.join(dir, 'containers'));
    const service = new ContainerService(
      { host, store: s, runtime, rootfs, images: { get: (id) => (id === IMAGE.id ? IMAGE : undefined) }, networks: new LocalNetworks(), volumes, events: bus },
      { defaultRuntime: 'runc', log: (level, m) => logs.push(`${level}: ${m}`), livenessCheckMs: 20, ...opts },
    );
    await service.init();
    await service.autostart();
    return { service, store: s };
  };
  const first = await make();
  const h: Harness = {
    dir, host, runtime, rootfs, events, logs,
    service: first.service,
    store: first.store,
    async restart() {
      h.service.shutdown();
      runtime.clearListeners();
      const next = await make();
      h.service = next.service;
      h.store = next.store;
      return next.service;
    },
    cleanup() {
      h.service.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
