// Bundles the executables with esbuild (small import graph, fast CLI start).
// `--tests` also type-checks and compiles everything with tsc into out/,
// which is what the tests run from.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

const entries = {
  berthd: 'src/daemon/main.ts',
  berth: 'src/cli/main.ts',
  'berth-pack': 'src/daemon/pack-main.ts',
};

await build({
  entryPoints: entries,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  sourcemap: 'linked',
  logLevel: 'warning',
});

mkdirSync('bin', { recursive: true });
// The daemon blocks libuv threads on conmon attach sockets (one per attached
// stream), so it gets a larger pool than the default four.
writeFileSync('bin/berthd', '#!/bin/sh\nUV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-64} exec node --enable-source-maps "$(dirname "$(readlink -f "$0")")/../dist/berthd.js" "$@"\n');
writeFileSync('bin/berth', '#!/usr/bin/env node\nrequire("../dist/berth.js");\n');
chmodSync('bin/berthd', 0o755);
chmodSync('bin/berth', 0o755);

if (process.argv.includes('--tests')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });
}
