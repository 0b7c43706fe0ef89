// berth next to the docker CLI on one daemon: the same command through both
// must print the same (docker's words become berth's in stderr).
import assert from 'node:assert/strict';
import { berth, docker, type TestDaemon } from './harness';

// The two commands run a moment apart: relative times ("7 seconds ago",
// "Up Less than a second") may differ, and with them a table's widths.
const steady = (s: string) =>
  s.replace(/\b(?:Less than a|About an?|an?|\d+) (?:second|minute|hour)s?\b/g, 'T').replace(/ {2,}/g, '  ');

export async function same(d: TestDaemon, args: string[]) {
  const b = await berth(d, ...args);
  const k = await docker(d, ...args);
  assert.deepEqual({ ...b, stdout: steady(b.stdout) }, { ...k, stdout: steady(k.stdout), stderr: k.stderr.replace(/docker/g, 'berth') }, args.join(' '));
  return b;
}

// berth's stdout, once it succeeded.
export async function ok(d: TestDaemon, ...args: string[]) {
  const r = await berth(d, ...args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
