// The engine's limits as the OCI spec's linux.resources, rlimits and
// /dev/shm option, for a start and for `runc update`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ociJSON, ociResources, ociRlimits, ociUpdate, shmSizeOption } from '../../../../src/engine/runtime/resources';
import { generateSpec } from '../../../../src/engine/runtime/spec';

const dev = (p: string) => (p === '/dev/vda' ? { major: 254, minor: 0 } : { major: 8, minor: 16 });

describe('OCI resources', () => {
  test('nothing set, nothing written', () => {
    assert.deepEqual(ociResources({}, dev), {});
    assert.equal(ociRlimits({}), undefined);
    assert.equal(shmSizeOption({}), 'size=65536k');
  });

  test('every limit in its place, devices by major:minor', () => {
    assert.deepEqual(ociResources({
      memory: 64 << 20, memorySwap: 128 << 20, memoryReservation: 32 << 20, memorySwappiness: 0, oomKillDisable: true,
      cpuShares: 512, cpuPeriod: 100000, cpuQuota: 150000, cpusetCpus: '0-1', cpusetMems: '0', pids: 20,
      blkioWeight: 300, blkioWeightDevices: [{ path: '/dev/vda', weight: 200 }], readBps: [{ path: '/dev/vda', rate: 1 << 20 }],
      writeIops: [{ path: '/dev/sdb', rate: 100 }],
    }, dev), {
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 0, disableOOMKiller: true },
      cpu: { shares: 512, quota: 150000, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 20 },
      blockIO: {
        weight: 300,
        weightDevice: [{ major: 254, minor: 0, weight: 200 }],
        throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1 << 20 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      },
    });
  });

  test('an update spells what is unset so runc clears it', () => {
    assert.deepEqual(ociUpdate({}, dev), { memory: { limit: -1, swap: -1, reservation: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } });
    assert.deepEqual(ociUpdate({ memory: 100 << 20, memorySwap: 200 << 20, cpuPeriod: 100000, cpuQuota: 50000, pids: 30 }, dev), {
      memory: { limit: 100 << 20, swap: 200 << 20, reservation: -1 },
      cpu: { quota: 50000, period: 100000 },
      pids: { limit: 30 },
    });
  });

  test('ulimits by the kernel\'s names; /dev/shm in KiB', () => {
    assert.deepEqual(ociRlimits({ ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }, { name: 'nproc', soft: 50, hard: 50 }] }), [
      { type: 'RLIMIT_NOFILE', hard: 2048, soft: 1024 }, { type: 'RLIMIT_NPROC', hard: 50, soft: 50 },
    ]);
    assert.equal(shmSizeOption({ shmSize: 16 << 20 }), 'size=16384k');
  });

  test('generateSpec writes them, the OOM score, and leaves out the cgroup namespace for host', () => {
    const input = {
      rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'h', network: 'none' as const,
      files: { hosts: '/h', hostname: '/hn', resolvConf: '/rc' }, cgroupsPath: '/berth/c1',
    };
    const plain = generateSpec(input);
    assert.equal(plain.process.rlimits, undefined);
    assert.equal(plain.process.oomScoreAdj, undefined);
    assert.ok(plain.linux.namespaces.some((n) => n.type === 'cgroup'));
    assert.deepEqual(Object.keys(plain.linux.resources), ['devices']);
    const s = generateSpec({
      ...input, resources: { memory: { limit: 1 << 26 } }, rlimits: [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 10 }], shmSize: 'size=1024k', oomScoreAdj: 500, cgroupns: 'host',
    });
    assert.deepEqual(s.linux.resources.memory, { limit: 1 << 26 });
    assert.ok(s.linux.resources.devices.length > 0);
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 10 }]);
    assert.equal(s.process.oomScoreAdj, 500);
    assert.ok(!s.linux.namespaces.some((n) => n.type === 'cgroup'));
    assert.ok(s.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('size=1024k'));
  });
});

describe('ociJSON', () => {
  test('an unlimited rlimit is RLIM_INFINITY as a uint64; the rest is JSON as it was', () => {
    const text = ociJSON({ process: { args: ['-1'], rlimits: [{ type: 'RLIMIT_CORE', hard: -1, soft: -1 }, { type: 'RLIMIT_NOFILE', hard: 10, soft: 5 }] } });
    assert.equal(text, '{"process":{"args":["-1"],"rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615},{"type":"RLIMIT_NOFILE","hard":10,"soft":5}]}}');
  });
});
