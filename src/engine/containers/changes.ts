// `docker diff`: what a container changed, from its overlay writable layer
// (the upper dir) against the layers under it (its init layer, then the
// image's), by moby's rules (pkg/archive's overlay changes):
// - a whiteout (char 0/0) or an opaque directory is a deletion of its path;
// - anything else is an addition, unless the path exists in a lower layer,
//   then a modification; a directory over a directory with the same size,
//   mode and mtime is no change at all (it is only there as a parent);
// - the parent of an addition or deletion is a modification, once;
// - the root is never listed, nor aufs metadata (/.wh..wh.*).
// Mount points the init layer provides (/etc/hosts, /proc, …) are lowers,
// so they never show unless the container changed them.
import type { UpperEntry } from '../layers/inroot';
import { isGoDir } from '../layers/inroot';

export type ChangeKind = 'modified' | 'added' | 'deleted';

export interface Change {
  path: string;
  kind: ChangeKind;
}

// What a lower layer has at a path (following symlinks, as moby's os.Stat).
export interface LowerStat {
  size: number;
  mode: number; // Go FileMode
  mtimeNs: bigint;
}

// moby's sameFsTime: equal, or the same second with one side lacking
// nanoseconds (a filesystem or tar that keeps whole seconds).
export function sameFsTime(a: bigint, b: bigint): boolean {
  if (a === b) return true;
  const sa = a / 1_000_000_000n;
  const sb = b / 1_000_000_000n;
  return sa === sb && (a % 1_000_000_000n === 0n || b % 1_000_000_000n === 0n);
}

const parentOf = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
};

// entries: the upper dir walked depth first in byte order (walkUpper);
// lower(p): the first lower layer (top first) that has p, or undefined.
export async function computeChanges(entries: AsyncIterable<UpperEntry> | Iterable<UpperEntry>, lower: (p: string) => Promise<LowerStat | undefined>): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  for await (const f of entries) {
    if (f.path === '/' || /^\/\.wh\.\.wh\./.test(f.path) && parentOf(f.path) === '/') continue;
    let kind: ChangeKind;
    if (f.whiteout || (f.dir && f.opaque)) {
      kind = 'deleted';
    } else {
      kind = 'added';
      const st = await lower(f.path);
      if (st) {
        // A directory that is only there as a parent is no change.
        if (f.dir && isGoDir(st.mode) && f.size === st.size && f.mode === st.mode && sameFsTime(BigInt(f.mtimeNs), st.mtimeNs)) continue;
        kind = 'modified';
      }
    }
    if (f.dir) changedDirs.add(f.path);
    if (kind === 'added' || kind === 'deleted') {
      const parent = parentOf(f.path);
      if (parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ path: parent, kind: 'modified' });
        changedDirs.add(parent);
      }
    }
    changes.push({ path: f.path, kind });
  }
  return changes;
}
