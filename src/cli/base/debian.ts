// `berth base debian`: a Debian root filesystem made by mmdebstrap (run
// here, on the client) and streamed as a tar into `POST /images/create`.
// The stream ends normally only if mmdebstrap succeeds; otherwise the upload
// is aborted so the daemon never sees a complete archive.
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';

export interface DebianOptions {
  suite: string;
  variant: string;
  mirror?: string;
  arch?: string;
  include?: string[];
  // mmdebstrap's own progress goes here.
  stderr: Writable;
  // For tests: the program to run.
  program?: string;
}

export class MissingToolError extends Error {}

export function mmdebstrapArgs(o: DebianOptions): string[] {
  const args = [`--variant=${o.variant}`];
  if (o.arch) args.push(`--architectures=${o.arch}`);
  if (o.include?.length) args.push(`--include=${o.include.join(',')}`);
  // As in Docker's debian images, no apt lists (run apt-get update first).
  args.push('--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin', '--format=tar', o.suite, '-');
  if (o.mirror) args.push(o.mirror);
  return args;
}

// Starts mmdebstrap; the returned stream is its tar output, which errors
// (instead of ending) when mmdebstrap fails.
export function debianTar(o: DebianOptions): { tar: Readable; child: ChildProcess; started: Promise<void> } {
  const program = o.program ?? 'mmdebstrap';
  const child = spawn(program, mmdebstrapArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  // Failures reach the caller through `started` or its own listener on `tar`.
  tar.on('error', () => {});
  child.stdout!.pipe(tar, { end: false });
  child.stderr!.on('data', (d) => o.stderr.write(d));
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e: NodeJS.ErrnoException) => {
      const err = e.code === 'ENOENT'
        ? new MissingToolError(`${program} is not installed: install it with \`apt-get install mmdebstrap\``)
        : e;
      tar.destroy(err);
      reject(err);
    });
  });
  child.once('close', (code, signal) => {
    if (code === 0) tar.end();
    else tar.destroy(new Error(`${program} failed (${signal ? `signal ${signal}` : `exit status ${code}`})`));
  });
  return { tar, child, started };
}
