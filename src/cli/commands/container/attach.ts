// Pumps a hijacked attach socket: container output to our stdout/stderr
// (demultiplexed unless TTY), and optionally our stdin into the container.
import type { Socket } from 'node:net';
import type { Client } from '../../../client/client';
import { copyRaw, demux } from '../../../client/stdcopy';
import type { Context } from '../../command';

export interface AttachSession {
  // Resolves when the container's output ends.
  done: Promise<void>;
  close(): void;
}

export function pumpAttach(ctx: Context, socket: Socket, opts: { tty: boolean; stdin: boolean }): AttachSession {
  let stdinClosed = false;
  const stopStdin = () => {
    if (stdinClosed) return;
    stdinClosed = true;
    ctx.in.unpipe(socket);
    ctx.in.pause();
  };
  if (opts.stdin) {
    // Half-close on EOF so the container sees end of input but we keep reading.
    ctx.in.pipe(socket, { end: true });
    ctx.in.once('end', () => { stdinClosed = true; });
    // A late stdin write after the daemon closed must not crash us; read
    // errors still reach the output loop below.
    socket.on('error', () => {});
  }
  const out = opts.tty ? copyRaw(socket, ctx.out) : demux(socket, ctx.out, ctx.err);
  const done = out.finally(() => {
    if (opts.stdin) stopStdin();
  });
  // Callers await `done` later; an early failure must not count as unhandled.
  done.catch(() => {});
  return {
    done,
    close() {
      if (opts.stdin) stopStdin();
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
