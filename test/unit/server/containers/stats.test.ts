// StatsJSON from an engine sample: the fields the docker CLI computes from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord } from '../../../../src/engine/containers/record';
import type { CgroupSample } from '../../../../src/engine/stats/cgroup';
import { statsJSON, statsText, zeroStats } from '../../../../src/server/containers/stats';
import { spec } from '../../engine/containers/fakes';

const rec = { id: 'a'.repeat(64), name: '/web', spec: spec() } as ContainerRecord;
const machine = { systemCpuNs: 5_000_000_000, onlineCpus: 2, memoryBytes: 1 << 30 };
const cgroup = (limit?: number): CgroupSample => ({
  cpu: { totalNs: 2_000_000, perCpuNs: [1_000_000, 1_000_000], userNs: 10_000_000, kernelNs: 0, periods: 0, throttledPeriods: 0, throttledNs: 0 },
  memory: { usage: 4096 * 10, maxUsage: 4096 * 20, failcnt: 0, limit, stats: { total_inactive_file: 4096n, hierarchical_memory_limit: 9223372036854771712n } },
  io: { serviceBytes: [{ major: 8, minor: 0, op: 'Read', value: 512 }], serviced: [] },
  pids: { current: 3 },
});

test('no memory limit shows the machine\'s memory; a smaller one is kept', () => {
  assert.equal(statsJSON(rec, { read: new Date(0), machine, cgroup: cgroup() }).memory_stats?.limit, 1 << 30);
  assert.equal(statsJSON(rec, { read: new Date(0), machine, cgroup: cgroup(1 << 20) }).memory_stats?.limit, 1 << 20);
  assert.equal(statsJSON(rec, { read: new Date(0), machine, cgroup: cgroup(2 ** 40) }).memory_stats?.limit, 1 << 30);
});

test('CPU, pids, block I/O and the sample before as precpu_stats', () => {
  const first = statsJSON(rec, { read: new Date(1000), machine, cgroup: cgroup() });
  assert.equal(first.preread, '0001-01-01T00:00:00Z');
  assert.equal(first.precpu_stats?.cpu_usage?.total_usage, 0);
  assert.deepEqual(first.cpu_stats?.cpu_usage, { total_usage: 2_000_000, percpu_usage: [1_000_000, 1_000_000], usage_in_kernelmode: 0, usage_in_usermode: 10_000_000 });
  assert.equal(first.cpu_stats?.system_cpu_usage, 5_000_000_000);
  assert.equal(first.cpu_stats?.online_cpus, 2);
  assert.deepEqual(first.pids_stats, { current: 3 });
  assert.deepEqual(first.blkio_stats?.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'Read', value: 512 }]);
  assert.equal(first.blkio_stats?.io_queue_recursive, null);
  // Go's omitempty: failcnt 0 is left out.
  assert.ok(!('failcnt' in first.memory_stats!));
  const second = statsJSON(rec, { read: new Date(2000), machine, cgroup: cgroup() }, { cpu: first.cpu_stats!, read: first.read! });
  assert.equal(second.preread, new Date(1000).toISOString());
  assert.deepEqual(second.precpu_stats, first.cpu_stats);
});

test('a container not running gets name, id and zeros', () => {
  const z = statsJSON(rec, { read: new Date(), machine });
  assert.deepEqual(z, zeroStats(rec));
  assert.equal(z.name, '/web');
  assert.equal(z.read, '0001-01-01T00:00:00Z');
  assert.deepEqual(z.memory_stats, {});
  assert.deepEqual(z.cpu_stats?.cpu_usage, { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 });
});

test('memory.stat values near 2^63 are written exactly', () => {
  const text = statsText(statsJSON(rec, { read: new Date(0), machine, cgroup: cgroup() }));
  assert.match(text, /"hierarchical_memory_limit":9223372036854771712[,}]/);
  assert.match(text, /"total_inactive_file":4096[,}]/);
});
