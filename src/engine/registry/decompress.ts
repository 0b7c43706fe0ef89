// Layer decompression by media type. gzip uses node:zlib (which reads
// concatenated members); zstd runs Debian's `zstd -dc` in a child process,
// as Node 20's zlib has no zstd.
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { RegistryError } from './errors';
import { layerCompression, type Compression } from '../../oci/mediatypes';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function detectCompression(head: Buffer): Compression | undefined {
  if (head.length >= 2 && head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.length >= 4 && head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  if (head.length >= 4) return 'none';
  return undefined; // not enough bytes to tell
}

// The zstd binary; BERTH_ZSTD overrides it (tests, odd installs).
export const zstdCommand = (): string => process.env.BERTH_ZSTD || 'zstd';

function decompressError(what: string, err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new RegistryError('InvalidArgument', 'ERR_REGISTRY_DECOMPRESS', `${what}: ${msg}`, { cause: err });
}

// Pipes src -> out, destroying `out` with a wrapped error when src fails
// and `src` when the reader of `out` goes away.
function relay(src: Readable, out: PassThrough, what: string): void {
  src.on('error', (err) => out.destroy(decompressError(what, err)));
  src.pipe(out);
  out.on('close', () => {
    if (!src.destroyed) src.destroy();
  });
}

// zlib's default 16 KiB output chunks cost a thread-pool round trip each and
// as many stream hops downstream: 256 KiB halves gunzip time of a 170 MB layer.
export function createLayerGunzip(): Gunzip {
  return createGunzip({ chunkSize: 256 << 10 });
}

function gunzip(input: Readable): Readable {
  const z = createLayerGunzip();
  const out = new PassThrough();
  input.on('error', (err) => z.destroy(decompressError('reading compressed layer', err)));
  input.pipe(z);
  relay(z, out, 'gzip decompression failed');
  out.on('close', () => {
    if (!input.destroyed) input.destroy();
  });
  return out;
}

function unzstd(input: Readable): Readable {
  const out = new PassThrough();
  let child;
  try {
    // --long=31 admits the largest window zstd allows (archives made with --long).
    child = spawn(zstdCommand(), ['-d', '-c', '-q', '--no-progress', '--long=31'], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    input.destroy();
    process.nextTick(() => out.destroy(zstdMissing(err)));
    return out;
  }
  let stderr = '';
  let failed: Error | undefined;
  const fail = (err: Error) => {
    if (failed) return;
    failed = err;
    child.kill('SIGKILL');
    input.destroy();
    out.destroy(err);
  };
  child.on('error', (err) => fail(zstdMissing(err)));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin.on('error', () => {
    /* EPIPE when zstd exits early: its exit status tells why */
  });
  input.on('error', (err) => fail(decompressError('reading compressed layer', err)));
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (failed) return;
    if (code === 0) out.end();
    else fail(decompressError('zstd decompression failed', new Error(stderr.trim().replace(/^zstd: /, '') || `zstd exited with ${code ?? signal}`)));
  });
  // The consumer gave up: stop zstd and the source.
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!input.readableEnded) input.destroy();
  });
  return out;
}

function zstdMissing(err: unknown): RegistryError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new RegistryError('FailedPrecondition', 'ERR_REGISTRY_DECOMPRESS', `zstd layers need the zstd program (${zstdCommand()}): not found; install the zstd package`, { cause: err });
  }
  return decompressError('cannot run zstd', err);
}

// Looks at the first bytes, then decompresses accordingly.
function sniffThen(input: Readable, fallback: Compression): Readable {
  const out = new PassThrough();
  const head: Buffer[] = [];
  let len = 0;
  let decided = false;
  const onData = (c: Buffer) => {
    head.push(c);
    len += c.length;
    if (len >= 4) decide(false);
  };
  const onEnd = () => decide(true);
  const onError = (err: Error) => out.destroy(decompressError('reading layer', err));
  input.on('data', onData);
  input.once('end', onEnd);
  input.once('error', onError);
  out.once('close', () => {
    if (!decided) input.destroy();
  });
  function decide(ended: boolean): void {
    if (decided) return;
    decided = true;
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', onError);
    input.pause();
    const first = Buffer.concat(head);
    const c = detectCompression(first) ?? (ended ? 'none' : fallback);
    const rest = Readable.from(
      (async function* () {
        if (first.length) yield first;
        if (!ended) for await (const chunk of input) yield chunk as Buffer;
      })(),
      { objectMode: false },
    );
    const dec = c === 'gzip' ? gunzip(rest) : c === 'zstd' ? unzstd(rest) : rest;
    relay(dec, out, 'decompressing layer');
    out.on('close', () => {
      if (!input.destroyed) input.destroy();
    });
  }
  return out;
}

// Decompresses a layer blob of the given media type into its tar stream.
// Unknown media types are refused with InvalidArgument.
export function decompressStream(mediaType: string, input: Readable): Readable {
  const how = layerCompression(mediaType);
  if (!how) {
    input.destroy();
    throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_UNSUPPORTED', `unsupported layer media type ${JSON.stringify(mediaType)}`);
  }
  if (how.sniff) {
    return sniffThen(input, how.compression);
  }
  switch (how.compression) {
    case 'gzip':
      return gunzip(input);
    case 'zstd':
      return unzstd(input);
    default:
      return input;
  }
}
