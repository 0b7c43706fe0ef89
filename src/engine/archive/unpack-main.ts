// berth-unpack: the confined half of the archive subsystem.
//
//   berth-unpack DIR [--copy-fd N]    apply the tar on stdin to DIR (and copy
//                                     it to fd N); prints one JSON line
//                                     {ok, stats | kind, error}
//   berth-unpack --pack layer|dir DIR write DIR as a tar to stdout; on failure
//                                     one JSON line {ok:false, error} on stderr
//
// Everything is loaded first, then the process chroots into DIR before it
// reads a single entry, so the kernel confines every path it touches.
import { once } from 'node:events';
import { LinuxHost } from '../../host/linux';
import { packTree } from './pack';

function exitWith(stream: NodeJS.WriteStream, line: object, code: number): void {
  stream.write(JSON.stringify(line) + '\n', () => process.exit(code));
}

// Synchronous and native: reads stdin (fd 0) to its end.
function apply(host: LinuxHost, dir: string, copyFd: number): void {
  try {
    host.chroot(dir); // loads the addon first, then chroot + chdir("/")
    const stats = host.untar(0, copyFd);
    exitWith(process.stdout, { ok: true, stats }, 0);
  } catch (err: any) {
    const invalid = err?.invalid === true;
    exitWith(process.stdout, { ok: false, kind: invalid ? 'invalid' : 'internal', error: String(err?.message ?? err) }, invalid ? 2 : 1);
  }
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
  if (args.length === 1 && !args[0].startsWith('-')) apply(host, args[0], -1);
  else if (args.length === 3 && !args[0].startsWith('-') && args[1] === '--copy-fd' && /^\d+$/.test(args[2])) apply(host, args[0], Number(args[2]));
  else if (args.length === 3 && args[0] === '--pack') pack(host, args[1], args[2]).catch((err) => exitWith(process.stderr, { ok: false, error: String(err?.message ?? err) }, 1));
  else {
    process.stderr.write('usage: berth-unpack DIR [--copy-fd N] | berth-unpack --pack layer|dir DIR\n');
    process.exit(64);
  }
}

main();
