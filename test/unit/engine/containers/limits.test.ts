// Limits against the host: dropped with dockerd's warnings where the
// cgroups cannot apply them, refused where berthd lacks the privilege;
// applied at start, changed by update, and an OOM kill recorded at exit.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { deviceNumber, fitLimits, hasSysResource, parseProcLimits, type HostLimits } from '../../../../src/engine/containers/limits';
import type { CgroupFeatures } from '../../../../src/engine/runtime/cgroups';
import { harness, spec, type Harness } from './fakes';

const ALL: CgroupFeatures = {
  version: 1, memory: true, swap: true, swappiness: true, memoryReservation: true, oomKillDisable: true, pids: true,
  cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, blkioWeightDevice: true, blkioThrottle: true,
};
const host = (over: Partial<CgroupFeatures> = {}, sysResource = false): HostLimits => ({ cgroups: { ...ALL, ...over }, hardLimits: { nofile: 20000 }, sysResource });
const invalid = (re: RegExp) => (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument' && re.test(e.message);

describe('fitLimits', () => {
  test('keeps what the host can apply', () => {
    const l = { memory: 1 << 26, memorySwap: 1 << 27, pids: 10, cpuShares: 2, blkioWeight: 300, ulimits: [{ name: 'nofile', soft: 100, hard: 20000 }] };
    assert.deepEqual(fitLimits(l, host()), { limits: l, warnings: [] });
  });

  test("drops what it cannot, with dockerd's warnings", () => {
    const r = fitLimits({ memory: 1 << 26, memorySwap: 1 << 27, memorySwappiness: 10, blkioWeight: 300, oomKillDisable: true }, host({ swap: false, swappiness: false, blkioWeight: false, oomKillDisable: false }));
    assert.deepEqual(r.limits, { memory: 1 << 26 });
    assert.deepEqual(r.warnings, [
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
      'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
      'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    ]);
    assert.deepEqual(fitLimits({ oomKillDisable: true }, host()).warnings, ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.']);
  });

  test('a hard rlimit above the host\'s, or a negative OOM score, without CAP_SYS_RESOURCE', () => {
    assert.throws(() => fitLimits({ ulimits: [{ name: 'nofile', soft: 100, hard: 30000 }] }, host()), invalid(/ulimit nofile=100:30000: the hard limit 30000 is above this host's 20000, and berthd lacks CAP_SYS_RESOURCE/));
    assert.throws(() => fitLimits({ oomScoreAdj: -1 }, host()), invalid(/needs CAP_SYS_RESOURCE/));
    // With it, both are the runtime's to set.
    fitLimits({ ulimits: [{ name: 'nofile', soft: 100, hard: 30000 }], oomScoreAdj: -1 }, host({}, true));
  });

  test('a device that is missing or no block device', () => {
    assert.throws(() => fitLimits({ readBps: [{ path: '/dev/berth-none', rate: 1 }] }, host()), invalid(/^stat \/dev\/berth-none: no such file or directory$/));
    assert.throws(() => fitLimits({ writeIops: [{ path: '/dev/null', rate: 1 }] }, host()), invalid(/^\/dev\/null is not a block device$/));
  });

  test('the host facts: /proc/self/limits, CapEff, device numbers', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             unlimited            unlimited            processes \nMax open files            20000                20000                files     \n';
    assert.deepEqual(parseProcLimits(limits), { nofile: 20000 });
    assert.equal(hasSysResource('CapEff:\t000001fffeffffff\n'), false);
    assert.equal(hasSysResource('CapEff:\t000001ffffffffff\n'), true);
    assert.deepEqual(deviceNumber(0xfe00), { major: 254, minor: 0 });
    assert.deepEqual(deviceNumber(0x10303), { major: 259, minor: 3 });
    // glibc's split: minor 300 has bits above the low byte.
    assert.deepEqual(deviceNumber(0x10082c), { major: 8, minor: 300 });
  });
});

describe('limits through the container service', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('a start writes them into the OCI spec, under the cgroup parent', async () => {
    h = await harness({ hostLimits: host() });
    const { id, warnings } = await h.service.create(spec({ limits: { memory: 1 << 26, pids: 5, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }], shmSize: 1 << 20, cgroupParent: 'batch' } }));
    assert.deepEqual(warnings, []);
    await h.service.start(id);
    const oci = h.runtime.procs.get(id)!.spec!;
    assert.equal(oci.linux.cgroupsPath, `/batch/${id}`);
    assert.deepEqual(oci.linux.resources.memory, { limit: 1 << 26 });
    assert.deepEqual(oci.linux.resources.pids, { limit: 5 });
    assert.deepEqual(oci.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20, soft: 10 }]);
    assert.equal(h.service.get(id).cgroup, `/batch/${id}`);
  });

  test('create gives the warnings of what it dropped', async () => {
    h = await harness({ hostLimits: host({ pids: false }) });
    const { id, warnings } = await h.service.create(spec({ limits: { pids: 5 } }));
    assert.deepEqual(warnings, ['Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.']);
    assert.deepEqual(h.service.get(id).spec.limits, {});
  });

  test('update: a running container through the runtime, a stopped one at its next start; saved with the meta', async () => {
    h = await harness({ hostLimits: host() });
    const { id } = await h.service.create(spec({ limits: { memory: 1 << 26 } }));
    await h.service.start(id);
    await h.service.update(id, { memory: 1 << 27, cpuPeriod: 100000, cpuQuota: 50000 }, { note: 'new meta' });
    assert.deepEqual(h.runtime.updates.get(id), [{ memory: { limit: 1 << 27, swap: -1, reservation: -1 }, cpu: { quota: 50000, period: 100000 }, pids: { limit: -1 } }]);
    assert.deepEqual(h.service.get(id).spec.limits, { memory: 1 << 27, cpuPeriod: 100000, cpuQuota: 50000 });
    assert.deepEqual(h.service.get(id).meta, { note: 'new meta' });
    assert.equal(h.events.at(-1)!.action, 'update');
    // The exit settled, not a timer (which a loaded machine outruns).
    const exited = h.service.wait(id, 'next-exit');
    h.runtime.exit(id, 0);
    await exited;
    await h.service.update(id, { pids: 3 });
    assert.equal(h.runtime.updates.get(id)!.length, 1);
    const again = await h.restart();
    assert.deepEqual(again.get(id).spec.limits, { pids: 3 });
    await again.start(id);
    assert.deepEqual(h.runtime.procs.get(id)!.spec!.linux.resources.pids, { limit: 3 });
  });

  test('a runtime that refuses an update leaves the old limits', async () => {
    h = await harness({ hostLimits: host() });
    const { id } = await h.service.create(spec({ limits: { memory: 1 << 26 } }));
    await h.service.start(id);
    h.runtime.procs.delete(id);
    await assert.rejects(h.service.update(id, { memory: 1 << 27 }), /Cannot update container/);
    assert.deepEqual(h.service.get(id).spec.limits, { memory: 1 << 26 });
  });

  test('an exit reads whether the OOM killer ended it', async () => {
    const groups: string[] = [];
    h = await harness({ oomKilled: (g) => (groups.push(g), true) });
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    const exited = h.service.wait(id, 'next-exit');
    h.runtime.exit(id, 137);
    await exited;
    assert.equal(h.service.get(id).state.oomKilled, true);
    assert.deepEqual(groups, [`/berth/${id}`]);
    await h.service.start(id);
    assert.equal(h.service.get(id).state.oomKilled, false);
  });

  // Ends the process and waits for its exit to be handled (the die is
  // published as the waiters are told).
  const exit = async (id: string, code: number) => {
    const w = h.service.wait(id, 'next-exit');
    h.runtime.exit(id, code);
    await w;
  };
  const actions = (id: string) => h.events.filter((e) => e.id === id && ['oom', 'die', 'start'].includes(e.action)).map((e) => e.action);

  test('an OOM event of a running container is published at once, and the die does not repeat it', async () => {
    h = await harness({ oomKilled: () => true });
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    h.runtime.oom(id);
    assert.deepEqual(actions(id), ['start', 'oom']);
    // Another OOM (another process killed) is another event.
    h.runtime.oom(id);
    await exit(id, 137);
    assert.deepEqual(actions(id), ['start', 'oom', 'oom', 'die']);
    assert.equal(h.events.find((e) => e.action === 'oom')!.attributes.name, h.service.get(id).name.slice(1));
    // Stopped, a late report is not an event.
    h.runtime.oom(id);
    assert.equal(actions(id).length, 4);
  });

  test('an OOM kill seen only at the exit still sends oom before die; none without one', async () => {
    let killed = true;
    h = await harness({ oomKilled: () => killed });
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    await exit(id, 137);
    assert.deepEqual(actions(id), ['start', 'oom', 'die']);
    killed = false;
    await h.service.start(id);
    await exit(id, 0);
    assert.deepEqual(actions(id), ['start', 'oom', 'die', 'start', 'die']);
  });
});
