// A fake LayerTars for unit tests: no helper process, no chroot, no root.
// apply() reads the whole tar (writing a copy to copyTo, as berth-untar
// does), refuses what does not start like a tar, and remembers the bytes
// under the directory; packLayer()/packDir() give back what was applied
// there (FakeSnapshotter moves it along when a scratch dir is committed).
//
//   const tars = new FakeLayerTars();
//   const snapshots = new FakeSnapshotter(tars);
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { invalidArgument } from '../../../../src/errors';
import type { ApplyOptions, ApplyStats, LayerTars } from '../../../../src/engine/layers';

// The first block of a tar: ustar magic at 257, or the all-zero end blocks.
export function looksLikeTar(data: Buffer): boolean {
  if (data.length < 512 || data.length % 512 !== 0) return false;
  const magic = data.subarray(257, 262).toString('latin1');
  return magic === 'ustar' || data.subarray(0, 512).every((b) => b === 0);
}

export class FakeLayerTars implements LayerTars {
  // Directory -> the tar applied there.
  readonly trees = new Map<string, Buffer>();
  readonly calls: { op: 'apply' | 'packLayer' | 'packDir'; dir: string }[] = [];
  // The next apply fails with this (after reading its input), once.
  failNext?: Error;

  async apply(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyStats> {
    this.calls.push({ op: 'apply', dir });
    const chunks: Buffer[] = [];
    for await (const chunk of input) {
      chunks.push(chunk as Buffer);
      if (opts.copyTo !== undefined) fs.writeSync(opts.copyTo, chunk as Buffer);
    }
    const data = Buffer.concat(chunks);
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    if (!looksLikeTar(data)) throw invalidArgument('invalid layer archive: Unrecognized archive format');
    this.trees.set(dir, data);
    return { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, devices: 0, whiteouts: 0, opaques: 0, bytes: data.length, skippedXattrs: 0 };
  }

  packLayer(upperDir: string): Readable {
    this.calls.push({ op: 'packLayer', dir: upperDir });
    return this.pack(upperDir);
  }

  packDir(dir: string): Readable {
    this.calls.push({ op: 'packDir', dir });
    return this.pack(dir);
  }

  // What was applied at `from` is now at `to` (a scratch dir became a layer).
  move(from: string, to: string): void {
    const data = this.trees.get(from);
    this.trees.delete(from);
    if (data) this.trees.set(to, data);
  }

  private pack(dir: string): Readable {
    const data = this.trees.get(dir);
    if (!data) {
      const r = new Readable({ read() {} });
      process.nextTick(() => r.destroy(new Error(`pack ${dir}: no such directory`)));
      return r;
    }
    return Readable.from([data]);
  }
}
