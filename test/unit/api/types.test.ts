// src/api/types.ts is generated from the Engine API spec; a hand edit (or a
// spec change without a rerun) shows up here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

it('src/api/types.ts is what scripts/gen-api-types.mjs generates', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-api-types.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
