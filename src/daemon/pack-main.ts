// berth-pack: the confined packing half of engine/layers (applying is
// native: src/host/native/untar-main.c). A program of its own, which berthd
// spawns (engine/layers/helpers.ts); this is its main, so it is the one
// that makes the real Host.
//
//   berth-pack layer|dir DIR    write DIR as a tar to stdout; on failure one
//                               JSON line {ok:false, error} on stderr
//
// Everything is loaded first, then the process chroots into DIR before it
// reads a single entry, so the kernel confines every path it touches.
import { once } from 'node:events';
import { packTree } from '../engine/layers/pack';
import { LinuxHost } from '../host/linux';

function exitWith(stream: NodeJS.WriteStream, line: object, code: number): void {
  stream.write(JSON.stringify(line) + '\n', () => process.exit(code));
}

async function pack(host: LinuxHost, mode: string, dir: string): Promise<void> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  try {
    if (mode !== 'layer' && mode !== 'dir') throw new Error(`unknown pack mode ${mode}`);
    host.chroot(dir);
    for await (const chunk of packTree('/', host, { whiteouts: mode === 'layer' })) {
      if (!stdout.write(chunk as Buffer)) await once(stdout, 'drain');
    }
    stdout.end(() => process.exit(0));
  } catch (err: any) {
    exitWith(stderr, { ok: false, error: String(err?.message ?? err) }, 1);
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const host = new LinuxHost();
  if (args.length === 2) pack(host, args[0], args[1]).catch((err) => exitWith(process.stderr, { ok: false, error: String(err?.message ?? err) }, 1));
  else {
    process.stderr.write('usage: berth-pack layer|dir DIR\n');
    process.exit(64);
  }
}

main();
