// Exec sessions: processes started in a running container (`docker exec`).
// A session is created, started once (attached or detached), and then kept
// for inspection until a while after it has exited, as dockerd keeps them,
// or until its container stops.
// The runtime runs each one under a shim of its own, joining the
// container's namespaces, cgroup and seccomp filter; this service decides
// its user, env, cwd and capabilities from the container's spec, the way
// the container's own process got them. Sessions live in memory: a daemon
// restart forgets them (as dockerd does), while their processes run on.
import { BerthError, conflict, invalidArgument, notFound } from '../../errors';
import { newId } from '../../util/ids';
import { readFileInRootSync } from '../../util/rootfs';
import type { EventPublisher } from '../events/bus';
import type { ProcessStream, Runtime, RuntimeRef } from '../runtime/runtime';
import { ociRlimits } from '../runtime/resources';
import { buildEnv, processSpec, mergeExecEnv } from '../runtime/spec';
import { resolveUser } from '../runtime/user';
import { containerCapabilities, resolveGroupAdd } from '../runtime/security';
import { checkWorkdir, checkWorkdirInRoot } from './security';
import { Attachments, noAttach, type AttachHandle, type AttachSink } from './io';
import type { ContainerRecord } from './record';

// What an exec runs, in the engine's words.
export interface ExecSpec {
  cmd: string[];
  // Entries replace or add to the container's env; a bare NAME removes it.
  env: string[];
  // "" runs as the container's user.
  user: string;
  // "" runs in the container's working directory.
  cwd: string;
  tty: boolean;
  // Every capability the daemon holds instead of the container's.
  privileged: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  // With a TTY and stdin, the sequence that lets go of the stream
  // (ctrl-p,ctrl-q when unset).
  detachKeys?: Buffer;
  consoleSize?: ConsoleSize;
}

export interface ConsoleSize {
  height: number;
  width: number;
}

// A session as inspect shows it.
export interface ExecSession {
  id: string;
  containerId: string;
  spec: ExecSpec;
  // The user it runs as (the container's when the spec leaves it empty).
  user: string;
  running: boolean;
  // Set once it has exited or failed to start.
  exitCode?: number;
  pid: number;
  // Finished and no longer part of its container.
  canRemove: boolean;
}

// What exec needs of the containers.
export interface ExecContainers {
  get(ref: string): ContainerRecord;
}

export interface ExecDeps {
  containers: ExecContainers;
  runtime: Pick<Runtime, 'exec' | 'resizeExec' | 'forgetExec' | 'kill'>;
  // A running container's root filesystem, as mounted (its /etc/passwd).
  rootfs(id: string): string;
  events: EventPublisher;
}

export interface ExecServiceOptions {
  // The capabilities a privileged exec gets: all the daemon holds.
  privilegedCaps: string[];
  // How long a finished session stays inspectable (dockerd: 5 to 10 minutes).
  keepMs?: number;
}

interface Session extends ExecSession {
  startCalled: boolean;
  // Settles once the runtime has started it (or failed to).
  started: Promise<void>;
  settle: () => void;
  // Its attached client, if any.
  io?: Attachments;
  timer?: NodeJS.Timeout;
}

const KEEP_MS = 5 * 60_000;

export class ExecService {
  private sessions = new Map<string, Session>();

  constructor(private d: ExecDeps, private opts: ExecServiceOptions) {}

  // Checks what dockerd checks at create: the container runs and is not
  // paused, and the user exists in it.
  async create(containerRef: string, spec: ExecSpec): Promise<string> {
    const c = this.d.containers.get(containerRef);
    this.checkRunning(c, containerRef);
    if (spec.cmd.length === 0) throw invalidArgument('No exec command specified');
    if (spec.cwd && !spec.cwd.startsWith('/')) {
      throw invalidArgument(`the working directory '${spec.cwd}' is invalid, it needs to be an absolute path`);
    }
    if (spec.cwd) checkWorkdir(spec.cwd);
    const user = spec.user || c.spec.process.user;
    await this.resolveUser(c, user);
    const id = newId();
    let settle!: () => void;
    const started = new Promise<void>((r) => { settle = r; });
    this.sessions.set(id, { id, containerId: c.id, spec, user, running: false, pid: 0, canRemove: false, startCalled: false, started, settle });
    this.publish(c, `exec_create: ${spec.cmd.join(' ')}`, { execID: id });
    return id;
  }

  inspect(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    // A session of a container that is gone is gone too.
    try {
      this.d.containers.get(s.containerId);
    } catch {
      throw notFound(`No such exec instance: ${id}`);
    }
    const { started: _s, io: _t, timer: _i, settle: _e, startCalled: _c, ...view } = s;
    return { ...view, spec: { ...s.spec } };
  }

  // The sessions of a container that are not finished (inspect's ExecIDs).
  idsOf(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.containerId === containerId && s.exitCode === undefined).map((s) => s.id);
  }

  // Throws what start would before anything runs: 404 for an unknown
  // session, 409 for a container that is not running, or paused.
  startable(id: string): void {
    this.lookup(id);
  }

  // Starts the session's process. Detached, it resolves once the process
  // runs; attached, the sink is its client as for a container's attach
  // (io.ts), with stdin closing at the client's end as dockerd's exec does
  // (on a TTY the stream ends instead, and the process runs on, as after
  // the detach keys). The sink ends after the exit code is recorded, so a
  // client that asks for it next finds it.
  async start(id: string, o: { detach: boolean; consoleSize?: ConsoleSize }, sink?: AttachSink): Promise<AttachHandle> {
    const { s, c } = this.lookup(id);
    if (s.exitCode !== undefined) throw conflict(`exec command ${id} has already run`);
    if (s.running || s.startCalled) throw conflict(`exec command ${id} is already running`);
    s.running = true;
    s.startCalled = true;
    this.publish(c, `exec_start: ${s.spec.cmd.join(' ')}`, { execID: id });
    const attach = !o.detach && !!sink;
    let proc;
    try {
      const user = await this.resolveUser(c, s.user);
      const cwd = s.spec.cwd || c.spec.process.cwd || '/';
      await checkWorkdirInRoot(this.d.rootfs(c.id), cwd);
      const tty = s.spec.tty;
      const process = processSpec({
        args: s.spec.cmd,
        env: mergeExecEnv(buildEnv([], c.spec.process.env, c.spec.hostname, user.home, tty), s.spec.env),
        cwd,
        user,
        tty,
        consoleSize: o.consoleSize ?? s.spec.consoleSize,
        // The container's own set (its --cap-add/--cap-drop), and its no_new_privs.
        capabilities: s.spec.privileged ? this.opts.privilegedCaps : containerCapabilities(c.spec.security, this.opts.privilegedCaps),
        noNewPrivileges: !!c.spec.security.noNewPrivileges,
      });
      // The container's rlimits, as dockerd's exec starts from its process.
      process.rlimits = ociRlimits(c.spec.limits ?? {});
      proc = await this.d.runtime.exec(this.ref(c), id, process, { attach, stdin: attach && s.spec.stdin, tty });
    } catch (err) {
      void this.d.runtime.forgetExec(this.ref(c), id).catch(() => {});
      const msg = err instanceof Error ? err.message : String(err);
      // dockerd's codes for a process that could not be run: 127 not
      // found, 126 not executable (the shell's convention).
      s.exitCode = /executable file not found|no such file or directory|not a directory/i.test(msg) ? 127 : 126;
      this.finish(s);
      s.settle();
      if (err instanceof BerthError && err.kind !== 'Internal') throw err;
      throw new BerthError(s.exitCode === 127 || /permission denied|is a directory/i.test(msg) ? 'InvalidArgument' : 'Internal', `OCI runtime exec failed: ${msg}`);
    }
    s.pid = proc.pid;
    s.settle();
    const exited = proc.exit.then((code) => {
      s.exitCode = code;
      this.finish(s);
      this.publish(c, 'exec_die', { execID: id, exitCode: String(code) });
      // The code is kept here; the session's files are of no more use.
      void this.d.runtime.forgetExec(this.ref(c), id).catch(() => {});
    });
    const stream = proc.stream;
    if (!attach || !stream || !sink) {
      stream?.close();
      return noAttach;
    }
    // The stream exists already, so connecting it cannot fail.
    s.io = new Attachments(() => {}, { tty: s.spec.tty, stdinOnce: true }, () => this.publish(c, 'exec_detach', { execID: id }));
    const opts = { stdin: s.spec.stdin, stdout: s.spec.stdout, stderr: s.spec.stderr, stream: true, logs: false, detachKeys: s.spec.detachKeys };
    return s.io.add(opts, sink, () => endsAfter(stream, exited));
  }

  // Resizes the session's TTY. Before it runs, this waits for the start (as
  // dockerd does, up to 10 s); without a TTY it does nothing, as dockerd's
  // runtime does.
  async resize(id: string, height: number, width: number): Promise<void> {
    const { s, c } = this.lookup(id);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      s.started.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), 10_000); }),
    ]);
    clearTimeout(timer);
    if (timedOut) throw new BerthError('Unavailable', 'timeout waiting for exec session ready');
    if (!s.pid) throw invalidArgument('exec process is not started');
    if (!s.spec.tty) return;
    if (s.exitCode !== undefined) throw conflict(`exec ${id} has exited`);
    await this.d.runtime.resizeExec(this.ref(c), id, height, width);
  }

  // Signals a running session's process (a healthcheck past its timeout).
  kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const s = this.sessions.get(id);
    if (s?.running && s.pid) this.d.runtime.kill(s.pid, signal);
  }

  // Forgets a finished session at once (a healthcheck's, its code read),
  // so that frequent probes do not pile sessions up.
  remove(id: string): void {
    const s = this.sessions.get(id);
    if (!s || s.exitCode === undefined) return;
    clearTimeout(s.timer);
    this.sessions.delete(id);
  }

  // The container has stopped or is gone: its sessions go with it, as
  // dockerd unregisters them at the container's cleanup (their processes
  // died with it; an exit still on its way is published all the same).
  containerExited(containerId: string): void {
    for (const s of [...this.sessions.values()]) {
      if (s.containerId !== containerId) continue;
      clearTimeout(s.timer);
      s.io?.endAll();
      s.settle();
      this.sessions.delete(s.id);
    }
  }

  containerRemoved(containerId: string): void {
    this.containerExited(containerId);
  }

  shutdown(): void {
    for (const s of this.sessions.values()) {
      clearTimeout(s.timer);
      s.io?.closeAll();
    }
  }

  // The session and its container, as start and resize need them.
  private lookup(id: string): { s: Session; c: ContainerRecord } {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    let c: ContainerRecord;
    try {
      c = this.d.containers.get(s.containerId);
    } catch {
      throw notFound(`No such container: ${id}`);
    }
    this.checkRunning(c, c.id);
    return { s, c };
  }

  // dockerd's words, with the name or id the client used.
  private checkRunning(c: ContainerRecord, ref: string): void {
    if (c.state.status === 'paused') throw conflict(`Container ${ref} is paused, unpause the container before exec`);
    if (c.state.status === 'restarting') throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
  }

  private async resolveUser(c: ContainerRecord, user: string) {
    const root = this.d.rootfs(c.id);
    // Read at once: two small files, on the path of every exec.
    const group = readFileInRootSync(root, '/etc/group');
    const u = resolveUser(user, readFileInRootSync(root, '/etc/passwd'), group);
    // The container's --group-add, as dockerd gives an exec.
    u.additionalGids = [...new Set([...u.additionalGids, ...resolveGroupAdd(c.spec.security.groupAdd ?? [], group)])];
    return u;
  }

  // Finished: no longer the container's, and forgotten after a while.
  private finish(s: Session): void {
    if (!this.sessions.has(s.id)) return;
    s.running = false;
    s.canRemove = true;
    clearTimeout(s.timer);
    s.timer = setTimeout(() => this.sessions.delete(s.id), this.opts.keepMs ?? KEEP_MS);
    s.timer.unref();
  }

  private ref(c: ContainerRecord): RuntimeRef {
    return { id: c.id, runtime: c.spec.runtime };
  }

  private publish(c: ContainerRecord, action: string, extra: Record<string, string>): void {
    this.d.events.publish('container', action, c.id, { ...c.spec.labels, image: c.spec.image.ref, name: c.name.slice(1), ...extra });
  }
}

// The stream as an attach sees it: its output ends once the exit code is
// recorded, not when the shim closes the socket just before.
function endsAfter(stream: ProcessStream, exited: Promise<void>): ProcessStream {
  return {
    pump: (onData, onEnd) => stream.pump(onData, () => void exited.then(onEnd)),
    write: (data) => stream.write(data),
    closeStdin: () => stream.closeStdin(),
    close: () => stream.close(),
    ...(stream.pause && stream.resume ? { pause: () => stream.pause!(), resume: () => stream.resume!() } : {}),
  };
}
