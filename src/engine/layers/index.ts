// Layer tars: apply one to a directory, and pack a directory (an overlay
// upper dir, or any tree) back into one. LayerTars is what the image side
// and commit depend on; LayerHelpers (helpers.ts) does it in helper
// processes that chroot into the directory first, so the kernel, not path
// string checks, keeps hostile names, symlinks and hardlinks inside it.
// Unit tests use a fake.
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../../errors';

import type { PathStat, UpperEntry } from './inroot';
import type { IdMap } from './pack';

export { LayerHelpers, RootHelpers } from './helpers';

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

export interface ApplyOptions {
  // A file descriptor open for writing: every byte read is also written
  // there, so the caller keeps the tar without writing it itself.
  copyTo?: number;
}

export interface LayerTars {
  // Applies an uncompressed layer tar to dir (which must exist). Resolves
  // with what was written; rejects with InvalidArgument for a bad archive,
  // and with the input's own error if the input fails. The input is
  // streamed, never buffered; on failure it is unpiped but left to the
  // caller to dispose of, and dir holds a partial layer the caller should
  // discard.
  apply(input: Readable, dir: string, opts?: ApplyOptions): Promise<ApplyStats>;
  // Tar of an overlay upper dir as a layer: overlay whiteouts become
  // ".wh.NAME" and opaque directories get ".wh..wh..opq"; names sorted,
  // hardlinks as links, user.* and security.capability xattrs as PAX
  // records. The stream fails, never just ends, if packing fails.
  packLayer(upperDir: string): Readable;
  // Tar of a plain tree (export): the same, without whiteout conversion.
  // With idmap (userns-remap), the host ids of that range as the container sees them.
  packDir(dir: string, o?: { idmap?: IdMap }): Readable;
}

// A mount of the container's own (its /etc/hosts, …) to see in its root:
// bound into the helper's private mount namespace before it chroots.
export interface Bind {
  source: string; // a host path
  destination: string; // absolute inside the root
}

export interface ExtractOptions {
  binds?: Bind[];
  // userns-remap: the tar's (and chown's) ids are the container's, written
  // as the range's host ids; the helper works with the range's root as its
  // filesystem ids (a remapped root's overlay refuses host root's).
  idmap?: IdMap;
  // Refuse to replace a directory with a non-directory, and back.
  noOverwriteDirNonDir?: boolean;
  // Every extracted entry gets this owner instead of the tar's.
  chown?: { uid: number; gid: number };
}

// `docker cp` and `docker diff` in a container's root (or writable layer),
// each done by a helper chrooted into it. Paths are absolute in the root, as
// engine/layers/inroot.ts's containerAbsPath makes them. A missing path is
// NotFound; a path or archive at fault, InvalidArgument.
export interface RootTools {
  stat(root: string, absPath: string, binds?: Bind[]): Promise<PathStat>;
  // The path's stat, then its tar (a directory with its tree), named as
  // `docker cp` expects.
  // With idmap (a remapped container's root, which shows host ids), the
  // tar's ids are the container's.
  pack(root: string, absPath: string, binds?: Bind[], idmap?: IdMap): Promise<{ stat: PathStat; tar: Readable }>;
  // Extracts the tar under dest, a directory (a symlink to one resolves
  // inside root).
  extract(root: string, dest: string, input: Readable, o: ExtractOptions): Promise<void>;
  // Small text files (passwd, group), absent ones left out.
  readFiles(root: string, paths: string[]): Promise<Record<string, string>>;
  // A writable layer's entries, depth first in byte order.
  upperEntries(upper: string): AsyncIterable<UpperEntry>;
}

// Streams src through the transforms into tars.apply(dir). A failure on
// either side stops the other, so nothing is left hanging.
export async function applyThrough(tars: LayerTars, src: Readable, transforms: Transform[], dir: string, opts: ApplyOptions = {}): Promise<void> {
  const pass = new PassThrough();
  const applied = tars.apply(pass, dir, opts).catch((err) => {
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
