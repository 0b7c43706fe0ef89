// A container's attached clients. An attach may arrive before the process
// exists (docker run attaches, then starts): it waits, buffering stdin, and
// is connected to the shim's stream once the runtime has created the process
// and before it runs, so no output is missed. An attached exec session is
// a client of its own Attachments (exec.ts), over the stream its shim made.
//
// What ends an attach is Docker's (moby's container/stream): the process's
// output ending; the client going away; and the client's stdin ending —
// by EOF, or by the detach keys on a TTY — which, for a non-TTY StdinOnce
// container, closes the process's stdin instead (its output keeps flowing);
// an exec is attached as StdinOnce, as dockerd's exec attaches CloseStdin.
import type { ProcessStream } from '../runtime/runtime';
import { EscapeProxy } from './escape';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
  // The sequence that detaches a TTY client (ctrl-p,ctrl-q when unset).
  detachKeys?: Buffer;
}

export interface AttachSink {
  // false when the client cannot take more for now: output is held back
  // (the shim, and so the process, waits) until onDrain calls back.
  out(stream: 1 | 2, data: Buffer): boolean | void;
  onDrain?(cb: () => void): void;
  end(): void;
}

export interface AttachHandle {
  write(data: Buffer): void;
  closeStdin(): void;
  detach(): void;
}

// How the container's stdio behaves, from its spec.
export interface StdioMode {
  tty: boolean;
  // The process's stdin closes when an attached client's stdin ends.
  stdinOnce: boolean;
}

interface Attachment {
  opts: AttachOptions;
  sink: AttachSink;
  stdin: Buffer[];
  stdinClosed: boolean;
  conn?: ProcessStream;
  detached: boolean;
  escape?: EscapeProxy;
  // The last stdin write in flight: an attach ends only after it is sent.
  written: Promise<void>;
}

export const noAttach: AttachHandle = { write() {}, closeStdin() {}, detach() {} };

export class Attachments {
  private live = new Set<Attachment>();

  // `detached` hears of each client that detached with its keys.
  constructor(private log: (msg: string) => void, private mode: StdioMode = { tty: false, stdinOnce: false }, private detached?: () => void) {}

  // `open` is given when the process exists already.
  add(opts: AttachOptions, sink: AttachSink, open?: () => ProcessStream): AttachHandle {
    const a: Attachment = {
      opts, sink, stdin: [], stdinClosed: false, detached: false, written: Promise.resolve(),
      ...(this.mode.tty && opts.stdin ? { escape: new EscapeProxy(opts.detachKeys) } : {}),
    };
    this.live.add(a);
    if (open) this.connect(a, open);
    return {
      write: (data) => {
        if (!opts.stdin || a.stdinClosed) return;
        let chunk = data;
        let detach = false;
        if (a.escape) ({ pass: chunk, detached: detach } = a.escape.feed(data));
        if (chunk.length) this.send(a, chunk);
        if (detach) {
          this.stdinEnded(a);
          this.detached?.();
        }
      },
      closeStdin: () => {
        if (opts.stdin && !a.stdinClosed) this.stdinEnded(a);
      },
      detach: () => {
        a.detached = true;
        this.live.delete(a);
        a.conn?.close();
      },
    };
  }

  private send(a: Attachment, data: Buffer): void {
    if (a.conn) a.written = a.conn.write(data).catch(() => {});
    else a.stdin.push(data);
  }

  // The client's stdin is done: the process's stdin closes (non-TTY
  // StdinOnce), or else the attach ends, once the input is sent.
  // Before the process exists, this waits for connect().
  private stdinEnded(a: Attachment): void {
    a.stdinClosed = true;
    if (!a.conn) return;
    if (this.mode.stdinOnce && !this.mode.tty) a.conn.closeStdin();
    else void a.written.then(() => this.end(a));
  }

  // Connects every waiting attachment, each with a stream of its own.
  connectAll(open: () => ProcessStream): void {
    for (const a of this.live) this.connect(a, open);
  }

  // Ends every attachment (the container is gone or failed to start).
  // `drainMs`: a connected one whose process has exited may still have
  // output on its way from the shim (a loaded machine, a removal right
  // after the exit): it ends when the shim's stream does, or after that long.
  endAll(o: { drainMs?: number } = {}): void {
    for (const a of [...this.live]) {
      if (a.conn && o.drainMs) setTimeout(() => this.end(a), o.drainMs).unref();
      else this.end(a);
    }
  }

  // Drops the streams without telling the clients (the daemon shuts down).
  closeAll(): void {
    for (const a of this.live) a.conn?.close();
  }

  private connect(a: Attachment, open: () => ProcessStream): void {
    if (a.conn || a.detached || !this.live.has(a)) return;
    try {
      a.conn = open();
    } catch (err) {
      this.log(`attach: ${(err as Error).message}`);
      this.end(a);
      return;
    }
    const conn = a.conn;
    conn.pump(
      (stream, data) => {
        if (!(stream === 1 ? a.opts.stdout : a.opts.stderr)) return;
        if (a.sink.out(stream, data) === false && conn.pause && a.sink.onDrain) {
          conn.pause();
          a.sink.onDrain(() => conn.resume?.());
        }
      },
      () => this.end(a),
    );
    for (const d of a.stdin) a.written = conn.write(d).catch(() => {});
    a.stdin = [];
    if (a.stdinClosed) this.stdinEnded(a);
  }

  private end(a: Attachment): void {
    if (!this.live.delete(a)) return;
    a.conn?.close();
    a.sink.end();
  }
}
