// OCI runtime selection: --add-runtime, --default-runtime, and crun, which
// works on cgroup v2 hosts and refuses hybrid cgroup v1 ones clearly.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { docker, importBusybox, startDaemon, type TestDaemon } from './harness';

describe('OCI runtimes', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(['--add-runtime', 'myrunc=/usr/sbin/runc', '--default-runtime', 'myrunc']);
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('runs containers with a runtime added by flag and made the default', async () => {
    const info = await docker(d, 'info', '--format', '{{.DefaultRuntime}}');
    assert.equal(info.stdout.trim(), 'myrunc');
    const r = await docker(d, 'run', '--name', 'rt', 'busybox', 'echo', 'via myrunc');
    assert.equal(r.stdout, 'via myrunc\n');
    const insp = JSON.parse((await docker(d, 'inspect', 'rt')).stdout)[0];
    assert.equal(insp.HostConfig.Runtime, 'myrunc');
    await docker(d, 'rm', 'rt');
  });

  it('selects crun per container', async () => {
    const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    const r = await docker(d, 'run', '--rm', '--runtime', 'crun', 'busybox', 'echo', 'via crun');
    if (v2) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'via crun\n');
    } else {
      // This host mounts cgroup v1 controllers beside v2: crun says so.
      assert.equal(r.code, 125);
      assert.match(r.stderr, /cgroups in hybrid mode not supported/);
    }
    assert.equal((await docker(d, 'ps', '-aq')).stdout.trim(), '', 'the failed --rm container is removed');
  });

  it('refuses an unknown runtime with 400', async () => {
    const r = await docker(d, 'run', '--rm', '--runtime', 'nosuch', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unknown or invalid runtime name: nosuch/);
  });
});
