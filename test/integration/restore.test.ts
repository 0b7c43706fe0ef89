// State survives the daemon: kill -9 berthd, start it again, and the
// containers conmon kept alive are still there and manageable.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, docker, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

describe('berthd restart', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('keeps running containers and records exits that happened while it was down', async () => {
    const long = (await docker(d, 'run', '-d', '--name', 'long', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do echo tick; sleep 0.1; done')).stdout.trim();
    const short = (await docker(d, 'run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 7')).stdout.trim();
    assert.match(long, /^[0-9a-f]{64}$/);
    const pidBefore = JSON.parse((await docker(d, 'inspect', 'long')).stdout)[0].State.Pid;

    await d.kill9();
    await sleep(1500); // `short` exits while berthd is down
    await d.restart();

    const ps = await docker(d, 'ps', '-a', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^long Up /m);
    assert.match(ps.stdout, /^short Exited \(7\) /m);
    const insp = JSON.parse((await docker(d, 'inspect', 'long')).stdout)[0];
    assert.equal(insp.State.Pid, pidBefore);
    assert.equal(JSON.parse((await docker(d, 'inspect', 'short')).stdout)[0].State.ExitCode, 7);

    // Logs written across the restart are all there.
    const logs = await docker(d, 'logs', '--tail', '3', 'long');
    assert.equal(logs.stdout, 'tick\ntick\ntick\n');

    // A container that exits after the restart is still noticed.
    const stop = await berth(d, 'stop', 'long');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse((await docker(d, 'inspect', 'long')).stdout)[0].State.ExitCode, 0);

    assert.equal((await docker(d, 'rm', 'long', 'short')).code, 0);
    for (const id of [long, short]) {
      assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(id));
      assert.ok(!fs.existsSync(path.join(d.dataRoot, 'containers', id)));
      assert.ok(!fs.existsSync(path.join(d.execRoot, 'c', id)));
    }
  });

  it('runs a container again after a restart', async () => {
    await d.restart();
    const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'again');
    assert.equal(r.stdout, 'again\n');
  });

  it('serves several daemons side by side', async () => {
    const other = await startDaemon();
    try {
      const imgs = await docker(other, 'images', '-q');
      assert.equal(imgs.stdout.trim(), '');
      await importBusybox(other, 'bb2');
      const r = await docker(other, 'run', '--rm', 'bb2', 'echo', 'second');
      assert.equal(r.stdout, 'second\n');
      // Repositories only: an image id can hold "bb2".
      assert.ok(!(await docker(d, 'images', '--format', '{{.Repository}}')).stdout.split('\n').includes('bb2'));
    } finally {
      await other.stop();
    }
  });
});
