// Writes every man page into DIR (default man/): berth's, one per command,
// through `berth docs man`, and berthd(8) from berthd's usage text.
// Run after `npx tsc -p . && npm run -s build`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(process.argv[2] ?? path.join(root, 'man'));
execFileSync(path.join(root, 'bin', 'berth'), ['docs', 'man', dir], { stdio: 'inherit' });
const { berthdManPage } = await import(path.join(root, 'out', 'src', 'daemon', 'man.js'));
fs.writeFileSync(path.join(dir, 'berthd.8'), berthdManPage());
console.log(`berthd.8 written to ${dir}`);
