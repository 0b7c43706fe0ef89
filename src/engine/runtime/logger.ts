// The container's log writer: berth-logger (src/host/native/logger-main.c),
// one per running container, reading conmon's records from a FIFO in the
// bundle and writing the driver's files with their rotation. Like conmon it
// is a session of its own, so it outlives berthd; its pid is kept in the
// bundle so a restarted daemon can wait for it too.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError } from '../../errors';
import type { Host } from '../../host';
import { nativeBuild } from '../../util/paths';
import type { LogSettings } from '../logs/settings';

const S_IFIFO = 0o010000;

export interface LoggerOptions extends LogSettings {
  path: string;
}

const loggerFile = (bundle: string) => path.join(bundle, 'logger.pid');

// Starts the writer and returns the FIFO conmon is to write into. The
// writer has opened its log file when this returns; it then waits for
// conmon to open the FIFO.
export async function startLogger(host: Host, bundle: string, o: LoggerOptions): Promise<{ fifo: string; pid: number }> {
  const fifo = path.join(bundle, 'log.fifo');
  await fsp.rm(fifo, { force: true });
  host.mknod(fifo, S_IFIFO | 0o600, 0, 0);
  await fsp.mkdir(path.dirname(o.path), { recursive: true });
  const attrs = o.attrs && Object.keys(o.attrs).length
    ? o.driver === 'local'
      ? Object.entries(o.attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('\x01')
      : JSON.stringify(o.attrs)
    : '';
  const args = [fifo, o.driver === 'local' ? 'local' : 'json', o.path, String(o.maxSize), String(o.maxFile), o.compress ? '1' : '0'];
  if (attrs) args.push(attrs);
  let child;
  try {
    child = host.launch(nativeBuild('berth-logger'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  } catch (e) {
    throw new BerthError('Internal', `failed to start the log writer: ${(e as Error).message}`);
  }
  const [, stdout, stderr] = child.stdio as [null, NonNullable<(typeof child.stdio)[0]>, NonNullable<(typeof child.stdio)[0]>];
  const err: Buffer[] = [];
  stderr.on('data', (d: Buffer) => err.push(d));
  stderr.on('error', () => {});
  stdout.on('error', () => {});
  const ok = await new Promise<boolean>((resolve) => {
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ok\n')) resolve(true);
    });
    void child.exit.then(() => resolve(false));
  });
  if (!ok) {
    // What it said before it went: its stderr closes with the process.
    if (!stderr.destroyed) await new Promise((r) => stderr.once('close', r));
    throw new BerthError('Internal', `failed to start the log writer: ${Buffer.concat(err).toString().trim() || 'it exited'}`);
  }
  stdout.destroy();
  stderr.destroy();
  await fsp.writeFile(loggerFile(bundle), String(child.pid));
  return { fifo, pid: child.pid };
}

// Waits until the bundle's writer has written everything and exited (it
// does once conmon, gone, has closed the FIFO), at most `ms`.
export async function loggerDone(host: Host, bundle: string, ms = 5000): Promise<void> {
  const pid = Number((await fsp.readFile(loggerFile(bundle), 'utf8').catch(() => '')).trim());
  if (!pid) return;
  // A pid file left from long ago may name another process by now.
  const comm = await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  if (comm.trim() !== 'berth-logger') return;
  const end = Date.now() + ms;
  // isAlive counts a zombie as gone.
  while (host.isAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

// A writer whose conmon never opened the FIFO (its create failed early)
// would wait forever.
export function stopLogger(host: Host, pid: number): void {
  host.kill(pid, 'SIGKILL');
}
