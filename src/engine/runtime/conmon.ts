// Drives an OCI runtime (runc, crun) through conmon, one shim per container.
// conmon holds the container's stdio and log and writes the exit code to
// exits/<id>, so containers outlive a berthd restart.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, invalidArgument } from '../../errors';
import { SHUT_RDWR, SHUT_WR, type Host } from '../../host';
import type { CreateOptions, ProcessStream, Runtime, RuntimeRef, RuntimeStatus } from './runtime';
import type { OciSpec } from './spec';

export interface RuntimeOptions {
  execRoot: string;
  runtimes: Record<string, string>; // name -> binary path
  conmonPath: string;
  debug?: boolean;
}

// Stream ids on conmon's attach socket: the first byte of each packet.
export const ATTACH_STDOUT = 2;
export const ATTACH_STDERR = 3;
const PACKET_SIZE = 8192 + 1;

// One connection to conmon's attach socket (SOCK_SEQPACKET). Reads run on
// the libuv threadpool with fs.read, which returns one packet per call.
export class AttachConn implements ProcessStream {
  private closed = false;
  private reading = false;
  // Writes run on the threadpool; stdin EOF must wait for them.
  private writes: Promise<void> = Promise.resolve();

  constructor(private host: Host, readonly fd: number) {}

  // Calls onData for each packet until conmon closes the socket.
  pump(onData: (stream: 1 | 2, data: Buffer) => void, onEnd: () => void): void {
    if (this.reading) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(PACKET_SIZE);
    const next = () => {
      fs.read(this.fd, buf, 0, PACKET_SIZE, null, (err, n) => {
        if (err || n === 0 || this.closed) {
          this.close();
          onEnd();
          return;
        }
        const kind = buf[0];
        if (n > 1 && (kind === ATTACH_STDOUT || kind === ATTACH_STDERR)) {
          onData(kind === ATTACH_STDOUT ? 1 : 2, Buffer.from(buf.subarray(1, n)));
        }
        next();
      });
    };
    next();
  }

  write(data: Buffer): Promise<void> {
    this.writes = this.writes.then(() => this.writeAll(data)).catch(() => {});
    return this.writes;
  }

  private async writeAll(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length && !this.closed) {
      off += await new Promise<number>((resolve, reject) =>
        fs.write(this.fd, data, off, Math.min(data.length - off, PACKET_SIZE - 1), null, (err, n) => (err ? reject(err) : resolve(n))),
      );
    }
  }

  closeStdin(): void {
    void this.writes.then(() => {
      if (!this.closed) this.host.shutdown(this.fd, SHUT_WR);
    });
  }

  // shutdown wakes a read blocked in the threadpool; the fd is closed after.
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.host.shutdown(this.fd, SHUT_RDWR);
    } catch {
      // already gone
    }
    const fd = this.fd;
    setImmediate(() => fs.close(fd, () => {}));
  }
}

export class ConmonRuntime implements Runtime {
  readonly bundles: string;
  readonly socketDir: string;
  readonly exitDir: string;
  private watcher?: fs.FSWatcher;
  private exitListeners: ((id: string) => void)[] = [];

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
  }

  close(): void {
    this.watcher?.close();
  }

  onExit(listener: (id: string) => void): void {
    this.exitListeners.push(listener);
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
    await fsp.rm(bundle, { recursive: true, force: true });
    await fsp.mkdir(bundle, { recursive: true });
    await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    await fsp.rm(path.join(this.exitDir, id), { force: true });
    await fsp.rm(path.join(this.socketDir, id.slice(0, 12)), { force: true });
    const args = [
      '--api-version', '1',
      '-c', id, '-u', id.slice(0, 12), '-n', o.name,
      '-r', this.runtimePath(ref.runtime),
      '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(ref.runtime),
      '-b', bundle, '-p', path.join(bundle, 'pid'),
      '-l', `k8s-file:${o.logPath}`,
      '--exit-dir', this.exitDir,
      '--socket-dir-path', this.socketDir,
      '--conmon-pidfile', path.join(bundle, 'conmon.pid'),
      '--syslog=false', '--no-sync-log',
      '--log-level', this.opts.debug ? 'debug' : 'error',
    ];
    if (o.stdin) args.push('-i');
    if (o.tty) args.push('-t');
    const child = this.host.spawn(this.opts.conmonPath, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    const errOut: Buffer[] = [];
    child.stderr!.on('data', (d: Buffer) => errOut.push(d));
    // conmon reports {"data": pid} (or a negative value and "message") on the
    // sync pipe once the runtime's create has finished.
    const msg = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const pipe = child.stdio[3] as NodeJS.ReadableStream;
      pipe.on('data', (d: Buffer) => {
        chunks.push(d);
        if (d.includes(10)) resolve(Buffer.concat(chunks).toString());
      });
      pipe.on('end', () => resolve(Buffer.concat(chunks).toString()));
      pipe.on('error', reject);
      child.on('error', reject);
    });
    child.unref();
    let parsed: { data?: number; message?: string } = {};
    try {
      parsed = JSON.parse(msg.trim().split('\n')[0] || '{}');
    } catch {
      // handled below
    }
    if (!parsed.data || parsed.data < 0) {
      const stderr = Buffer.concat(errOut).toString().split('\n').filter((l) => l && !l.includes('oom_score_adj')).join('\n');
      const reason = parsed.message || stderr || msg || 'conmon exited without reporting a pid';
      throw new BerthError('Internal', `failed to create container: ${cleanRuntimeError(reason)}`);
    }
    const conmonPid = Number((await fsp.readFile(path.join(bundle, 'conmon.pid'), 'utf8').catch(() => '0')).trim());
    return { pid: parsed.data, conmonPid };
  }

  // What `runc start` does, without starting a runtime process on the path
  // of every run: the container's init waits to open exec.fifo in the
  // runtime's state dir for writing, and runs the process once a reader has
  // taken the "0" it writes (runc and crun alike). Without the fifo (already
  // started, another runtime) the runtime's own start answers.
  async start(ref: RuntimeRef): Promise<void> {
    const fifo = path.join(this.stateRoot(ref.runtime), ref.id, 'exec.fifo');
    if (!fs.existsSync(fifo)) return this.runtimeStart(ref);
    const pid = Number((await fsp.readFile(path.join(this.bundleDir(ref.id), 'pid'), 'utf8').catch(() => '')).trim());
    if (!pid || !this.host.isAlive(pid)) throw new BerthError('Internal', 'failed to start container: container process is already dead');
    // The open waits for init's end of the fifo. Should init die first, a
    // writer of our own releases it, and no pool thread stays blocked.
    const watch = setInterval(() => {
      if (this.host.isAlive(pid)) return;
      clearInterval(watch);
      fs.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK, (err, fd) => { if (!err) fs.close(fd, () => {}); });
    }, 100);
    let data: Buffer;
    try {
      data = await fsp.readFile(fifo);
    } catch (err) {
      throw new BerthError('Internal', `failed to start container: ${(err as Error).message}`);
    } finally {
      clearInterval(watch);
    }
    await fsp.rm(fifo, { force: true });
    if (data.toString() !== '0') throw new BerthError('Internal', 'failed to start container: container process is already dead');
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
    if (this.hasState(ref.id, ref.runtime) && !(await this.deleteExited(ref))) await this.deleteState(ref, true);
    await this.cleanup(ref.id);
  }

  // What `runc delete` does for a container whose process has exited and
  // left its exit code: remove its cgroups, then its state dir. Done here it
  // spares a runtime process on the path of every `run --rm`. Anything else
  // (processes left in the cgroup, hooks to run, a state of another shape)
  // is left to the runtime: false.
  private async deleteExited(ref: RuntimeRef): Promise<boolean> {
    if (!(await this.exitStatus(ref.id))) return false;
    const dir = path.join(this.stateRoot(ref.runtime), ref.id);
    let state: { cgroup_paths?: Record<string, unknown>; intel_rdt_path?: string; config?: { hooks?: Record<string, unknown[]> } };
    try {
      state = JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8'));
    } catch {
      return false;
    }
    const paths = Object.values(state.cgroup_paths ?? {});
    if (!state.cgroup_paths || state.intel_rdt_path || state.config?.hooks?.poststop?.length) return false;
    if (!paths.every((p): p is string => typeof p === 'string' && p.startsWith('/sys/fs/cgroup/'))) return false;
    // A process that outlived init (it shared the host's pid namespace)
    // holds the cgroups: the runtime kills it.
    const procs = await Promise.all(paths.map((p) => fsp.readFile(path.join(p, 'cgroup.procs'), 'utf8').catch((err) => (err.code === 'ENOENT' ? '' : '?'))));
    if (procs.some((text) => text.trim() !== '')) return false;
    const removed = await Promise.all(paths.map((p) => fsp.rmdir(p).then(() => true, (err) => err.code === 'ENOENT')));
    if (!removed.every(Boolean)) return false;
    await fsp.rm(dir, { recursive: true, force: true });
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
    if (exit) return { state: 'stopped', exit };
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
    if (late) return { state: 'stopped', exit: late };
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

  attach({ id }: RuntimeRef): AttachConn {
    return new AttachConn(this.host, this.host.seqpacketConnect(this.attachPath(id)));
  }

  // The exit code conmon recorded, and when; undefined while still running.
  async exitStatus(id: string): Promise<{ code: number; at: Date } | undefined> {
    const file = path.join(this.exitDir, id);
    try {
      const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
      // conmon may be between creating the file and writing the code.
      if (text.trim() === '') return undefined;
      const code = Number(text.trim());
      return { code: Number.isFinite(code) ? code : 255, at: st.mtime };
    } catch {
      return undefined;
    }
  }

  // Drops the runtime side of a container: bundle, socket link, exit file.
  async cleanup(id: string): Promise<void> {
    await fsp.rm(this.bundleDir(id), { recursive: true, force: true });
    await fsp.rm(path.join(this.socketDir, id.slice(0, 12)), { force: true });
    await fsp.rm(path.join(this.exitDir, id), { force: true });
  }

  async conmonPid(id: string): Promise<number> {
    const text = await fsp.readFile(path.join(this.bundleDir(id), 'conmon.pid'), 'utf8').catch(() => '0');
    return Number(text.trim()) || 0;
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
