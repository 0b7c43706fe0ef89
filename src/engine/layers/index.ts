// Layer archives: apply a layer tar to a directory, and pack a directory (an
// overlay upper dir, or any tree) back into a tar.
//
// Each runs in a helper that chroots into the directory before touching any
// entry: the kernel, not path string checks, keeps hostile names, symlinks
// and hardlinks inside it. Applying is native (build/Release/berth-untar,
// libarchive); packing is dist/berth-pack.js.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finished, PassThrough, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { BerthError, invalidArgument } from '../../errors';
import type { Host } from '../../host/index';
import { LinuxHost } from '../../host/linux';
import { nativeBuild, projectRoot } from '../../util/paths';

// What applying a layer tar wrote (berth-untar's report).
export interface ApplyStats {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  devices: number; // char/block devices and FIFOs
  whiteouts: number;
  opaques: number;
  bytes: number; // regular file content written
  skippedXattrs: number; // xattrs refused by policy or by the filesystem
}

export interface ArchiveOptions {
  host?: Host;
}

export interface ApplyOptions extends ArchiveOptions {
  copyTo?: number;
}

const MAX_CAPTURE = 1 << 20; // helper stdout/stderr kept for reports

function helperPath(file: string, build: string): string {
  if (!fs.existsSync(file)) throw new BerthError('Internal', `archive helper ${file} is missing: run ${build}`);
  return file;
}

const untarPath = () => helperPath(nativeBuild('berth-untar'), 'npm install');
const packPath = () => helperPath(path.join(projectRoot(), 'dist', 'berth-pack.js'), 'npm run build');

function capture(stream: Readable | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    if (text.length < MAX_CAPTURE) text += d;
  });
  return () => text;
}

// The helper's last line of JSON, if any.
function lastJSON(text: string): any {
  const lines = text.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    return undefined;
  }
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// Applies an uncompressed layer tar to dir (which must exist). Resolves with
// what was written; rejects with InvalidArgument for a bad archive, and with
// the input's own error if the input fails. The input is streamed, never
// buffered; on failure it is unpiped but left to the caller to dispose of,
// and dir holds a partial layer the caller should discard.
// With copyTo (a file descriptor open for writing), the helper also writes
// every byte it reads there: the caller keeps the tar without writing it.
export function applyLayer(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyStats> {
  const host = opts.host ?? new LinuxHost();
  return new Promise<ApplyStats>((resolve, reject) => {
    const copy = opts.copyTo === undefined ? [] : ['--copy-fd', '3'];
    const stdio: SpawnOptions['stdio'] = opts.copyTo === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', opts.copyTo];
    const child = host.spawn(untarPath(), [path.resolve(dir), ...copy], { stdio });
    const stdout = capture(child.stdout);
    const stderr = capture(child.stderr);
    let inputError: Error | null = null;
    let settled = false;
    const settle = (err: Error | null, stats?: ApplyStats) => {
      if (settled) return;
      settled = true;
      input.unpipe(child.stdin!);
      stopWatching();
      if (err) reject(err);
      else resolve(stats!);
    };

    // EPIPE when the helper stops early: its own report says why.
    child.stdin!.on('error', () => {});
    const stopWatching = finished(input, { writable: false }, (err) => {
      if (!err) return;
      // The input failed (or was destroyed): the archive is incomplete.
      inputError = err;
      kill(child);
    });
    input.pipe(child.stdin!);

    child.on('error', (err) => settle(new BerthError('Internal', `start archive helper: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (inputError) return settle(inputError);
      const res = lastJSON(stdout());
      if (res?.ok === true && code === 0) return settle(null, res.stats as ApplyStats);
      if (res?.ok === false && res.kind === 'invalid') return settle(invalidArgument(`invalid layer archive: ${res.error}`));
      if (res?.ok === false) return settle(new BerthError('Internal', `apply layer: ${res.error}`));
      settle(new BerthError('Internal', `archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`));
    });
  });
}

function spawnPack(mode: 'layer' | 'dir', dir: string, opts: ArchiveOptions): Readable {
  const host = opts.host ?? new LinuxHost();
  const out = new PassThrough();
  const child = host.spawn(process.execPath, [packPath(), mode, path.resolve(dir)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = capture(child.stderr);
  // Ended only once the helper exited cleanly: a failed pack must not look
  // like a complete (if short) tar to whoever hashes or stores it.
  child.stdout!.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new BerthError('Internal', `start archive helper: ${err.message}`, { cause: err })));
  child.on('close', (code, signal) => {
    if (code === 0) return out.end();
    const res = lastJSON(stderr());
    const why = res?.error ?? `archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`;
    out.destroy(new BerthError('Internal', `pack ${dir}: ${why}`));
  });
  // A consumer that stops early stops the helper too.
  out.on('close', () => kill(child));
  return out;
}

// Tar of an overlay upper dir as a layer: overlay whiteouts become ".wh.NAME"
// and opaque directories get ".wh..wh..opq"; names sorted, hardlinks as
// links, user.* and security.capability xattrs as PAX records.
export function packLayer(upperDir: string, opts: ArchiveOptions = {}): Readable {
  return spawnPack('layer', upperDir, opts);
}

// Tar of a plain tree (export): the same, without whiteout conversion.
export function packDir(dir: string, opts: ArchiveOptions = {}): Readable {
  return spawnPack('dir', dir, opts);
}

// Streams src through the transforms into applyLayer(dir). A failure on
// either side stops the other, so nothing is left hanging.
export async function applyThrough(src: Readable, transforms: Transform[], dir: string, opts: ApplyOptions = {}): Promise<void> {
  const pass = new PassThrough();
  const applied = applyLayer(pass, dir, opts).catch((err) => {
    // Destroyed without an error: once the pipeline has finished, nobody
    // listens to `pass`, and an 'error' there would take the daemon down.
    pass.destroy();
    src.destroy();
    throw err;
  });
  const piped = (pipeline as (...s: unknown[]) => Promise<void>)(src, ...transforms, pass);
  await Promise.all([piped, applied]);
}

// What an uploaded archive (import, load) is compressed with, from its
// first bytes; formats berth cannot read are refused clearly.
export function compressionOf(head: Buffer): 'gzip' | 'none' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) throw invalidArgument('zstd-compressed archives are not supported; use an uncompressed or gzip tar');
  if (head.subarray(0, 3).toString('latin1') === 'BZh' || head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw invalidArgument('bzip2 and xz archives are not supported; use an uncompressed or gzip tar');
  }
  return 'none';
}
