// Writes docs/COMPATIBILITY.md from the compiled field tables (run
// `npx tsc -p .` first; scripts/test.mjs does).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { compatibilityMarkdown } = require('../out/src/server/compat/doc.js');
writeFileSync(new URL('../docs/COMPATIBILITY.md', import.meta.url), compatibilityMarkdown());
