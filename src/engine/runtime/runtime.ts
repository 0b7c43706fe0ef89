// The seam between the container lifecycle and an OCI runtime. The conmon
// adapter (conmon.ts, runc or crun underneath) implements it; unit tests use
// a fake.
import type { OciResources } from './resources';
import type { LogSettings } from '../logs/settings';
import type { OciProcess, OciSpec } from './spec';

// Which runtime holds a container (runc and crun keep separate state).
export interface RuntimeRef {
  id: string;
  runtime: string;
}

export interface CreateOptions {
  // The log's file (none for the none driver), and its driver.
  logPath: string;
  log?: LogSettings;
  name: string;
  stdin: boolean;
  tty: boolean;
  // The process's stdin closes when the attached client's does (non-TTY).
  stdinOnce?: boolean;
}

// What the runtime knows of a container. `exit` is set once the process has
// exited and its code was recorded; 'gone' means the runtime has no record
// and no exit code was left (the shim died, or the host rebooted).
export interface RuntimeStatus {
  state: 'created' | 'running' | 'paused' | 'stopped' | 'gone';
  exit?: { code: number; at: Date };
}

// A container's stdio as the shim offers it: output packets tagged with
// their stream, and stdin.
export interface ProcessStream {
  pump(onData: (stream: 1 | 2, data: Buffer) => void, onEnd: () => void): void;
  write(data: Buffer): Promise<void>;
  closeStdin(): void;
  close(): void;
  // Backpressure: stop taking output while the client cannot keep up.
  pause?(): void;
  resume?(): void;
}

export interface TerminalSize {
  height: number;
  width: number;
}

export interface ExecOptions {
  // Connect the process's stdio to the caller before it runs (attached
  // start); a detached one's output goes nowhere.
  attach: boolean;
  stdin: boolean;
  tty: boolean;
}

// A process started in a running container.
export interface ExecProcess {
  pid: number;
  // Its stdio, connected before it ran (attached sessions only).
  stream?: ProcessStream;
  // Its exit code, once the shim has recorded it.
  exit: Promise<number>;
}

export interface Runtime {
  // Sets the container up, stopped before its first instruction; returns the
  // process id and the shim's.
  create(ref: RuntimeRef, spec: OciSpec, o: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  start(ref: RuntimeRef): Promise<void>;
  // false when the process no longer exists.
  kill(pid: number, signal: NodeJS.Signals | number): boolean;
  // Forgets the container: the runtime's state, the bundle, the exit code.
  delete(ref: RuntimeRef): Promise<void>;
  // The same for a container no record names any more (an orphaned
  // directory), whichever runtime ran it; nothing when none kept anything.
  forget(id: string): Promise<void>;
  status(ref: RuntimeRef): Promise<RuntimeStatus>;
  // The exit code the shim recorded, if any, without asking the runtime
  // (no process is started): what the path of every exit needs.
  exited(ref: RuntimeRef): Promise<{ code: number; at: Date } | undefined>;
  attach(ref: RuntimeRef): ProcessStream;
  // Sets the size of the container's terminal (a TTY container's only).
  resize(ref: RuntimeRef, size: TerminalSize): Promise<void>;
  // Changes a running container's cgroup limits (`runc update`).
  update(ref: RuntimeRef, resources: OciResources): Promise<void>;
  // Freezes every process of the container, or thaws them.
  pause(ref: RuntimeRef, resume: boolean): Promise<void>;
  // Runs a process in a running container, joining its namespaces, cgroup
  // and seccomp filter; `session` names it (the exec id). Rejects when the
  // runtime could not start it, with the runtime's message.
  exec(ref: RuntimeRef, session: string, process: OciProcess, o: ExecOptions): Promise<ExecProcess>;
  // Sets the terminal size of an exec session's TTY.
  resizeExec(ref: RuntimeRef, session: string, height: number, width: number): Promise<void>;
  // Drops what the runtime kept of a finished exec session (its files and
  // socket), so a container exec'd into all day does not pile them up.
  forgetExec(ref: RuntimeRef, session: string): Promise<void>;
  // Called with a container id whenever its exit may have been recorded.
  onExit(listener: (id: string) => void): void;
  // Called with a container id at each OOM event of its memory cgroup (a
  // process of it was OOM-killed, or it is under OOM with the killer off).
  onOom(listener: (id: string) => void): void;
  // Throws InvalidArgument for a runtime name the daemon does not know.
  check(runtime: string): void;
}
