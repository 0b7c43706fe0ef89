import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerProfile, profileToOci } from '../../../../src/engine/runtime/seccomp-profile';

const ctx = { capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], arch: 'x64', kernel: '6.1.0-13-amd64' };

test('Docker\'s profile format becomes linux.seccomp as moby builds it', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'always' },
      { name: 'getpid', action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['future'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '9.0' } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, excludes: { arches: ['arm64'] } },
    ],
  };
  const oci = profileToOci(JSON.stringify(profile), ctx)!;
  assert.equal(oci.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(oci.defaultErrnoRet, 1);
  assert.deepEqual(oci.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(oci.syscalls, [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW' },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW' },
    { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
  ]);
  const arm = profileToOci(JSON.stringify(profile), { capabilities: [], arch: 'arm64', kernel: '4.4.0' })!;
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(arm.syscalls.map((s) => s.names[0]), ['read', 'getpid', 'set_tls', 'clone']);
});

test('an empty profile means no filter; bad ones are 400s saying why', () => {
  assert.equal(profileToOci('{}', ctx), null);
  assert.throws(() => parseDockerProfile('{nope'), { message: /^Decoding seccomp profile failed: / });
  assert.throws(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_NOPE"}'), { message: 'Decoding seccomp profile failed: invalid defaultAction "SCMP_ACT_NOPE"' });
  assert.throws(() => parseDockerProfile('{"architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}'), /use either 'architectures' or 'archMap'/);
  assert.throws(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}'), /use either 'name' or 'names'/);
  assert.throws(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}'), /invalid args/);
  assert.throws(() => parseDockerProfile('{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock"}'), /listenerPath/);
});
