// OOM kills against a real berthd (cgroup v1 here): exit 137,
// State.OOMKilled, and dockerd's `oom` event before `die`; an OOM kill of a
// child while the container lives on is an `oom` event at once. docker CLI
// and berth.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, docker, dockerOk, inspectOf, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

describe('OOM kills', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const ok = (...args: string[]) => dockerOk(d, ...args);
  const inspect = (id: string) => inspectOf(d, id);
  const now = () => String(Math.floor(Date.now() / 1000));
  // The container's event actions from `since` until now, in order.
  const actions = async (name: string, since: string) => {
    const out = await ok('events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}');
    return out.split('\n').filter(Boolean);
  };

  it('a memory hog: exit 137, OOMKilled, and oom before die (docker CLI and berth)', async () => {
    for (const [cli, name] of [[docker, 'hog'], [berth, 'bhog']] as const) {
      const since = String(Number(now()) - 1);
      const r = await cli(d, 'run', '--name', name, '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'a=$(head -c 200000000 /dev/zero | tr "\\000" x); echo survived');
      assert.equal(r.code, 137, `${name}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /survived/);
      const st = (await inspect(name)).State;
      assert.equal(st.ExitCode, 137);
      assert.equal(st.OOMKilled, true);
      const seen = await actions(name, since);
      assert.equal(seen.filter((a) => a === 'oom').length >= 1, true, seen.join(' '));
      assert.ok(seen.indexOf('oom') < seen.indexOf('die'), seen.join(' '));
      assert.equal(seen.at(-1), 'die', seen.join(' '));
    }
    // No OOM, no oom event.
    const since = String(Number(now()) - 1);
    await ok('run', '--name', 'calm', '-m', '16m', 'busybox', 'true');
    assert.equal((await inspect('calm')).State.OOMKilled, false);
    assert.deepEqual((await actions('calm', since)).filter((a) => a === 'oom'), []);
    await ok('rm', 'hog', 'bhog', 'calm');
  });

  it('an OOM-killed child is an oom event while the container lives on', async () => {
    const since = String(Number(now()) - 1);
    // The hog waits a moment: an OOM in a container's first moments can come
    // before conmon listens for it (seen once in a loaded CI run); such an
    // OOM is reported at the exit (OOMKilled and `oom`, the test above).
    const id = await ok('run', '-d', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; exec sleep 100');
    try {
      const deadline = Date.now() + 30_000;
      while (!(await ok('logs', id)).includes('dd=')) {
        if (Date.now() > deadline) assert.fail('dd did not end');
        await sleep(100);
      }
      assert.match(await ok('logs', id), /dd=137/);
      let seen: string[] = [];
      while (!(seen = await actions(id, since)).includes('oom')) {
        if (Date.now() > deadline) assert.fail(`no oom event: ${seen.join(' ')}`);
        await sleep(200);
      }
      assert.equal((await inspect(id)).State.Running, true);
      assert.ok(!seen.includes('die'), seen.join(' '));
    } finally {
      await docker(d, 'rm', '-f', id);
    }
    // conmon's marker files stay in the exec root, never the daemon's working directory.
    assert.equal(fs.existsSync(path.join(process.cwd(), 'oom')), false);
  });
});
