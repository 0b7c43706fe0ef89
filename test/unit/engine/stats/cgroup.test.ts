// The cgroup readers against recorded cgroupfs files: v1 as runc left them
// for a busybox container on this project's cgroup v1 host (after writing
// 20 MiB to /tmp), with a CFQ device sample in the kernel's format; v2
// written from the kernel's cgroup-v2 documentation.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CgroupV1, CgroupV2, cgroupReader } from '../../../../src/engine/stats/cgroup';
import { parseMemTotal, parseProcStat, readMachine } from '../../../../src/engine/stats/machine';
import { projectRoot } from '../../../../src/util/paths';

const FIXTURES = path.join(projectRoot(), 'test', 'unit', 'engine', 'stats', 'fixtures');

describe('cgroup v1', () => {
  const r = new CgroupV1(path.join(FIXTURES, 'v1'));

  test('is what a root without cgroup.controllers holds', () => {
    assert.equal(cgroupReader(path.join(FIXTURES, 'v1')).version, 1);
  });

  test('reads CPU, memory, pids and block I/O of a recorded container', async () => {
    const s = await r.read('/berth/c1');
    assert.deepEqual(s.cpu, {
      totalNs: 61027024,
      perCpuNs: [19734670, 41292354],
      userNs: 2 * 10_000_000,
      kernelNs: 3 * 10_000_000,
      periods: 0,
      throttledPeriods: 0,
      throttledNs: 0,
    });
    assert.equal(s.memory.usage, 22065152);
    assert.equal(s.memory.maxUsage, 23433216);
    assert.equal(s.memory.failcnt, 0);
    // 9223372036854771712: the kernel's "no limit".
    assert.equal(s.memory.limit, undefined);
    assert.equal(s.memory.stats.total_inactive_file, 19922944n);
    assert.equal(s.memory.stats.hierarchical_memory_limit, 9223372036854771712n);
    assert.deepEqual(s.pids, { current: 2, limit: undefined });
    // Only "Total 0" lines: no device did I/O through the throttle layer.
    assert.deepEqual(s.io, { serviceBytes: [], serviced: [] });
  });

  test('takes the CFQ files where they have entries, per device and op', async () => {
    const s = await r.read('/berth/c2').catch((err) => err);
    // c2 has only blkio files: the memory controller decides it is missing.
    assert.equal(s.code, 'ENOENT');
    const { blkioEntries, readV1 } = await import("../../../../src/engine/stats/v1");
    const fs = await import('node:fs/promises');
    const sample = await readV1(async (c, f) => fs.readFile(path.join(FIXTURES, 'v1', c, 'berth', c === 'blkio' ? 'c2' : 'c1', f), 'utf8'));
    assert.deepEqual(sample.io.serviceBytes.filter((e) => e.op === 'Read'), [
      { major: 8, minor: 0, op: 'Read', value: 1048576 },
      { major: 253, minor: 0, op: 'Read', value: 4096 },
    ]);
    assert.equal(sample.io.serviceBytes.length, 12);
    assert.deepEqual(sample.io.serviced.find((e) => e.op === 'Write'), { major: 8, minor: 0, op: 'Write', value: 1024 });
    assert.deepEqual(blkioEntries('Total 0\n'), []);
  });

  test('lists the pids of the group', async () => {
    assert.deepEqual(await r.procs('/berth/c1'), [27240, 28086]);
  });

  test('a group that does not exist is ENOENT', async () => {
    await assert.rejects(r.read('/berth/nope'), { code: 'ENOENT' });
    await assert.rejects(r.procs('/berth/nope'), { code: 'ENOENT' });
  });
});

describe('cgroup v2', () => {
  const r = new CgroupV2(path.join(FIXTURES, 'v2'));

  test('is what a root with cgroup.controllers is', () => {
    assert.equal(cgroupReader(path.join(FIXTURES, 'v2')).version, 2);
  });

  test('reads cpu.stat, memory.*, io.stat and pids.*', async () => {
    const s = await r.read('/berth/c1');
    assert.deepEqual(s.cpu, { totalNs: 1_500_000_000, userNs: 1_000_000_000, kernelNs: 500_000_000, periods: 10, throttledPeriods: 2, throttledNs: 3_000_000 });
    assert.equal(s.memory.usage, 52428800);
    assert.equal(s.memory.limit, 268435456);
    assert.equal(s.memory.maxUsage, undefined);
    assert.equal(s.memory.stats.inactive_file, 16777216n);
    assert.deepEqual(s.pids, { current: 3, limit: undefined });
    assert.deepEqual(s.io.serviceBytes.slice(0, 2), [
      { major: 8, minor: 16, op: 'read', value: 1459200 },
      { major: 8, minor: 16, op: 'write', value: 314773504 },
    ]);
    assert.deepEqual(s.io.serviced.slice(2), [
      { major: 8, minor: 0, op: 'read', value: 8950 },
      { major: 8, minor: 0, op: 'write', value: 1252 },
    ]);
  });

  test('lists the pids and fails with ENOENT for a missing group', async () => {
    assert.deepEqual(await r.procs('/berth/c1'), [4242, 4250]);
    await assert.rejects(r.read('/berth/nope'), { code: 'ENOENT' });
  });
});

describe('the machine', () => {
  test('system CPU time is the first seven fields of the cpu line, in ns; CPUs are the cpuN lines', async () => {
    const m = await readMachine(path.join(FIXTURES, 'proc'));
    // cpu  709632 0 267539 3880926 10784 0 4440 41751 0 0 (steal and guest not counted)
    assert.equal(m.systemCpuNs, (709632 + 0 + 267539 + 3880926 + 10784 + 0 + 4440) * 10_000_000);
    assert.equal(m.onlineCpus, 2);
    assert.equal(m.memoryBytes, 24683568 * 1024);
  });

  test('a cpu line too short is an error; no MemTotal is 0', () => {
    assert.throws(() => parseProcStat('cpu 1 2 3\n'), /cpu fields/);
    assert.equal(parseMemTotal('MemFree: 1 kB\n'), 0);
  });
});
