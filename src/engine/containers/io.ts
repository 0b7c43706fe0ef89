// A container's attached clients. An attach may arrive before the process
// exists (docker run attaches, then starts): it waits, buffering stdin, and
// is connected to the shim's stream once the runtime has created the process
// and before it runs, so no output is missed. Exec and TTY reuse this.
import type { ProcessStream } from '../runtime/runtime';

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

interface Attachment {
  opts: AttachOptions;
  sink: AttachSink;
  stdin: Buffer[];
  stdinClosed: boolean;
  conn?: ProcessStream;
  detached: boolean;
}

export const noAttach: AttachHandle = { write() {}, closeStdin() {}, detach() {} };

export class Attachments {
  private live = new Set<Attachment>();

  constructor(private log: (msg: string) => void) {}

  // `open` is given when the process exists already.
  add(opts: AttachOptions, sink: AttachSink, open?: () => ProcessStream): AttachHandle {
    const a: Attachment = { opts, sink, stdin: [], stdinClosed: false, detached: false };
    this.live.add(a);
    if (open) this.connect(a, open);
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
        this.live.delete(a);
        a.conn?.close();
      },
    };
  }

  // Connects every waiting attachment, each with a stream of its own.
  connectAll(open: () => ProcessStream): void {
    for (const a of this.live) this.connect(a, open);
  }

  // Ends every attachment (the container is gone or failed to start).
  endAll(): void {
    for (const a of [...this.live]) this.end(a);
  }

  // Drops the streams without telling the clients (the daemon shuts down).
  closeAll(): void {
    for (const a of this.live) a.conn?.close();
  }

  private connect(a: Attachment, open: () => ProcessStream): void {
    if (a.conn || a.detached) return;
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
        if (stream === 1 ? a.opts.stdout : a.opts.stderr) a.sink.out(stream, data);
      },
      () => this.end(a),
    );
    for (const d of a.stdin) void conn.write(d).catch(() => {});
    a.stdin = [];
    if (a.stdinClosed) conn.closeStdin();
  }

  private end(a: Attachment): void {
    if (!this.live.delete(a)) return;
    a.conn?.close();
    a.sink.end();
  }
}
