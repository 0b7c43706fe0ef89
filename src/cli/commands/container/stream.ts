// Pumps a hijacked attach or exec socket, as docker's hijackedIOStreamer:
// container output to our stdout/stderr (demultiplexed unless TTY), and
// optionally our stdin into the container. On a TTY our stdin goes raw and
// is watched for the detach keys.
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from '../../../client/client';
import { copyRaw, demux } from '../../../client/stdcopy';
import type { Context } from '../../command';
import { DetachedError, EscapeScanner, escapeKeys, setRawTerminal } from '../../term';

export interface AttachSession {
  // Resolves when the container's output ends (or, with no output
  // attached, when our input does); rejects with DetachedError when the
  // user detaches.
  done: Promise<void>;
  close(): void;
}

export interface StreamOptions {
  tty: boolean;
  stdin: boolean;
  // Which output streams are attached (both unless given).
  stdout?: boolean;
  stderr?: boolean;
  detachKeys?: string;
}

export function pumpAttach(ctx: Context, socket: Socket, opts: StreamOptions): AttachSession {
  const wantOut = opts.stdout ?? true;
  const wantErr = opts.stderr ?? true;
  const raw = opts.stdin && opts.tty;
  const restore = raw ? setRawTerminal(ctx.in) : () => {};
  const scanner = raw ? new EscapeScanner(escapeKeys(ctx, opts.detachKeys)) : undefined;
  // A late stdin write after the daemon closed must not crash us; read
  // errors still reach the output loop below.
  socket.on('error', () => {});

  let detach: (err: Error) => void = () => {};
  const detached = new Promise<never>((_, reject) => {
    detach = reject;
  });
  detached.catch(() => {});

  let inputDone: Promise<void> = Promise.resolve();
  let stopInput = () => {};
  if (opts.stdin) {
    inputDone = new Promise<void>((resolve) => {
      const input = ctx.in;
      const onData = (d: Buffer | string) => {
        const chunk = typeof d === 'string' ? Buffer.from(d) : d;
        if (!scanner) {
          if (!socket.write(chunk)) {
            input.pause();
            socket.once('drain', () => input.resume());
          }
          return;
        }
        const { data, detached: gone } = scanner.push(chunk);
        if (data.length) socket.write(data);
        if (gone) {
          stopInput();
          restore();
          detach(new DetachedError());
        }
      };
      const onEnd = () => {
        stopInput();
        restore();
        // Half-close: the container sees end of input, we keep reading.
        if (!socket.destroyed) socket.end();
        resolve();
      };
      stopInput = () => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.pause();
        resolve();
      };
      input.on('data', onData);
      input.once('end', onEnd);
      input.resume();
    });
  }

  let output: Promise<void>;
  if (!wantOut && !wantErr) {
    // Nothing to show: docker waits for the input to end (or a detach).
    socket.resume();
    output = inputDone;
  } else if (opts.tty) {
    output = copyRaw(socket, ctx.out).finally(restore);
  } else {
    const discard = new Writable({ write: (_c, _e, cb) => cb() });
    output = demux(socket, wantOut ? ctx.out : discard, wantErr ? ctx.err : discard);
  }
  const done = Promise.race([output, detached]).finally(() => {
    stopInput();
    restore();
  });
  // Callers await `done` later; an early failure must not count as unhandled.
  done.catch(() => {});
  return {
    done,
    close() {
      stopInput();
      restore();
      socket.destroy();
    },
  };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

// docker's --sig-proxy: signals we receive are sent to the container.
export function proxySignals(client: Client, id: string): () => void {
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      client.call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: sig } }).catch(() => {});
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
