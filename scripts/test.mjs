// Compiles with tsc (type-checking everything) and runs the suite with
// node:test from out/. `node scripts/test.mjs unit` runs only the unit
// tests (no root needed).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });

const which = process.argv[2];
const dirs = which ? [`out/test/${which}`] : ['out/test/unit', 'out/test/integration'];

function collect(dir) {
  let files = [];
  let names = [];
  try { names = readdirSync(dir); } catch { return files; }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files = files.concat(collect(p));
    else if (name.endsWith('.test.js')) files.push(p);
  }
  return files;
}

const files = dirs.flatMap(collect);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const res = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
