// --security-opt's seccomp option, as the Docker edge reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKind } from '../../../../src/errors';
import { seccompOption } from '../../../../src/server/containers/seccomp';

test('seccompOption follows --security-opt and --privileged', () => {
  assert.deepEqual(seccompOption(undefined), { mode: 'default' });
  assert.deepEqual(seccompOption(null), { mode: 'default' });
  assert.deepEqual(seccompOption(['no-new-privileges', 'seccomp=builtin']), { mode: 'default' });
  assert.deepEqual(seccompOption(['seccomp=unconfined']), { mode: 'unconfined' });
  assert.deepEqual(seccompOption(['seccomp:unconfined']), { mode: 'unconfined' });
  assert.deepEqual(seccompOption(null, true), { mode: 'unconfined' });
  const bad = (opt: string) => assert.throws(() => seccompOption([opt]), (e) => isKind(e, 'InvalidArgument'));
  bad('seccomp={"defaultAction":"SCMP_ACT_ALLOW"}');
  bad('seccomp=/etc/profile.json');
});
