// Resolves a path inside a container root the way the kernel would inside
// a chroot: symlinks (absolute or with "..") can never lead outside root.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

// A handful of lstat calls on small paths: done at once (see
// resolveInRootSync), behind the promise its callers expect.
export async function resolveInRoot(root: string, p: string): Promise<string> {
  return resolveInRootSync(root, p);
}

export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(await resolveInRoot(root, p), 'utf8');
  } catch {
    return undefined;
  }
}

// At once rather than through the thread pool, where each step would be a
// round trip (an exec's passwd and group are on a latency-bound path).
export function resolveInRootSync(root: string, p: string): string {
  let pending = p.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = path.join(root, ...done, part);
    let st;
    try {
      st = fs.lstatSync(full);
    } catch {
      // A missing component is kept; later ".." and links are still resolved.
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 255) throw Object.assign(new Error(`too many levels of symbolic links: ${p}`), { code: 'ELOOP' });
      const target = fs.readlinkSync(full);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter(Boolean), ...pending];
    } else {
      done.push(part);
    }
  }
  return path.join(root, ...done);
}

export function readFileInRootSync(root: string, p: string): string | undefined {
  try {
    return fs.readFileSync(resolveInRootSync(root, p), 'utf8');
  } catch {
    return undefined;
  }
}
