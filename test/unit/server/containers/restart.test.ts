// Docker's RestartPolicy into the engine's, and as inspect shows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerRestartPolicy, restartPolicyOf } from '../../../../src/server/containers/restart';

test('restart policies translate into the engine\'s; `no` and "" are none', () => {
  assert.equal(restartPolicyOf(undefined), undefined);
  assert.equal(restartPolicyOf({ Name: '' , MaximumRetryCount: 5 }), undefined);
  assert.equal(restartPolicyOf({ Name: 'no' }), undefined);
  assert.deepEqual(restartPolicyOf({ Name: 'always', MaximumRetryCount: 0 }), { name: 'always' });
  assert.deepEqual(restartPolicyOf({ Name: 'unless-stopped' }), { name: 'unless-stopped' });
  assert.deepEqual(restartPolicyOf({ Name: 'on-failure', MaximumRetryCount: 2 }), { name: 'on-failure', maxRetries: 2 });
  assert.deepEqual(restartPolicyOf({ Name: 'on-failure', MaximumRetryCount: null }), { name: 'on-failure' });
});

test('inspect keeps the policy as dockerd does: "" is `no`', () => {
  assert.deepEqual(dockerRestartPolicy(undefined), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(dockerRestartPolicy({ Name: '' }), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(dockerRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 2 }), { Name: 'on-failure', MaximumRetryCount: 2 });
});
