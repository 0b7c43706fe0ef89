// Drives an OCI runtime (runc, crun) through conmon, one shim per container.
// conmon holds the container's stdio and log and writes the exit code to
// exits/<id>, so containers outlive a berthd restart.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, invalidArgument, isKind } from '../../errors';
import { SHUT_WR, type Host, type PacketWatch } from '../../host';
import type { CreateOptions, ExecOptions, ExecProcess, ProcessStream, Runtime, RuntimeRef, RuntimeStatus } from './runtime';
import { loggerDone, startLogger, stopLogger } from './logger';
import type { OciProcess, OciSpec } from './spec';
import { ociJSON, type OciResources } from './resources';

export interface RuntimeOptions {
  execRoot: string;
  runtimes: Record<string, string>; // name -> binary path
  conmonPath: string;
  debug?: boolean;
  // Containers' cgroups as systemd scopes (runc --systemd-cgroup).
  systemdCgroup?: boolean;
  // berth-exec (src/host/native/exec-main.c): what conmon runs instead of
  // `runc exec` for a runc container's exec sessions, with the dir where
  // it keeps compiled seccomp programs. Unset: runc exec.
  execHelper?: { path: string; seccompCache: string };
}

// Stream ids on conmon's attach socket: the first byte of each packet.
export const ATTACH_STDOUT = 2;
export const ATTACH_STDERR = 3;
// conmon sends at most 8192 bytes of output plus the stream byte a packet
// (STDIO_BUF_SIZE); the buffer is roomier so nothing is ever cut.
const OUTPUT_PACKET = 32768 + 1;
// conmon reads the attach socket 32 KiB at a time (CONN_SOCK_BUF_SIZE in
// conmon 2.1): a longer stdin packet would be cut short, so none is.
export const STDIN_PACKET = 32768;

interface PendingWrite {
  packet: Buffer;
  // Set on the last packet of a write(): settles its promise.
  done?: () => void;
}

// One connection to conmon's attach socket (SOCK_SEQPACKET), event-driven:
// the Host watches the socket on the event loop and hands over each packet
// as it arrives; stdin is sent without blocking, waiting for room when the
// socket is full. No thread is held while a client stays attached.
export class AttachConn implements ProcessStream {
  private watch?: PacketWatch;
  private closed = false;
  private queue: PendingWrite[] = [];
  private waitingRoom = false;
  private stdinEnd = false;
  private pumping = false;
  private onData: (stream: 1 | 2, data: Buffer) => void = () => {};
  private onEnd: () => void = () => {};

  constructor(private host: Host, readonly fd: number) {}

  // Watching starts with the first use; until pump() has been called,
  // reading is held back so no packet is lost.
  private socket(): PacketWatch | undefined {
    if (this.closed) return undefined;
    if (!this.watch) {
      this.watch = this.host.watchPackets(this.fd, OUTPUT_PACKET, (p) => this.packet(p), () => {
        this.close();
        this.onEnd();
      });
      if (!this.pumping) this.watch.pause();
    }
    return this.watch;
  }

  private packet(p: Buffer): void {
    const kind = p[0];
    if (p.length > 1 && (kind === ATTACH_STDOUT || kind === ATTACH_STDERR)) this.onData(kind === ATTACH_STDOUT ? 1 : 2, p.subarray(1));
  }

  // Calls onData for each packet until conmon closes the socket.
  pump(onData: (stream: 1 | 2, data: Buffer) => void, onEnd: () => void): void {
    if (this.pumping) return;
    this.pumping = true;
    this.onData = onData;
    this.onEnd = onEnd;
    this.socket()?.resume();
  }

  // Reading stops until resume(): the consumer cannot take more.
  pause(): void {
    this.watch?.pause();
  }

  resume(): void {
    if (this.pumping) this.watch?.resume();
  }

  // Resolves once every byte is sent (or dropped: the stream was closed).
  write(data: Buffer): Promise<void> {
    const w = this.socket();
    if (!w || this.stdinEnd || data.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      for (let off = 0; off < data.length; off += STDIN_PACKET) {
        const last = off + STDIN_PACKET >= data.length;
        this.queue.push({ packet: data.subarray(off, off + STDIN_PACKET), ...(last ? { done: resolve } : {}) });
      }
      this.flush();
    });
  }

  private flush(): void {
    const w = this.watch;
    if (!w || this.closed) return this.dropWrites();
    while (this.queue.length) {
      const next = this.queue[0];
      let sent: boolean;
      try {
        sent = w.send(next.packet);
      } catch {
        // conmon is gone; its end is reported by the read side.
        return this.dropWrites();
      }
      if (!sent) {
        if (!this.waitingRoom) {
          this.waitingRoom = true;
          w.whenWritable(() => {
            this.waitingRoom = false;
            this.flush();
          });
        }
        return;
      }
      this.queue.shift();
      next.done?.();
    }
    if (this.stdinEnd) this.shutdownWrite();
  }

  private dropWrites(): void {
    const q = this.queue;
    this.queue = [];
    for (const p of q) p.done?.();
  }

  private shutdownWrite(): void {
    try {
      this.watch?.shutdown(SHUT_WR);
    } catch {
      // already gone
    }
  }

  // Stdin EOF, once what was written before has been sent.
  closeStdin(): void {
    if (this.closed || this.stdinEnd) return;
    this.stdinEnd = true;
    this.socket();
    if (!this.queue.length) this.shutdownWrite();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropWrites();
    if (this.watch) this.watch.close();
    else fs.close(this.fd, () => {});
  }
}

// Sizes the terminal of a process conmon runs with -t. `dir` is the
// directory conmon was given as its bundle (a container's, or an exec
// session's): conmon reads "<rows> <cols>\n" from the `winsz` FIFO there and
// sets the pty's size (TIOCSWINSZ, which also signals SIGWINCH).
//
// conmon 2.1 handles only the first line of whatever one read brings, so
// two sizes written back to back (docker attach sends h+1,w+1 then h,w)
// would leave the first. So one message is in flight per dir: the next is
// written once conmon has read the last (the FIFO is empty), and only the
// newest size asked for meanwhile is sent. The ctl FIFO, podman's way in,
// forwards to the same winsz FIFO and would batch there just the same.
const sizing = new Map<string, { want: { height: number; width: number }; done: Promise<void> }>();

export function resizeTerminal(host: Host, dir: string, height: number, width: number): Promise<void> {
  // A pty's size is two unsigned shorts; containerd truncates the same way.
  const want = { height: height % 65536, width: width % 65536 };
  const busy = sizing.get(dir);
  if (busy) {
    busy.want = want;
    return busy.done;
  }
  const st = { want, done: Promise.resolve() };
  st.done = (async () => {
    let fh: fsp.FileHandle | undefined;
    try {
      // Non-blocking: with no conmon reading, the open fails (ENXIO) rather than hangs.
      fh = await fsp.open(path.join(dir, 'winsz'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      let sent: { height: number; width: number };
      do {
        sent = st.want;
        await fh.write(`${sent.height} ${sent.width}\n`);
        // conmon takes it in a moment; one that is stuck (a client not
        // reading blocks its loop) gets the size when it is free again.
        for (let i = 0; i < 500 && host.unreadBytes(fh.fd) > 0; i++) await new Promise((r) => setTimeout(r, 2));
      } while (st.want !== sent);
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENXIO') throw new BerthError('Conflict', 'the process is not running');
      throw err;
    } finally {
      sizing.delete(dir);
      await fh?.close().catch(() => {});
    }
  })();
  sizing.set(dir, st);
  return st.done;
}

export class ConmonRuntime implements Runtime {
  readonly bundles: string;
  readonly socketDir: string;
  readonly exitDir: string;
  private watcher?: fs.FSWatcher;
  private exitListeners: ((id: string) => void)[] = [];
  // OOM events: conmon listens to the memory cgroup's (v1's eventfd on
  // memory.oom_control, v2's memory.events) and creates a file "oom" in its
  // working directory at each, which is the bundle: one watch per bundle.
  private oomWatchers = new Map<string, fs.FSWatcher>();
  private oomListeners: ((id: string) => void)[] = [];

  constructor(private host: Host, private opts: RuntimeOptions) {
    this.bundles = path.join(opts.execRoot, 'c');
    this.socketDir = path.join(opts.execRoot, 's');
    this.exitDir = path.join(opts.execRoot, 'exits');
  }

  async init(): Promise<void> {
    for (const d of [this.bundles, this.socketDir, this.exitDir]) await fsp.mkdir(d, { recursive: true });
    // Exit files are written by conmon once the container's process is gone.
    this.watcher = fs.watch(this.exitDir, (_event, name) => {
      if (name && /^[a-f0-9]{64}$/.test(name)) for (const l of this.exitListeners) l(name);
    });
    // Containers still running from before (an OOM meanwhile went unseen,
    // as containerd's events do while dockerd is down).
    for (const id of fs.readdirSync(this.bundles)) if (/^[a-f0-9]{64}$/.test(id)) this.watchOom(id);
  }

  close(): void {
    this.watcher?.close();
    for (const id of [...this.oomWatchers.keys()]) this.unwatchOom(id);
  }

  onExit(listener: (id: string) => void): void {
    this.exitListeners.push(listener);
  }

  onOom(listener: (id: string) => void): void {
    this.oomListeners.push(listener);
  }

  // Each "oom" conmon creates is taken (removed) so that the next OOM
  // creates it again: one event each.
  private watchOom(id: string): void {
    if (this.oomWatchers.has(id)) return;
    const dir = this.bundleDir(id);
    const file = path.join(dir, 'oom');
    const take = () => {
      try {
        fs.unlinkSync(file);
      } catch {
        return;
      }
      for (const l of this.oomListeners) l(id);
    };
    try {
      const w = fs.watch(dir, (_event, name) => { if (name === 'oom') take(); });
      w.on('error', () => this.unwatchOom(id));
      // It keeps no process alive (the server does).
      w.unref();
      this.oomWatchers.set(id, w);
    } catch {
      // the bundle is gone
    }
  }

  private unwatchOom(id: string): void {
    this.oomWatchers.get(id)?.close();
    this.oomWatchers.delete(id);
  }

  check(runtime: string): void {
    this.runtimePath(runtime);
  }

  runtimePath(name: string): string {
    const p = this.opts.runtimes[name];
    if (!p) throw invalidArgument(`unknown or invalid runtime name: ${name}`);
    return p;
  }

  stateRoot(name: string): string {
    return path.join(this.opts.execRoot, 'runtime', name);
  }

  bundleDir(id: string): string {
    return path.join(this.bundles, id);
  }

  // The attach socket is reached through a short symlink in socketDir,
  // because Unix socket paths are limited to 108 bytes.
  attachPath(id: string): string {
    return path.join(this.socketDir, id.slice(0, 12), 'attach');
  }

  // Writes the bundle and has conmon run `runtime create`; the container is
  // left "created" until start(). Returns the container's init pid.
  async create(ref: RuntimeRef, spec: OciSpec, o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const id = ref.id;
    const bundle = this.bundleDir(id);
    // At once, not through the thread pool: a few small files in the exec
    // root, on the path of every start (see exitStatus). A bundle left by an
    // earlier run goes first, so nothing of it mixes with the new one.
    fs.rmSync(bundle, { recursive: true, force: true });
    fs.mkdirSync(bundle, { recursive: true });
    this.unwatchOom(id);
    this.watchOom(id);
    fs.writeFileSync(path.join(bundle, 'config.json'), ociJSON(spec));
    fs.rmSync(path.join(this.exitDir, id), { force: true });
    fs.rmSync(path.join(this.socketDir, id.slice(0, 12)), { force: true });
    // conmon writes its records into berth-logger's FIFO, which writes the
    // driver's files (logger.ts); older containers keep conmon's own file.
    const logger = o.log && (o.log.driver === 'json-file' || o.log.driver === 'local') ? await startLogger(this.host, bundle, { ...o.log, path: o.logPath }) : undefined;
    const logArg = o.log?.driver === 'none' ? 'none' : `k8s-file:${logger ? logger.fifo : o.logPath}`;
    const args = [
      '--api-version', '1',
      '-c', id, '-u', id.slice(0, 12), '-n', o.name,
      '-r', this.runtimePath(ref.runtime),
      '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(ref.runtime),
      ...(this.opts.systemdCgroup ? ['--runtime-arg', '--systemd-cgroup'] : []),
      '-b', bundle, '-p', path.join(bundle, 'pid'),
      '-l', logArg,
      '--exit-dir', this.exitDir,
      '--socket-dir-path', this.socketDir,
      '--conmon-pidfile', path.join(bundle, 'conmon.pid'),
      '--syslog=false', '--no-sync-log',
      '--log-level', this.opts.debug ? 'debug' : 'error',
    ];
    if (o.stdin) args.push('-i');
    // conmon closes the process's stdin when an attach connection ends,
    // which only a non-TTY StdinOnce container wants (docker run -i: the
    // client's EOF is the container's). A TTY's stdin is the pty, which
    // must outlive a detach.
    if (o.stdin && (o.tty || !o.stdinOnce)) args.push('--leave-stdin-open');
    if (o.tty) args.push('-t');
    let child;
    try {
      child = this.host.launch(this.opts.conmonPath, args, {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
        // Where conmon writes its "oom" file.
        cwd: bundle,
      });
    } catch (err) {
      if (logger) stopLogger(this.host, logger.pid);
      this.unwatchOom(id);
      throw err;
    }
    const errOut: Buffer[] = [];
    child.stdio[2]!.on('data', (d: Buffer) => errOut.push(d));
    child.stdio[2]!.on('error', () => {});
    // conmon reports {"data": pid} (or a negative value and "message") on the
    // sync pipe once the runtime's create has finished.
    const msg = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const pipe = child.stdio[3]!;
      pipe.on('data', (d: Buffer) => {
        chunks.push(d);
        if (d.includes(10)) resolve(Buffer.concat(chunks).toString());
      });
      pipe.on('end', () => resolve(Buffer.concat(chunks).toString()));
      pipe.on('error', reject);
    }).catch((err) => {
      if (logger) stopLogger(this.host, logger.pid);
      this.unwatchOom(id);
      throw err;
    });
    let parsed: { data?: number; message?: string } = {};
    try {
      parsed = JSON.parse(msg.trim().split('\n')[0] || '{}');
    } catch {
      // handled below
    }
    if (!parsed.data || parsed.data < 0) {
      const stderr = Buffer.concat(errOut).toString().split('\n').filter((l) => l && !l.includes('oom_score_adj')).join('\n');
      const reason = parsed.message || stderr || msg || 'conmon exited without reporting a pid';
      if (logger) stopLogger(this.host, logger.pid);
      this.unwatchOom(id);
      throw new BerthError('Internal', `failed to create container: ${cleanRuntimeError(reason)}`);
    }
    return { pid: parsed.data, conmonPid: this.readPid(path.join(bundle, 'conmon.pid')) };
  }

  // What `runc start` does, without starting a runtime process on the path
  // of every run: the container's init waits to open exec.fifo in the
  // runtime's state dir for writing, and runs the process once a reader has
  // taken the "0" it writes (runc and crun alike). Without the fifo (already
  // started, another runtime) the runtime's own start answers.
  async start(ref: RuntimeRef): Promise<void> {
    const fifo = path.join(this.stateRoot(ref.runtime), ref.id, 'exec.fifo');
    if (!fs.existsSync(fifo)) return this.runtimeStart(ref);
    const pid = this.readPid(path.join(this.bundleDir(ref.id), 'pid'));
    if (!pid || !this.host.isAlive(pid)) throw new BerthError('Internal', 'failed to start container: container process is already dead');
    // The open waits for init's end of the fifo. Should init die first, a
    // writer of our own releases it, and no pool thread stays blocked.
    const watch = setInterval(() => {
      if (this.host.isAlive(pid)) return;
      clearInterval(watch);
      fs.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK, (err, fd) => { if (!err) fs.close(fd, () => {}); });
    }, 100);
    // The "0" is all there is to read: init writes it right after its open
    // returns and closes its end only at exec. Reading to that EOF (as
    // readFile would) waits for the exec and costs three more pool trips.
    let data: Buffer;
    let fd: number | undefined;
    try {
      fd = await new Promise<number>((resolve, reject) => fs.open(fifo, fs.constants.O_RDONLY, (err, f) => (err ? reject(err) : resolve(f))));
      const buf = Buffer.alloc(1);
      const n = await new Promise<number>((resolve, reject) => fs.read(fd!, buf, 0, 1, null, (err, b) => (err ? reject(err) : resolve(b))));
      data = buf.subarray(0, n);
    } catch (err) {
      throw new BerthError('Internal', `failed to start container: ${(err as Error).message}`);
    } finally {
      clearInterval(watch);
      if (fd !== undefined) fs.closeSync(fd);
    }
    // At once, not through the pool: runc calls a container with this fifo
    // "created", and the process is already running.
    fs.rmSync(fifo, { force: true });
    if (data.toString() !== '0') throw new BerthError('Internal', 'failed to start container: container process is already dead');
  }

  // A pid file in the bundle, read at once (see exitStatus); 0 without one.
  private readPid(file: string): number {
    try {
      return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  }

  private async runtimeStart({ id, runtime }: RuntimeRef): Promise<void> {
    const r = await this.host.run(this.runtimePath(runtime), ['--root', this.stateRoot(runtime), 'start', id]);
    if (r.code !== 0) throw new BerthError('Internal', `failed to start container: ${cleanRuntimeError(r.stderr)}`);
  }

  kill(pid: number, signal: NodeJS.Signals | number): boolean {
    return this.host.kill(pid, signal);
  }

  // Forgets a container: the runtime's record (killing what is left), then
  // the bundle, socket link and exit file.
  async delete(ref: RuntimeRef): Promise<void> {
    if (this.hasState(ref.id, ref.runtime) && !(await this.deleteExited(ref))) {
      const shim = this.readPid(path.join(this.bundleDir(ref.id), 'conmon.pid'));
      await this.deleteState(ref, true);
      // The process was killed (a container created and never started, or
      // a failed start): its shim writes an exit file and goes. It is
      // waited for (briefly), so that no late exit file outlives the
      // cleanup and lands on the container's next run.
      if (shim) await this.shimGone(shim, 2000);
    }
    await this.cleanup(ref.id);
  }

  private async shimGone(pid: number, ms: number): Promise<void> {
    for (let t = 0; t < ms && this.host.isAlive(pid); t += 5) await new Promise((r) => setTimeout(r, 5));
  }

  forget(id: string): Promise<void> {
    const runtime = Object.keys(this.opts.runtimes).find((name) => this.hasState(id, name)) ?? Object.keys(this.opts.runtimes)[0];
    return runtime ? this.delete({ id, runtime }) : this.cleanup(id);
  }

  // What `runc delete` does for a container whose process has exited and
  // left its exit code: remove its cgroups, then its state dir. Done here it
  // spares a runtime process on the path of every `run --rm`. Anything else
  // (processes left in the cgroup, hooks to run, a state of another shape)
  // is left to the runtime: false.
  private async deleteExited(ref: RuntimeRef): Promise<boolean> {
    const dir = path.join(this.stateRoot(ref.runtime), ref.id);
    let state: { cgroup_paths?: Record<string, unknown>; intel_rdt_path?: string; config?: { hooks?: Record<string, unknown[]> } };
    if (!(await this.exitStatus(ref.id))) return false;
    // The runtime's state dir is in the exec root, as the exit file.
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
    } catch {
      return false;
    }
    const paths = Object.values(state.cgroup_paths ?? {});
    if (!state.cgroup_paths || state.intel_rdt_path || state.config?.hooks?.poststop?.length) return false;
    if (!paths.every((p): p is string => typeof p === 'string' && p.startsWith('/sys/fs/cgroup/'))) return false;
    // A cgroup that still holds a process (one that outlived init: it
    // shared the host's pid namespace) is not removed (EBUSY): the runtime
    // kills what is left and removes the rest.
    const removed = await Promise.all(paths.map((p) => fsp.rmdir(p).then(() => true, (err) => err.code === 'ENOENT')));
    if (!removed.every(Boolean)) return false;
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  }

  // Removes the runtime's record of a stopped (or, with force, any) container.
  async deleteState({ id, runtime }: RuntimeRef, force = false): Promise<void> {
    const args = ['--root', this.stateRoot(runtime), 'delete'];
    if (force) args.push('--force');
    const r = await this.host.run(this.runtimePath(runtime), [...args, id]);
    if (r.code !== 0 && !/does not exist|not exist/.test(r.stderr)) {
      throw new BerthError('Internal', `failed to delete container from runtime: ${cleanRuntimeError(r.stderr)}`);
    }
  }

  // Liveness from what cannot lie: conmon's exit file, then the runtime's
  // own state (which checks the process itself). A pid alone is not enough:
  // an exited shim can linger as a zombie that kill(pid, 0) calls alive.
  async status(ref: RuntimeRef): Promise<RuntimeStatus> {
    const exit = await this.exitStatus(ref.id);
    // Exited once its log writer has written the last of its output too.
    if (exit) return loggerDone(this.host, this.bundleDir(ref.id)).then(() => ({ state: 'stopped', exit }));
    if (!this.hasState(ref.id, ref.runtime)) return { state: 'gone' };
    const r = await this.host.run(this.runtimePath(ref.runtime), ['--root', this.stateRoot(ref.runtime), 'state', ref.id]);
    if (r.code !== 0) return { state: 'gone' };
    let status = '';
    try {
      status = (JSON.parse(r.stdout) as { status?: string }).status ?? '';
    } catch {
      return { state: 'gone' };
    }
    // conmon may have written the exit file while runc was looking.
    const late = await this.exitStatus(ref.id);
    if (late) return loggerDone(this.host, this.bundleDir(ref.id)).then(() => ({ state: 'stopped', exit: late }));
    return { state: status === 'running' || status === 'created' || status === 'paused' ? status : 'stopped' };
  }

  // Whether the runtime still keeps a record of the container.
  hasState(id: string, runtime: string): boolean {
    return fs.existsSync(path.join(this.stateRoot(runtime), id));
  }

  async pause({ id, runtime }: RuntimeRef, resume: boolean): Promise<void> {
    const r = await this.host.run(this.runtimePath(runtime), ['--root', this.stateRoot(runtime), resume ? 'resume' : 'pause', id]);
    if (r.code !== 0) throw new BerthError('Internal', cleanRuntimeError(r.stderr));
  }

  // `runc update --resources -`: the whole set, as JSON on stdin.
  async update({ id, runtime }: RuntimeRef, resources: OciResources): Promise<void> {
    const r = await this.host.run(this.runtimePath(runtime), ['--root', this.stateRoot(runtime), 'update', '--resources', '-', id], { input: JSON.stringify(resources) });
    if (r.code !== 0) throw new BerthError('Internal', cleanRuntimeError(r.stderr));
  }

  attach({ id }: RuntimeRef): AttachConn {
    return new AttachConn(this.host, this.host.seqpacketConnect(this.attachPath(id)));
  }

  // An exec session's dir: inside the container's bundle, so the session
  // goes with the container's runtime leftovers. It holds the process spec,
  // conmon's attach socket and fifos, and the exit file (named by the
  // container id, as conmon names it).
  execDir(id: string, session: string): string {
    return path.join(this.bundleDir(id), 'exec', session);
  }

  // Its attach socket, through a short link like a container's ("e-" keeps
  // the two kinds of link apart).
  private execLink(session: string): string {
    return `e-${session.slice(0, 12)}`;
  }

  // Runs `runtime exec` under a conmon of its own (conmon --exec), so the
  // process outlives berthd like a container does. conmon reports on fd 3
  // (the sync pipe) the pid, or a failure, and later the exit code. An
  // attached session also uses fd 4 (start: one byte lets conmon go on, a
  // second lets it run the runtime) and fd 5 (attach: conmon says its
  // attach socket is listening), so the stream is connected before the
  // process runs and no output is missed.
  async exec(ref: RuntimeRef, session: string, proc: OciProcess, o: ExecOptions): Promise<ExecProcess> {
    const dir = this.execDir(ref.id, session);
    // At once, not through the thread pool: a few small steps on the path
    // of every exec, each a pool round trip otherwise.
    fs.mkdirSync(dir, { recursive: true });
    const spec = path.join(dir, 'process.json');
    fs.writeFileSync(spec, JSON.stringify(proc));
    const link = this.execLink(session);
    fs.rmSync(path.join(this.socketDir, link), { force: true });
    const args = [
      '--api-version', '1',
      '-c', ref.id, '-u', link,
      ...this.execRuntimeArgs(ref.runtime),
      '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(ref.runtime),
      '-b', dir, '-p', path.join(dir, 'pid'),
      '-l', 'none',
      '--exit-dir', dir,
      '--socket-dir-path', this.socketDir,
      '--conmon-pidfile', path.join(dir, 'conmon.pid'),
      // Not debug: the runtime's child of conmon writes its messages into
      // the process's stderr, which the client reads.
      '--syslog=false', '--no-sync-log', '--log-level', 'error',
      '-e', '--exec-process-spec', spec,
    ];
    if (o.attach) args.push('--exec-attach');
    if (o.stdin) args.push('-i');
    if (o.tty) args.push('-t');
    const child = this.host.launch(this.opts.conmonPath, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...(o.attach ? (['pipe', 'pipe'] as const) : [])],
      env: { ...process.env, _OCI_SYNCPIPE: '3', ...(o.attach ? { _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' } : {}) },
      // Its "oom" file (the container's conmon reports the same OOMs) stays
      // in the session's dir, not the daemon's working directory.
      cwd: dir,
    });
    const errOut: Buffer[] = [];
    const fds = child.stdio;
    fds[2]!.on('data', (d: Buffer) => errOut.push(d));
    fds[2]!.on('error', () => {});
    const sync = new SyncReader(fds[3]!);
    const start = o.attach ? fds[4]! : undefined;
    start?.on('error', () => {});
    const ready = o.attach ? new SyncReader(fds[5]!) : undefined;
    const failed = (reason: string): BerthError => {
      const stderr = Buffer.concat(errOut).toString().split('\n').filter((l) => l && !l.includes('oom_score_adj')).join('\n');
      return new BerthError('Internal', cleanRuntimeError(reason || stderr || 'conmon exited without reporting a pid'));
    };
    let stream: AttachConn | undefined;
    try {
      if (start && ready) {
        start.write(Buffer.from([0]));
        // conmon writes {"data": 0} once its attach socket listens.
        if ((await ready.next()) === undefined) throw failed('');
        stream = new AttachConn(this.host, this.host.seqpacketConnect(path.join(this.socketDir, link, 'attach')));
        start.write(Buffer.from([0]));
      }
      const first = await sync.next();
      if (!first || first.data <= 0) throw failed(first?.message ?? '');
      const exit = sync.next().then(async (m) => {
        if (m) return m.data;
        // The pipe closed without a code (conmon was killed): the exit file, if any.
        return (await this.execExitCode(ref.id, session)) ?? 255;
      });
      return { pid: first.data, stream, exit };
    } catch (err) {
      stream?.close();
      sync.close();
      ready?.close();
      throw err;
    } finally {
      start?.end();
      ready?.close();
    }
  }

  // conmon's runtime for an exec: berth-exec for runc (it hands anything
  // it does not do itself to runc), the runtime itself otherwise.
  private execRuntimeArgs(runtime: string): string[] {
    const bin = this.runtimePath(runtime);
    const helper = this.opts.execHelper;
    if (!helper || path.basename(bin) !== 'runc' || !fs.existsSync(helper.path)) return ['-r', bin];
    return ['-r', helper.path, '--runtime-arg', '--runc', '--runtime-arg', bin, '--runtime-arg', '--seccomp-cache', '--runtime-arg', helper.seccompCache];
  }

  async execExitCode(id: string, session: string): Promise<number | undefined> {
    const text = await fsp.readFile(path.join(this.execDir(id, session), id), 'utf8').catch(() => '');
    return text.trim() === '' || !Number.isFinite(Number(text)) ? undefined : Number(text);
  }

  // The link first: a daemon stopped in between leaves a dir, which goes
  // with the container's bundle, never a link no one would find.
  async forgetExec(ref: RuntimeRef, session: string): Promise<void> {
    await fsp.rm(path.join(this.socketDir, this.execLink(session)), { force: true });
    await fsp.rm(this.execDir(ref.id, session), { recursive: true, force: true });
  }

  // The session's pty, resized through conmon's winsz fifo as a
  // container's is.
  async resizeExec(ref: RuntimeRef, session: string, height: number, width: number): Promise<void> {
    await resizeTerminal(this.host, this.execDir(ref.id, session), height, width).catch((err) => {
      throw isKind(err, 'Conflict') ? new BerthError('Conflict', `exec session ${session} is not running`) : err;
    });
  }

  resize({ id }: RuntimeRef, size: { height: number; width: number }): Promise<void> {
    return resizeTerminal(this.host, this.bundleDir(id), size.height, size.width);
  }

  exited(ref: RuntimeRef): Promise<{ code: number; at: Date } | undefined> {
    return this.exitStatus(ref.id);
  }

  // The exit code conmon recorded, and when; undefined while still running.
  // Read at once, not through the thread pool: a few bytes conmon wrote in
  // the exec root, on the path of every exit, where each round trip through
  // the pool costs more than the reads (several ms on a busy machine).
  async exitStatus(id: string): Promise<{ code: number; at: Date } | undefined> {
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.exitDir, id), 'r');
    } catch {
      return undefined;
    }
    try {
      const st = fs.fstatSync(fd);
      const text = fs.readFileSync(fd, 'utf8').trim();
      // conmon may be between creating the file and writing the code.
      if (text === '') return undefined;
      const code = Number(text);
      return { code: Number.isFinite(code) ? code : 255, at: st.mtime };
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  // Drops the runtime side of a container: bundle, socket link, exit file.
  async cleanup(id: string): Promise<void> {
    // Exec sessions' links: conmon removes its own, unless it could not
    // finish (its daemon was gone when it reported the exit).
    // At once: a few small files in the exec root (see exitStatus).
    let sessions: string[] = [];
    try {
      sessions = fs.readdirSync(path.join(this.bundleDir(id), 'exec'));
    } catch {
      // none
    }
    for (const session of sessions) fs.rmSync(path.join(this.socketDir, this.execLink(session)), { force: true });
    this.unwatchOom(id);
    fs.rmSync(this.bundleDir(id), { recursive: true, force: true });
    fs.rmSync(path.join(this.socketDir, id.slice(0, 12)), { force: true });
    fs.rmSync(path.join(this.exitDir, id), { force: true });
  }

  async conmonPid(id: string): Promise<number> {
    const text = await fsp.readFile(path.join(this.bundleDir(id), 'conmon.pid'), 'utf8').catch(() => '0');
    return Number(text.trim()) || 0;
  }
}

// conmon's messages on a sync or attach pipe: one JSON object per line,
// {"data": N} or {"data": N, "message": "..."}. next() gives undefined
// once the pipe has closed.
class SyncReader {
  private lines: string[] = [];
  private buf = '';
  private ended = false;
  private waiting?: () => void;

  constructor(private pipe: NodeJS.ReadableStream) {
    pipe.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    pipe.on('end', end);
    pipe.on('close', end);
    pipe.on('error', end);
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async next(): Promise<{ data: number; message?: string } | undefined> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        try {
          const m = JSON.parse(line) as { data?: unknown; message?: unknown };
          if (typeof m.data === 'number') return { data: m.data, message: typeof m.message === 'string' ? m.message : undefined };
        } catch {
          // not a message; skip it
        }
        continue;
      }
      if (this.ended) return undefined;
      await new Promise<void>((r) => { this.waiting = r; });
    }
  }

  close(): void {
    (this.pipe as unknown as { destroy?: () => void }).destroy?.();
  }
}

// runc prints logrus-style lines; keep the message part.
export function cleanRuntimeError(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  const msgs = lines.map((l) => {
    const m = l.match(/msg="((?:[^"\\]|\\.)*)"/);
    return m ? m[1].replace(/\\"/g, '"') : l;
  });
  return msgs.join(': ') || 'unknown runtime error';
}
