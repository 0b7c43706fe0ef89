// top's ps parsing and argument check, and ContainerStats over fakes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import type { ContainerRecord } from '../../../../src/engine/containers/record';
import { EventBus, type EngineEvent } from '../../../../src/engine/events/bus';
import type { CgroupReader, CgroupSample } from '../../../../src/engine/stats/cgroup';
import { ContainerStats, parsePs, validatePsArgs } from '../../../../src/engine/stats/service';
import { spec } from '../containers/fakes';

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         100       1  0 10:01 ?        00:00:00 sh -c while true; do sleep 1; done
root         101     100  0 10:01 ?        00:00:00 sleep 1
`;

describe('parsePs', () => {
  test('keeps the rows of the given pids; the last column keeps its spaces', () => {
    const out = parsePs(PS_EF, [100, 101]);
    assert.deepEqual(out.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(out.processes, [
      ['root', '100', '1', '0', '10:01', '?', '00:00:00', 'sh -c while true; do sleep 1; done'],
      ['root', '101', '100', '0', '10:01', '?', '00:00:00', 'sleep 1'],
    ]);
  });

  test('thread rows ("-" as PID) follow the process they belong to', () => {
    const out = parsePs('PID TID CMD\n7 - a\n- 7 a\n- 8 a\n9 - b\n- 9 b\n', [7]);
    assert.deepEqual(out.processes, [['7', '-', 'a'], ['-', '7', 'a'], ['-', '8', 'a']]);
  });

  test('output without a PID column is an error', () => {
    assert.throws(() => parsePs('USER CMD\nroot sh\n', [1]), /Couldn't find PID field in ps output/);
  });
});

test('ps arguments may not rename another field to PID', () => {
  assert.doesNotThrow(() => validatePsArgs('-o pid=PID,args'));
  assert.throws(() => validatePsArgs('-o ppid=PID'), /specifying "ppid=PID" is not allowed/);
});

function record(over: Partial<ContainerRecord['state']> = {}): ContainerRecord {
  return {
    id: 'c'.repeat(64), name: '/web', created: new Date().toISOString(), spec: spec({ labels: { tier: 'db' } }), restartCount: 0, conmonPid: 0,
    state: { status: 'running', pid: 100, exitCode: 0, error: '', startedAt: new Date().toISOString(), finishedAt: '', oomKilled: false, ...over },
  };
}

function stats(rec: ContainerRecord, psOut: string, procs: number[] | 'ENOENT' = [100, 101]) {
  const runs: string[][] = [];
  const events: EngineEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const cgroups: CgroupReader = {
    version: 1,
    read: async () => ({} as CgroupSample),
    procs: async (group) => {
      assert.equal(group, `/berth/${rec.id}`);
      if (procs === 'ENOENT') throw Object.assign(new Error('gone'), { code: 'ENOENT' });
      return procs;
    },
  };
  const s = new ContainerStats({
    host: { run: async (cmd, args) => { runs.push([cmd, ...args]); return { code: 0, stdout: psOut, stderr: '' }; } },
    cgroups,
    machine: async () => ({ systemCpuNs: 1, onlineCpus: 2, memoryBytes: 3 }),
    containers: { get: () => rec },
    events: bus,
  });
  return { s, runs, events };
}

describe('ContainerStats', () => {
  test('top runs the host ps with the client\'s arguments and the pids, keeps their rows and publishes "top"', async () => {
    const { s, runs, events } = stats(record(), PS_EF);
    const out = await s.top('web', '-o pid,args');
    assert.deepEqual(runs, [['ps', '-o', 'pid,args', '-q100,101']]);
    assert.equal(out.processes.length, 2);
    assert.deepEqual(events.map((e) => [e.action, e.attributes.name, e.attributes.tier]), [['top', 'web', 'db']]);
  });

  test('top defaults to -ef', async () => {
    const { s, runs } = stats(record(), PS_EF);
    await s.top('web', '');
    assert.deepEqual(runs[0], ['ps', '-ef', '-q100,101']);
  });

  test('top of a container that is not running (or whose cgroup went) is a Conflict', async () => {
    for (const [rec, procs] of [[record({ status: 'exited', pid: 0 }), [1]], [record(), 'ENOENT']] as const) {
      const { s } = stats(rec, PS_EF, procs as number[] | 'ENOENT');
      await assert.rejects(s.top('web', ''), (err: unknown) => err instanceof BerthError && err.kind === 'Conflict' && /is not running/.test(err.message));
    }
  });

  test('top of a container waiting on its restart policy is dockerd\'s Conflict', async () => {
    const { s } = stats(record({ status: 'restarting', pid: 0 }), PS_EF, [1]);
    await assert.rejects(s.top('web', ''), (err: unknown) => err instanceof BerthError && err.kind === 'Conflict' && /is restarting, wait until the container is running/.test(err.message));
  });

  test('a sample of a container that is not running has no cgroup part', async () => {
    const { s } = stats(record({ status: 'exited', pid: 0 }), '');
    const { sample } = await s.sample('web');
    assert.equal(sample.cgroup, undefined);
    assert.equal(sample.machine.onlineCpus, 2);
  });
});
