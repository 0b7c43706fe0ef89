// The terminal side of an interactive container (docker's hijack.go and
// tty.go): raw mode on our stdin, the detach key sequence, and the
// terminal's size sent to the daemon at start and on every SIGWINCH.
import { spawnSync } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Client } from '../client/client';
import { StatusError, type Context } from './command';
import { loadConfig } from './config';

// ctrl-p, ctrl-q.
export const DEFAULT_ESCAPE_KEYS = Buffer.from([16, 17]);

// The keys to watch for: the given ones, or (with a warning, as docker)
// the default when they do not parse.
export function escapeKeys(ctx: Context, keys: string | undefined): Buffer {
  if (!keys) return DEFAULT_ESCAPE_KEYS;
  try {
    return detachKeyBytes(keys);
  } catch (e) {
    ctx.err.write(`WARNING: invalid detach escape keys, using default: ${(e as Error).message}\n`);
    return DEFAULT_ESCAPE_KEYS;
  }
}

// moby/term's ASCII table: "ctrl-@" is 0, "ctrl-a" 1, ... "ctrl-_" 31.
const CTRL = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

// moby/term's ToBytes: "ctrl-p,q" -> [16, 113].
export function detachKeyBytes(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0) & 0xff);
      continue;
    }
    const i = CTRL.indexOf(key);
    if (i >= 0) codes.push(i);
    else if (key === 'DEL') codes.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(codes);
}

// --detach-keys, else "detachKeys" in the client config file. The daemon
// checks them (docker 28 does not, on the client side).
export function detachKeysOption(ctx: Context, flag: string | undefined): string {
  if (flag) return flag;
  const v = loadConfig(ctx).data.detachKeys;
  return typeof v === 'string' ? v : '';
}

// Watches input for the detach sequence (moby/term's EscapeProxy): bytes
// before it pass on; a partial match is held back until the next chunk
// shows whether it completes. Keys typed one at a time and a pasted chunk
// are treated alike.
export class EscapeScanner {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  // Returns what to forward, and whether the sequence completed.
  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    const keys = this.keys;
    if (!keys.length) return { data: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[this.held]) {
        this.held++;
        if (this.held === keys.length) return { data: Buffer.from(out), detached: true };
        continue;
      }
      // A broken match: the held keys were input after all, except for a
      // tail that may still begin the sequence ("x x x q" for "x,x,q").
      const pending = [...keys.subarray(0, this.held), b];
      let start = 1;
      while (start < pending.length && !pending.slice(start).every((k, i) => k === keys[i])) start++;
      out.push(...pending.slice(0, start));
      this.held = pending.length - start;
    }
    return { data: Buffer.from(out), detached: false };
  }
}

// The error docker ends `attach` and `exec` with when the user detaches.
export const ESCAPE_ERROR = 'read escape sequence';

export class DetachedError extends Error {
  constructor() {
    super(ESCAPE_ERROR);
    this.name = 'DetachedError';
  }
}

// attach and exec -it end as docker's do when the keys detach them: its
// words on stderr, status 1.
export async function untilDetached(done: Promise<void>): Promise<void> {
  try {
    await done;
  } catch (err) {
    if (err instanceof DetachedError) throw new StatusError(1, ESCAPE_ERROR);
    throw err;
  }
}

interface TTYIn extends Readable {
  isTTY?: boolean;
  setRawMode?(on: boolean): void;
}

interface TTYOut extends Writable {
  isTTY?: boolean;
  getWindowSize?(): [number, number];
}

export function isTerminal(s: Readable | Writable): boolean {
  return (s as { isTTY?: boolean }).isTTY === true;
}

// Puts a terminal stdin into raw mode as docker does (moby/term's MakeRaw):
// Node's raw mode keeps output post-processing, which would turn the
// container's "\r\n" into "\r\r\n", so that goes too. Returns the restore.
export function setRawTerminal(input: Readable): () => void {
  const tty = input as TTYIn;
  if (!tty.isTTY || !tty.setRawMode || process.env.NORAW) return () => {};
  tty.setRawMode(true);
  // Node's setRawMode(false) restores the saved termios, opost included.
  spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    tty.setRawMode!(false);
  };
}

// Our terminal's [height, width], or undefined off a terminal.
export function ttySize(out: Writable): [number, number] | undefined {
  const tty = out as TTYOut;
  if (!tty.isTTY || !tty.getWindowSize) return undefined;
  const [w, h] = tty.getWindowSize();
  return [h, w];
}

export type ResizeTarget = { kind: 'containers' | 'exec'; id: string };

export async function resizeTo(client: Client, t: ResizeTarget, height: number, width: number): Promise<void> {
  // docker sends nothing for an unknown (0x0) size.
  if (!height && !width) return;
  await client.call('POST', `/${t.kind}/${encodeURIComponent(t.id)}/resize`, { query: { h: height, w: width } });
}

// docker's MonitorTtySize: the size now (retried a few times, as a
// just-started process may not have its TTY yet), then on every SIGWINCH.
// Returns the stop function.
export function monitorTtySize(ctx: Context, client: Client, t: ResizeTarget): () => void {
  const send = () => {
    const size = ttySize(ctx.out);
    return size ? resizeTo(client, t, size[0], size[1]) : Promise.resolve();
  };
  let stopped = false;
  (async () => {
    for (let retry = 0; retry <= 10 && !stopped; retry++) {
      try {
        await send();
        return;
      } catch {
        if (retry === 10) {
          ctx.err.write('failed to resize tty, using default size\n');
          return;
        }
        await new Promise((r) => setTimeout(r, (retry + 1) * 10).unref());
      }
    }
  })();
  const onWinch = () => {
    send().catch(() => {});
  };
  process.on('SIGWINCH', onWinch);
  return () => {
    stopped = true;
    process.off('SIGWINCH', onWinch);
  };
}
