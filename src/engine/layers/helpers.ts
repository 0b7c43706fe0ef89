// LayerTars by helper processes: berth-untar (native, libarchive; built by
// node-gyp) applies, dist/berth-pack.js packs. Each chroots into the
// directory before it touches an entry. Processes are spawned through the
// Host it is given.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { finished, PassThrough, type Readable } from 'node:stream';
import { BerthError, invalidArgument, notFound } from '../../errors';
import type { Host } from '../../host/index';
import { nativeBuild, projectRoot } from '../../util/paths';
import type { ApplyOptions, ApplyStats, Bind, ExtractOptions, LayerTars, RootTools } from './index';
import type { PathStat, UpperEntry } from './inroot';
import type { IdMap } from './pack';

const MAX_CAPTURE = 1 << 20; // helper stdout/stderr kept for reports

function helperPath(file: string, build: string): string {
  if (!fs.existsSync(file)) throw new BerthError('Internal', `archive helper ${file} is missing: run ${build}`);
  return file;
}

const untarPath = () => helperPath(nativeBuild('berth-untar'), 'npm install');
const packPath = () => helperPath(path.join(projectRoot(), 'dist', 'berth-pack.js'), 'npm run build');
const cpPath = () => helperPath(nativeBuild('berth-cp'), 'npm install');

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

// Runs berth-untar with `args`, feeding it `input`, and settles with its
// report (the last JSON line on stdout): `ok` gives the report, anything
// else the error `fail` makes of it. A failed input kills the helper.
function runUntar<T>(host: Host, args: string[], stdio: SpawnOptions['stdio'], input: Readable, ok: (res: any) => T, fail: (res: any) => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = host.spawn(untarPath(), args, { stdio });
    const stdout = capture(child.stdout);
    const stderr = capture(child.stderr);
    let inputError: Error | null = null;
    let settled = false;
    const settle = (err: Error | null, value?: T) => {
      if (settled) return;
      settled = true;
      input.unpipe(child.stdin!);
      stopWatching();
      if (err) reject(err);
      else resolve(value!);
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
      if (res?.ok === true && code === 0) return settle(null, ok(res));
      if (res?.ok === false) return settle(fail(res));
      settle(new BerthError('Internal', `archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`));
    });
  });
}

// berth-untar DIR [--copy-fd 3] reads the tar on stdin and reports on stdout.
function applyLayer(host: Host, input: Readable, dir: string, opts: ApplyOptions): Promise<ApplyStats> {
  const copy = opts.copyTo === undefined ? [] : ['--copy-fd', '3'];
  const stdio: SpawnOptions['stdio'] = opts.copyTo === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', opts.copyTo];
  return runUntar(host, [path.resolve(dir), ...copy], stdio, input, (res) => res.stats as ApplyStats, (res) =>
    res.kind === 'invalid' ? invalidArgument(`invalid layer archive: ${res.error}`) : new BerthError('Internal', `apply layer: ${res.error}`));
}

// berth-pack layer|dir DIR writes the tar on stdout.
function spawnPack(host: Host, mode: 'layer' | 'dir', dir: string, idmap?: IdMap): Readable {
  const out = new PassThrough();
  const child = host.spawn(process.execPath, [packPath(), mode, path.resolve(dir), ...idmapArgs(idmap)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export class LayerHelpers implements LayerTars {
  constructor(private host: Host) {}

  apply(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyStats> {
    return applyLayer(this.host, input, dir, opts);
  }

  packLayer(upperDir: string): Readable {
    return spawnPack(this.host, 'layer', upperDir);
  }

  packDir(dir: string, o: { idmap?: IdMap } = {}): Readable {
    return spawnPack(this.host, 'dir', dir, o.idmap);
  }
}

// ---------------------------------------------------------------------------
// `docker cp` and `docker diff` inside a container's root: berth-cp (stat,
// get), berth-untar --cp, and berth-pack (cat, changes).

function helperError(res: any, what: string): Error {
  if (res?.kind === 'notfound') return notFound(res.error);
  if (res?.kind === 'invalid') return invalidArgument(res.error);
  return new BerthError('Internal', `${what}: ${res?.error ?? 'helper failed'}`);
}

// Runs a helper to completion; resolves with its JSON line.
function helperJSON(host: Host, cmd: string, args: string[], what: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = host.spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = capture(child.stdout);
    const stderr = capture(child.stderr);
    child.on('error', (err) => reject(new BerthError('Internal', `start archive helper: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      const res = lastJSON(stdout());
      if (res?.ok === true && code === 0) return resolve(res);
      if (res) return reject(helperError(res, what));
      reject(new BerthError('Internal', `${what}: archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`));
    });
  });
}

const bindArgs = (binds: Bind[]): string[] => binds.flatMap((b) => ['--bind', `${b.source}:${b.destination}`]);
const idmapArgs = (m?: IdMap): string[] => (m ? ['--idmap', `${m.uid}:${m.gid}:${m.size}`] : []);

export class RootHelpers implements RootTools {
  constructor(private host: Host) {}

  async stat(root: string, absPath: string, binds: Bind[] = []): Promise<PathStat> {
    return (await helperJSON(this.host, cpPath(), ['stat', path.resolve(root), absPath, ...bindArgs(binds)], `stat ${absPath}`)).stat;
  }

  // The stat arrives on fd 3 before any of the tar, so a missing path is an
  // error, not an empty 200.
  pack(root: string, absPath: string, binds: Bind[] = [], idmap?: IdMap): Promise<{ stat: PathStat; tar: Readable }> {
    return new Promise((resolve, reject) => {
      const child = this.host.spawn(cpPath(), ['get', path.resolve(root), absPath, ...bindArgs(binds), ...idmapArgs(idmap)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      const report = capture(child.stdio[3] as Readable);
      const stderr = capture(child.stderr);
      const out = new PassThrough();
      let stat: PathStat | undefined;
      const onReport = () => {
        const line = report();
        if (!line.includes('\n') || stat) return;
        const res = lastJSON(line);
        if (res?.ok === true) {
          stat = res.stat;
          resolve({ stat: res.stat, tar: out });
        } else {
          reject(helperError(res, `archive ${absPath}`));
          kill(child);
        }
      };
      (child.stdio[3] as Readable).on('data', () => setImmediate(onReport));
      child.stdout!.pipe(out, { end: false });
      // Until the stat is in, nobody reads `out`: a failure then only rejects.
      const fail = (e: Error) => {
        if (stat) out.destroy(e);
        else {
          reject(e);
          out.destroy();
        }
      };
      child.on('error', (err) => fail(new BerthError('Internal', `start archive helper: ${err.message}`, { cause: err })));
      child.on('close', (code, signal) => {
        onReport();
        if (code === 0 && stat) return out.end();
        const res = lastJSON(stderr());
        fail(new BerthError('Internal', `archive ${absPath}: ${res?.error ?? `archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`}`));
      });
      out.on('close', () => kill(child));
    });
  }

  extract(root: string, dest: string, input: Readable, o: ExtractOptions): Promise<void> {
    const args = [path.resolve(root), '--cp', dest];
    if (o.noOverwriteDirNonDir) args.push('--no-overwrite-dir-non-dir');
    if (o.chown) args.push('--chown', `${o.chown.uid}:${o.chown.gid}`);
    args.push(...bindArgs(o.binds ?? []), ...idmapArgs(o.idmap));
    return runUntar(this.host, args, ['pipe', 'pipe', 'pipe'], input, () => undefined, (res) => helperError(res, `extract to ${dest}`));
  }

  async readFiles(root: string, paths: string[]): Promise<Record<string, string>> {
    return (await helperJSON(this.host, process.execPath, [packPath(), 'cat', path.resolve(root), ...paths], 'read files')).files;
  }

  async *upperEntries(upper: string): AsyncGenerator<UpperEntry> {
    const child = this.host.spawn(process.execPath, [packPath(), 'changes', path.resolve(upper)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = capture(child.stderr);
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', (err) => reject(new BerthError('Internal', `start archive helper: ${err.message}`, { cause: err })));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    closed.catch(() => {});
    let last: any;
    try {
      for await (const line of readline.createInterface({ input: child.stdout!, crlfDelay: Infinity })) {
        if (!line) continue;
        const v = JSON.parse(line);
        if (v && typeof v.ok === 'boolean') last = v;
        else yield v as UpperEntry;
      }
      const { code, signal } = await closed;
      if (last?.ok === true && code === 0) return;
      if (last) throw helperError(last, `changes of ${upper}`);
      throw new BerthError('Internal', `changes of ${upper}: archive helper exited with ${exitText(code, signal)}: ${stderr().trim()}`);
    } finally {
      kill(child);
    }
  }
}
