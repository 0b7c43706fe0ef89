// --security-opt's seccomp option, as the Docker edge reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKind } from '../../../../src/errors';
import { securityOptions, seccompOption } from '../../../../src/server/containers/seccomp';

test('seccompOption follows --security-opt and --privileged', () => {
  assert.deepEqual(seccompOption(undefined), { mode: 'default' });
  assert.deepEqual(seccompOption(null), { mode: 'default' });
  assert.deepEqual(seccompOption(['no-new-privileges', 'seccomp=builtin']), { mode: 'default' });
  assert.deepEqual(seccompOption(['seccomp=unconfined']), { mode: 'unconfined' });
  assert.deepEqual(seccompOption(['seccomp:unconfined']), { mode: 'unconfined' });
  assert.deepEqual(seccompOption(null, true), { mode: 'unconfined' });
  const bad = (opt: string) => assert.throws(() => seccompOption([opt]), (e) => isKind(e, 'InvalidArgument'));
  bad('seccomp=/etc/profile.json');
  assert.deepEqual(seccompOption(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']), { mode: 'custom', profile: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  assert.deepEqual(seccompOption(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'], true), { mode: 'unconfined' });
});

test('securityOptions reads no-new-privileges as dockerd does (Go ParseBool)', () => {
  assert.equal(securityOptions(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(securityOptions(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(securityOptions(['no-new-privileges=1']).noNewPrivileges, true);
  assert.equal(securityOptions(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(securityOptions(['no-new-privileges', 'no-new-privileges=F']).noNewPrivileges, false);
  assert.throws(() => securityOptions(['no-new-privileges=maybe']), { message: 'invalid --security-opt 2: "no-new-privileges=maybe"' });
  assert.throws(() => securityOptions(['whatever']), { message: 'invalid --security-opt 1: "whatever"' });
  assert.deepEqual(securityOptions(['apparmor=unconfined', 'label=disable', 'disable']), { seccomp: { mode: 'default' }, noNewPrivileges: false });
});
