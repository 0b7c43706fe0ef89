// docker cp's path rules, done on the client as docker does (moby's
// go-archive copy.go and docker/cli's cp.go): the CONTAINER:PATH split,
// trailing "/" and "/." meaning "a directory" and "its contents", and
// where an archive is extracted and how its entries are renamed.
import * as path from 'node:path';
import { base, clean, dir } from '../../util/gopath';

export const hasTrailingSeparator = (p: string) => p.length > 0 && p.endsWith('/');
export const specifiesCurrentDir = (p: string) => base(p) === '.';
// "dir/" and "dir/." say the path must be a directory.
export const assertsDirectory = (p: string) => hasTrailingSeparator(p) || specifiesCurrentDir(p);

export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

// [directory, entry]: "a/b/" -> ["a", "b"], "a/b/." -> ["a/b", "."].
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = clean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [dir(cleaned), base(cleaned)];
}

// cp.go's splitCpArg: "ctr:/path" -> ["ctr", "/path"]; an absolute or
// "./"-prefixed local path keeps its colon.
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

// cp.go's resolveLocalPath.
export function resolveLocalPath(p: string, cwd = process.cwd()): string {
  return preserveTrailingDotOrSeparator(clean(path.resolve(cwd, p)), p);
}

// go-archive's GetRebaseName: a followed link keeps the name it was given.
export function getRebaseName(p: string, resolved: string): [string, string] {
  let r = resolved;
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(p) && !hasTrailingSeparator(r)) r += '/';
  return [r, base(p) !== base(r) ? base(p) : ''];
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

export class CopyError extends Error {}

// go-archive's PrepareArchiveCopy, without the archive: the directory to
// extract into and how to rename entries ([from, to], or none).
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new CopyError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rebase: [srcBase, dstBase] };
}

// go-archive's newNameRebaser: "old" and "old/..." become "new" and "new/...".
export function nameRebaser(oldBase: string, newBase: string): (name: string) => string {
  const o = oldBase.replace(/\/+$/, '');
  const n = newBase.replace(/\/+$/, '');
  if (o === '') {
    return (name) => {
      const s = name.replace(/^\/+/, '');
      return n === '' ? s : `${n}/${s}`;
    };
  }
  return (name) => {
    if (!name.startsWith(o)) return name;
    const suffix = name.slice(o.length);
    if (suffix !== '' && !suffix.startsWith('/')) return name;
    return n + suffix;
  };
}
