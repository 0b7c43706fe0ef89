// dockerode, the Node client many tools use, against a real berthd: the
// lifecycle, logs, lists with filters, and a refused field as an error that
// names it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { importBusybox, startDaemon, type TestDaemon } from './harness';

describe('dockerode against berthd', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  let docker: Docker;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    docker = new Docker({ socketPath: d.socket });
  });
  after(async () => {
    await d?.stop();
  });

  it('pings and reads the version', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.51');
  });

  it('runs a container through create, start, wait, logs, inspect and remove', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], Labels: { via: 'dockerode' }, name: 'node-client' });
    await c.start();
    assert.deepEqual(await c.wait(), { StatusCode: 3, Error: null });
    const raw = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    // stdcopy frames: [stream, 0, 0, 0, len32] + payload
    const frames: string[] = [];
    for (let i = 0; i < raw.length; ) {
      const len = raw.readUInt32BE(i + 4);
      frames.push(`${raw[i]}:${raw.subarray(i + 8, i + 8 + len).toString()}`);
      i += 8 + len;
    }
    assert.deepEqual(frames, ['1:out\n', '2:err\n']);
    const info = await c.inspect();
    assert.equal(info.Name, '/node-client');
    assert.equal(info.State.ExitCode, 3);
    assert.deepEqual(info.Config.Labels, { via: 'dockerode' });
    const list = await docker.listContainers({ all: true, filters: { name: ['^node-c'], label: ['via=dockerode'] } });
    assert.deepEqual(list.map((x) => x.Names), [['/node-client']]);
    await c.remove();
    assert.deepEqual(await docker.listContainers({ all: true }), []);
  });

  it('gets a refused field back as a 400 that names it, and nothing is created', async () => {
    await assert.rejects(
      docker.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 64 << 20, CpuRealtimeRuntime: 1000 } }),
      (err: any) => {
        assert.equal(err.statusCode, 400);
        assert.match(err.json?.message ?? err.message, /HostConfig\.CpuRealtimeRuntime is not supported yet/);
        return true;
      },
    );
    assert.deepEqual(await docker.listContainers({ all: true }), []);
  });
});
