// The cgroup driver, where a container's group goes, and what the host's
// cgroups can limit, against recorded cgroupfs layouts: v1 as this
// project's hybrid host mounts it (the root files of each controller), v2
// written from the kernel's cgroup-v2 documentation (a systemd host with
// every controller, and a minimal one).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { cgroupFeatures, cgroupPaths, expandSlice, oomKilledIn, pickDriver } from '../../../../src/engine/runtime/cgroups';
import { projectRoot } from '../../../../src/util/paths';

const FIXTURES = path.join(projectRoot(), 'test', 'unit', 'engine', 'runtime', 'fixtures');

describe('the cgroup driver', () => {
  test("dockerd's pick: the option, else systemd on v2 with systemd running, else cgroupfs", () => {
    assert.equal(pickDriver(undefined, true, true), 'systemd');
    assert.equal(pickDriver(undefined, true, false), 'cgroupfs');
    assert.equal(pickDriver(undefined, false, true), 'cgroupfs');
    assert.equal(pickDriver('systemd', false, false), 'systemd');
    assert.equal(pickDriver('cgroupfs', true, true), 'cgroupfs');
    assert.throws(() => pickDriver('none', true, true), /native.cgroupdriver option none not supported/);
  });

  test('cgroupfs: /berth/<id>, or below the parent, always inside the hierarchy', () => {
    assert.deepEqual(cgroupPaths('cgroupfs', 'c1'), { runtime: '/berth/c1', group: '/berth/c1' });
    assert.deepEqual(cgroupPaths('cgroupfs', 'c1', 'my-group'), { runtime: '/my-group/c1', group: '/my-group/c1' });
    assert.deepEqual(cgroupPaths('cgroupfs', 'c1', '/a/b/'), { runtime: '/a/b/c1', group: '/a/b/c1' });
    assert.deepEqual(cgroupPaths('cgroupfs', 'c1', '../../etc'), { runtime: '/etc/c1', group: '/etc/c1' });
  });

  test('systemd: a berth-<id>.scope in system.slice or the parent slice', () => {
    assert.deepEqual(cgroupPaths('systemd', 'c1'), { runtime: 'system.slice:berth:c1', group: '/system.slice/berth-c1.scope' });
    assert.deepEqual(cgroupPaths('systemd', 'c1', 'batch-low.slice'), { runtime: 'batch-low.slice:berth:c1', group: '/batch.slice/batch-low.slice/berth-c1.scope' });
    for (const bad of ['/my-group', '.slice', 'foo', 'a/b.slice']) {
      assert.throws(() => cgroupPaths('systemd', 'c1', bad), (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument' && /should be a valid slice named as "xxx.slice"/.test(e.message), bad);
    }
    assert.equal(expandSlice('-.slice'), '');
    assert.throws(() => expandSlice('a--b.slice'), /invalid slice name/);
  });
});

describe('cgroup features', () => {
  test('v1 (this host): memory with swap accounting, cpu, cpuset, pids, throttles; no blkio weight without a weighted scheduler', () => {
    assert.deepEqual(cgroupFeatures(path.join(FIXTURES, 'cgroup-v1')), {
      version: 1, memory: true, swap: true, swappiness: true, memoryReservation: true, oomKillDisable: true, pids: true,
      cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: false, blkioWeightDevice: false, blkioThrottle: true,
    });
  });

  test('v2 with every controller: no swappiness and no OOM-killer switch (v2 has neither)', () => {
    assert.deepEqual(cgroupFeatures(path.join(FIXTURES, 'cgroup-v2')), {
      version: 2, memory: true, swap: true, swappiness: false, memoryReservation: true, oomKillDisable: false, pids: true,
      cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, blkioWeightDevice: true, blkioThrottle: true,
    });
  });

  test('v2 with only cpu, memory and pids delegated', () => {
    assert.deepEqual(cgroupFeatures(path.join(FIXTURES, 'cgroup-v2-minimal')), {
      version: 2, memory: true, swap: false, swappiness: false, memoryReservation: true, oomKillDisable: false, pids: true,
      cpuShares: true, cpuCfs: true, cpuset: false, blkioWeight: false, blkioWeightDevice: false, blkioThrottle: false,
    });
  });

  test('an OOM kill is read from memory.oom_control (v1) or memory.events (v2)', () => {
    assert.equal(oomKilledIn(path.join(FIXTURES, 'cgroup-v1'), 1, '/berth/c1'), true);
    assert.equal(oomKilledIn(path.join(FIXTURES, 'cgroup-v1'), 1, '/berth/c2'), false);
    assert.equal(oomKilledIn(path.join(FIXTURES, 'cgroup-v1'), 1, '/berth/gone'), false);
    assert.equal(oomKilledIn(path.join(FIXTURES, 'cgroup-v2'), 2, '/system.slice/berth-c1.scope'), true);
    assert.equal(oomKilledIn(path.join(FIXTURES, 'cgroup-v2'), 2, '/system.slice/berth-c2.scope'), false);
  });
});
