// Layer names and xattr policy for pack (dir -> tar). The native applier
// (src/host/native/untar.c) implements the same rules for tar -> dir.
import * as path from 'node:path';

// OCI/Docker layer whiteout markers.
export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
// overlayfs marks a directory that hides the lower layers' content with this.
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

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
// untar.c's xattr_allowed is the same rule.
export function xattrAllowed(name: string): boolean {
  return (name.startsWith('user.') && name.length > 5) || name === 'security.capability';
}
