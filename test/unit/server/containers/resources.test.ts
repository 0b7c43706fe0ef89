// Docker's resource fields ⇄ the engine's limits: dockerd's checks and
// messages, its defaults (swap as much again as memory), NanoCpus as a CFS
// quota, and an update's merge rules.
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { adaptHostConfig, checkHostLimits, checkResources, limitsOf, mergeUpdate, parseCpuList } from '../../../../src/server/containers/resources';

const MiB = 1 << 20;
const invalid = (msg: string) => (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument' && e.message === msg;

describe('checkResources', () => {
  test("dockerd's messages", () => {
    const n = os.cpus().length;
    const cases: [Record<string, unknown>, string][] = [
      [{ Memory: 1000 }, 'Minimum memory limit allowed is 6MB'],
      [{ Memory: 64 * MiB, MemorySwap: 32 * MiB }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [{ MemorySwap: 64 * MiB }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
      [{ MemorySwappiness: 101 }, 'Invalid value: 101, valid memory swappiness range is 0-100'],
      [{ MemoryReservation: MiB }, 'Minimum memory reservation allowed is 6MB'],
      [{ Memory: 16 * MiB, MemoryReservation: 32 * MiB }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      [{ NanoCpus: 1e9, CpuPeriod: 100000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [{ NanoCpus: 1e9, CpuQuota: 100000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
      [{ NanoCpus: (n + 1) * 1e9 }, `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`],
      [{ CpuShares: -1 }, 'invalid CPU shares (-1): value must be a positive integer'],
      [{ CpuPeriod: 999 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
      [{ CpuQuota: 999 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
      [{ CpusetCpus: '0-a' }, 'Invalid value 0-a for cpuset cpus: invalid format: 0-a'],
      [{ CpusetCpus: '2-1' }, 'Invalid value 2-1 for cpuset cpus: invalid format: 2-1'],
      [{ CpusetCpus: '0-99999999999' }, 'Invalid value 0-99999999999 for cpuset cpus: value of out range, maximum is 8192'],
      [{ CpusetCpus: String(n) }, `Requested CPUs are not available - requested ${n}, available: ${n === 1 ? '0' : `0-${n - 1}`}`],
      [{ BlkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000'],
      [{ IOMaximumIOps: 5 }, 'Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps'],
      [{ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, 'invalid ulimit type: bogus'],
      [{ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, 'ulimit soft limit must be less than or equal to hard limit: 10 > 5'],
      [{ BlkioDeviceReadBps: [{ Path: 'sda', Rate: 1 }] }, 'invalid device path "sda" in HostConfig.BlkioDeviceReadBps: it must be an absolute path'],
    ];
    for (const [r, msg] of cases) assert.throws(() => checkResources(r, false), invalid(msg), JSON.stringify(r));
    // An update may set swap alone.
    checkResources({ MemorySwap: 64 * MiB }, true);
    checkResources({ Memory: 64 * MiB, MemorySwap: -1, CpusetCpus: '0', MemorySwappiness: -1 }, false);
  });

  test('the other limit fields', () => {
    assert.throws(() => checkHostLimits({ ShmSize: -1 }), invalid('SHM size can not be less than 0'));
    assert.throws(() => checkHostLimits({ OomScoreAdj: 1001 }), invalid('Invalid value 1001, range for oom score adj is [-1000, 1000]'));
    assert.throws(() => checkHostLimits({ CgroupnsMode: 'shared' }), invalid('invalid cgroup namespace mode: shared'));
    checkHostLimits({ CgroupnsMode: 'host', OomScoreAdj: -1000, ShmSize: 0 });
  });

  test('cpuset lists', () => {
    assert.deepEqual(parseCpuList('0-2,4,3-3'), new Set([0, 1, 2, 3, 4]));
    assert.equal(parseCpuList('1,,2'), null);
  });
});

describe('limitsOf', () => {
  test('none for a HostConfig that asks for nothing', () => {
    assert.equal(limitsOf(adaptHostConfig({ Memory: 0, MemorySwappiness: -1, PidsLimit: 0, CgroupnsMode: 'private', Ulimits: [] })), undefined);
  });

  test("dockerd's defaults and spellings", () => {
    const hc = adaptHostConfig({ Memory: 64 * MiB, NanoCpus: 1.5e9, PidsLimit: -1, ShmSize: 16 * MiB, Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }], CgroupnsMode: 'host', OomKillDisable: true });
    assert.equal(hc.MemorySwap, 128 * MiB);
    assert.deepEqual(limitsOf(hc), {
      memory: 64 * MiB, memorySwap: 128 * MiB, oomKillDisable: true, cpuPeriod: 100000, cpuQuota: 150000, pids: -1,
      ulimits: [{ name: 'nofile', soft: 1, hard: 2 }], shmSize: 16 * MiB, cgroupns: 'host',
    });
    assert.equal(adaptHostConfig({}).ShmSize, 64 * MiB);
  });
});

describe('mergeUpdate', () => {
  const old = adaptHostConfig({ Memory: 64 * MiB, NanoCpus: 1e9, PidsLimit: 20, CpuShares: 0 });
  // What the docker CLI sends for `docker update -m 100m --memory-swap 200m`.
  const body = (over: Record<string, unknown>) => ({
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '',
    MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: null, RestartPolicy: { Name: '', MaximumRetryCount: 0 }, ...over,
  });

  test('a zero leaves a value as it was', () => {
    const m = mergeUpdate(body({ Memory: 100 * MiB, MemorySwap: 200 * MiB }), old, '1.50');
    assert.equal(m.Memory, 100 * MiB);
    assert.equal(m.MemorySwap, 200 * MiB);
    assert.equal(m.NanoCpus, 1e9);
    assert.equal(m.PidsLimit, 20);
    assert.equal(mergeUpdate(body({ PidsLimit: -1 }), old, '1.50').PidsLimit, 0);
    // API < 1.40 had no PidsLimit in an update.
    assert.equal(mergeUpdate(body({ PidsLimit: 5 }), old, '1.39').PidsLimit, 20);
  });

  test("dockerd's conflicts", () => {
    assert.throws(() => mergeUpdate(body({ Memory: 200 * MiB }), old, '1.50'), invalid('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'));
    assert.throws(() => mergeUpdate(body({ CpuPeriod: 50000 }), old, '1.50'), invalid('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set'));
    assert.throws(() => mergeUpdate(body({ CpuQuota: 50000 }), old, '1.50'), invalid('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set'));
    const quota = adaptHostConfig({ CpuQuota: 50000 });
    assert.throws(() => mergeUpdate(body({ NanoCpus: 1e9 }), quota, '1.50'), invalid('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set'));
    assert.throws(() => mergeUpdate(body({ Memory: 1000 }), old, '1.50'), invalid('Minimum memory limit allowed is 6MB'));
  });

  test('a restart policy with a name replaces the old one; without, it stays', () => {
    const was = { ...old, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } };
    assert.deepEqual(mergeUpdate(body({ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }), was, '1.50').RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(mergeUpdate(body({ Memory: 0 }), was, '1.50').RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.throws(() => mergeUpdate(body({ RestartPolicy: { Name: 'sometimes' } }), old, '1.50'), invalid("invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"));
    assert.throws(() => mergeUpdate(body({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }), old, '1.50'), invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'"));
  });

  test('what an update cannot change is refused by name', () => {
    assert.throws(() => mergeUpdate(body({ OomKillDisable: true }), old, '1.50'), invalid('OomKillDisable is not supported yet'));
    assert.throws(() => mergeUpdate(body({ BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1 }] }), old, '1.50'), invalid('BlkioDeviceReadBps is not supported yet'));
    assert.throws(() => mergeUpdate(body({ CpuCount: 2 }), old, '1.50'), invalid('CpuCount is not supported yet'));
    assert.throws(() => mergeUpdate(body({ Bogus: 1 }), old, '1.50'), invalid('unknown field Bogus'));
    assert.throws(() => mergeUpdate(body({ Memory: '1g' }), old, '1.50'), /cannot unmarshal string into field Memory/);
    // Zero values of them pass, as the docker CLI sends every field.
    mergeUpdate(body({ MemorySwappiness: -1, CpuCount: 0, Ulimits: [] }), old, '1.50');
  });
});
