// The run config of a commit request's body (server/containers/commit.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { commitRequestConfig } from '../../../../src/server/containers/commit';

const invalid = (re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  if (re) assert.match(err.message, re);
  return true;
};

test('commitRequestConfig keeps run fields and type-checks them', () => {
  assert.deepEqual(commitRequestConfig(undefined), {});
  assert.deepEqual(commitRequestConfig({ Cmd: 'echo', Env: ['X=1'], Hostname: 'ignored' }), { Cmd: ['echo'], Env: ['X=1'] });
  assert.throws(() => commitRequestConfig({ Env: 'X=1' }), invalid(/Env/));
});
