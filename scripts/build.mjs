// Bundles the executables with esbuild (small import graph, fast CLI start).
// `--tests` also type-checks and compiles everything with tsc into out/,
// which is what the tests run from.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

const entries = {
  berthd: 'src/daemon/main.ts',
  berth: 'src/cli/main.ts',
  'berth-pack': 'src/daemon/pack-main.ts',
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  sourcemap: 'linked',
  logLevel: 'warning',
};
const { berth, ...others } = entries;
await build({ ...common, entryPoints: others });
// The CLI reads and hashes its whole bundle at every start: whitespace and
// syntax minified (names kept) make it a quarter smaller, about 3 ms of CPU
// less per command here.
await build({ ...common, entryPoints: { berth }, minifyWhitespace: true, minifySyntax: true });

mkdirSync('bin', { recursive: true });
// The daemon blocks libuv threads on conmon attach sockets (one per attached
// stream), so it gets a larger pool than the default four. Its memory is kept
// from creeping up with use (bench/memory.mjs): glibc gets two malloc arenas
// rather than one per busy thread, and V8 a young generation of 1 MiB
// semi-spaces, an early first full GC and its memory-saving heap growth;
// there is nothing the daemon retains per container, only garbage collected
// late. bench/memory.mjs reads these flags from bin/berthd.
const BERTHD_NODE_FLAGS = '--enable-source-maps --max-semi-space-size=1 --initial-old-space-size=8 --optimize-for-size';
writeFileSync('bin/berthd', `#!/bin/sh\nMALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-2} UV_THREADPOOL_SIZE=\${UV_THREADPOOL_SIZE:-64} exec node ${BERTHD_NODE_FLAGS} "$(dirname "$(readlink -f "$0")")/../dist/berthd.js" "$@"\n`);
// The CLI's launcher runs the bundle with V8's code cache (made on first use);
// a cache of the previous bundle goes now.
copyFileSync('scripts/berth-launcher.cjs', 'bin/berth');
rmSync('dist/berth.js.cache', { force: true });
chmodSync('bin/berthd', 0o755);
chmodSync('bin/berth', 0o755);

if (process.argv.includes('--tests')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });
}
