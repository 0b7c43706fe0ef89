// Pure name handling shared by unpack (tar -> dir) and pack (dir -> tar).
import * as path from 'node:path';

// OCI/Docker layer whiteout markers.
export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
// overlayfs marks a directory that hides the lower layers' content with this.
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export class BadNameError extends Error {}

// Turns a tar entry name into a clean absolute path inside the layer root
// ("/" is the root itself). Leading "/" and "./", "//" and "." go away and
// ".." is resolved lexically, so "../../etc/x" names "/etc/x" in the layer;
// the chroot confines whatever the lexical step does not (symlinks).
export function normalizeName(name: string): string {
  if (name.includes('\0')) throw new BadNameError(`entry name contains a NUL byte: ${JSON.stringify(name)}`);
  let p = path.posix.normalize('/' + name);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export type WhiteoutKind =
  | { kind: 'whiteout'; target: string } // remove target, leave an overlay whiteout there
  | { kind: 'opaque'; dir: string } // mark dir opaque
  | { kind: 'meta' }; // other .wh..wh.* names (aufs bookkeeping): ignored

// Classifies a normalized entry path; null for ordinary entries.
export function whiteoutOf(p: string): WhiteoutKind | null {
  const base = path.posix.basename(p);
  if (!base.startsWith(WHITEOUT_PREFIX)) return null;
  const dir = path.posix.dirname(p);
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque', dir };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  // ".wh." alone or ".wh.." would name the directory itself or its parent.
  if (name === '' || name === '.' || name === '..') throw new BadNameError(`invalid whiteout name ${JSON.stringify(p)}`);
  return { kind: 'whiteout', target: path.posix.join(dir, name) };
}

// Tar name of the whiteout for the relative path rel ("a/b" -> "a/.wh.b").
export function whiteoutName(rel: string): string {
  const dir = path.posix.dirname(rel);
  const base = WHITEOUT_PREFIX + path.posix.basename(rel);
  return dir === '.' ? base : `${dir}/${base}`;
}

// Tar name of the opaque marker for the relative directory rel ("" is the root).
export function opaqueName(rel: string): string {
  return rel === '' ? WHITEOUT_OPAQUE : `${rel}/${WHITEOUT_OPAQUE}`;
}

// Only these xattrs travel in layers: user data and file capabilities.
// trusted.* (overlay's own markers among them) and other security.* labels
// would let a layer forge kernel or LSM state, so they are dropped.
export function xattrAllowed(name: string): boolean {
  return (name.startsWith('user.') && name.length > 5) || name === 'security.capability';
}
