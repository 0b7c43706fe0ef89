import * as fs from 'node:fs';
import * as path from 'node:path';

// What node-gyp built (binding.gyp): the addons and berth-untar. Found by
// path so that bundled and compiled code load the same files.
export function nativeBuild(name: string): string {
  return path.join(projectRoot(), 'build', 'Release', name);
}

// The project root holds build/ (native addon) and dist/ (bundled helpers).
// Found by walking up, so bundled (dist/) and compiled (out/) code agree.
let root: string | undefined;
export function projectRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the berth project root above ${__dirname}`);
    dir = up;
  }
}
