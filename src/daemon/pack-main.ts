// berth-pack: the confined packing half of engine/layers (applying is
// native: src/host/native/untar-main.c), and what `docker cp -a` and
// `docker diff` read (stat and a path's tar are native too:
// src/host/native/cp-main.c). A program of its own, which berthd spawns
// (engine/layers/helpers.ts); this is its main, so it is the one that makes
// the real Host.
//
//   berth-pack layer|dir DIR [--idmap UID:GID:SIZE]
//                               write DIR as a tar to stdout; on failure one
//                               JSON line {ok:false, error} on stderr; with
//                               --idmap, host ids of that range as the
//                               remapped container sees them
//   berth-pack cat ROOT FILE…   {ok:true, files:{FILE: text}} on stdout
//   berth-pack changes UPPER    one JSON line per entry of the writable
//                               layer, then {ok:true}
//
// Everything is loaded first, then the process chroots into DIR (ROOT,
// UPPER) before it reads a single entry, so the kernel confines every path
// it touches.
import { once } from 'node:events';
import { packTree, parseIdMap, type IdMap } from '../engine/layers/pack';
import { readSmallFiles, walkUpper } from '../engine/layers/inroot';
import { LinuxHost } from '../host/linux';

function exitWith(stream: NodeJS.WriteStream, line: object, code: number): void {
  stream.write(JSON.stringify(line) + '\n', () => process.exit(code));
}

function failure(err: any): object {
  return { ok: false, kind: 'internal', error: String(err?.message ?? err) };
}

async function writeAll(out: NodeJS.WritableStream, chunks: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of chunks) {
    if (!out.write(chunk as Buffer)) await once(out as NodeJS.EventEmitter, 'drain');
  }
}

async function pack(host: LinuxHost, mode: string, dir: string, idmap?: IdMap): Promise<void> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  try {
    if (mode !== 'layer' && mode !== 'dir') throw new Error(`unknown pack mode ${mode}`);
    host.chroot(dir);
    await writeAll(stdout, packTree('/', host, { whiteouts: mode === 'layer', ...(idmap ? { idmap } : {}) }));
    stdout.end(() => process.exit(0));
  } catch (err: any) {
    exitWith(stderr, { ok: false, error: String(err?.message ?? err) }, 1);
  }
}

async function cat(host: LinuxHost, root: string, files: string[]): Promise<void> {
  try {
    host.chroot(root);
    exitWith(process.stdout, { ok: true, files: await readSmallFiles(files) }, 0);
  } catch (err) {
    exitWith(process.stdout, failure(err), 1);
  }
}

async function changes(host: LinuxHost, upper: string): Promise<void> {
  const stdout = process.stdout;
  try {
    host.chroot(upper);
    const lines = (async function* () {
      for await (const e of walkUpper('/', host)) yield JSON.stringify(e) + '\n';
    })();
    await writeAll(stdout, lines);
    exitWith(stdout, { ok: true }, 0);
  } catch (err) {
    exitWith(stdout, failure(err), 1);
  }
}

function main(): void {
  const [mode, ...args] = process.argv.slice(2);
  const host = new LinuxHost();
  const fail = (err: any) => exitWith(process.stderr, { ok: false, error: String(err?.message ?? err) }, 1);
  if ((mode === 'layer' || mode === 'dir') && args.length === 1) pack(host, mode, args[0]).catch(fail);
  else if (mode === 'dir' && args.length === 3 && args[1] === '--idmap') {
    try {
      pack(host, mode, args[0], parseIdMap(args[2])).catch(fail);
    } catch (err) {
      fail(err);
    }
  }
  else if (mode === 'cat' && args.length >= 2) cat(host, args[0], args.slice(1)).catch(fail);
  else if (mode === 'changes' && args.length === 1) changes(host, args[0]).catch(fail);
  else {
    process.stderr.write('usage: berth-pack layer|dir DIR | cat ROOT FILE... | changes UPPER\n');
    process.exit(64);
  }
}

main();
