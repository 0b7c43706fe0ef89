// Faults found by a soak and crash run, each reproduced here: a daemon
// killed while containers exit or are being removed must never show a
// container running that is not, lose its exit code, or hang a later call;
// a full disk must not take the daemon down or keep it down.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, docker, importBusybox, ping, run, sleep, startDaemon, type TestDaemon } from './harness';

interface Inspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
}

async function inspectAll(d: TestDaemon): Promise<Inspect[]> {
  const ids = (await docker(d, 'ps', '-aq', '--no-trunc')).stdout.trim().split('\n').filter(Boolean);
  if (!ids.length) return [];
  const r = await docker(d, 'inspect', ...ids);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const alive = (pid: number) => {
  try {
    // A zombie is not alive: look at the state, not only at kill(pid, 0).
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

// Nothing is shown running without its process.
function assertTruthful(list: Inspect[], what: string): void {
  for (const c of list) {
    if (c.State.Running) assert.ok(c.State.Pid > 0 && alive(c.State.Pid), `${what}: ${c.Name} shown running, pid ${c.State.Pid} gone`);
  }
}

describe('faults', { timeout: 240_000 }, () => {
  describe('a daemon killed mid-exit and mid-removal', () => {
    let d: TestDaemon;
    before(async () => {
      d = await startDaemon();
      await importBusybox(d);
    });
    after(async () => {
      await d?.stop();
    });

    for (const delayMs of [350, 500, 650]) {
      it(`keeps the exit codes of containers exiting as berthd is killed (${delayMs} ms in)`, async () => {
        const names = Array.from({ length: 12 }, (_, i) => `exiting${i}`);
        const started = await Promise.all(names.map((n) => docker(d, 'run', '-d', '--name', n, 'busybox', 'sh', '-c', 'sleep 0.5; exit 7')));
        for (const r of started) assert.equal(r.code, 0, r.stderr);
        await sleep(delayMs);
        await d.kill9();
        await d.restart();
        const list = await inspectAll(d);
        assertTruthful(list, 'after restart');
        // Those still running exit soon; every one ends with its own code.
        for (let i = 0; i < 100 && (await inspectAll(d)).some((c) => c.State.Running); i++) await sleep(100);
        const settled = await inspectAll(d);
        assert.deepEqual(settled.map((c) => `${c.Name} ${c.State.Status} ${c.State.ExitCode}`).sort(), names.map((n) => `/${n} exited 7`).sort());
        const rm = await run('docker', ['rm', ...names], d.env, undefined, 20_000);
        assert.equal(rm.code, 0, rm.stderr);
      });
    }

    it('finishes or undoes a parallel rm -f cut short, and nothing hangs afterwards', async () => {
      const names = Array.from({ length: 10 }, (_, i) => `victim${i}`);
      const started = await Promise.all(names.map((n) => docker(d, 'run', '-d', '--name', n, 'busybox', 'sleep', '300')));
      for (const r of started) assert.equal(r.code, 0, r.stderr);
      const removals = names.map((n) => run('docker', ['rm', '-f', n], d.env, undefined, 20_000));
      await sleep(120);
      await d.kill9();
      await Promise.all(removals);
      await d.restart();
      const list = await inspectAll(d);
      assertTruthful(list, 'after restart');
      // Whatever is left answers stop, kill and rm at once.
      for (const c of list) {
        const name = c.Name.slice(1);
        if (c.State.Running) {
          const k = await run('docker', ['kill', name], d.env, undefined, 20_000);
          assert.equal(k.code, 0, k.stderr);
        }
        const r = await run('docker', ['rm', '-f', name], d.env, undefined, 20_000);
        assert.equal(r.code, 0, `rm -f ${name}: ${r.stderr}`);
      }
      assert.deepEqual(await inspectAll(d), []);
      assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'containers')), []);
      assert.deepEqual(fs.readdirSync(path.join(d.execRoot, 'c')), []);
      assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(path.join(d.dataRoot, 'overlay', 'containers')), 'a rootfs is still mounted');
    });

    it('settles a container whose shim died with it instead of hanging stop', async () => {
      const r = await docker(d, 'run', '-d', '--name', 'orphan', 'busybox', 'sleep', '300');
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      const conmonPid = Number(fs.readFileSync(path.join(d.execRoot, 'c', id, 'conmon.pid'), 'utf8'));
      const pid = JSON.parse((await docker(d, 'inspect', id)).stdout)[0].State.Pid;
      // Both die at once: no exit code is ever written.
      process.kill(conmonPid, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      const stop = await run('docker', ['stop', 'orphan'], d.env, undefined, 20_000);
      assert.equal(stop.code, 0, stop.stderr);
      const st = JSON.parse((await docker(d, 'inspect', id)).stdout)[0].State;
      assert.equal(st.Running, false);
      assert.equal(st.ExitCode, 255);
      assert.equal((await docker(d, 'rm', 'orphan')).code, 0);
    });
  });

  describe('a full disk', () => {
    let d: TestDaemon;
    before(async () => {
      d = await startDaemon([], { dataRootMiB: 64 });
      await importBusybox(d);
    });
    after(async () => {
      await d?.stop();
    });

    it('keeps the daemon up, restarts it, and still removes containers to free space', async () => {
      // Fills the data root from inside a container, then exits.
      // Big blocks first, then small ones and small files for the last free blocks.
      const script = 'dd if=/dev/zero of=/fill bs=1M 2>/dev/null; dd if=/dev/zero of=/fill2 bs=4k 2>/dev/null; i=0; while echo x > /f$i 2>/dev/null; do i=$((i+1)); done; exit 3';
      const fill = await docker(d, 'run', '--name', 'filler', 'busybox', 'sh', '-c', script);
      assert.equal(fill.code, 3, fill.stderr);
      const df = fs.statfsSync(d.dataRoot);
      assert.equal(df.bavail, 0, `the disk is full (${df.bavail} blocks left)`);
      assert.ok(await ping(d.socket), 'berthd answers after the disk filled');

      // Another container exits while the disk is full: its exit is not lost.
      const other = await docker(d, 'run', '-d', '--name', 'other', 'busybox', 'sh', '-c', 'sleep 1; exit 5');
      if (other.code === 0) {
        for (let i = 0; i < 50 && JSON.parse((await docker(d, 'inspect', 'other')).stdout)[0].State.Running; i++) await sleep(100);
        assert.equal(JSON.parse((await docker(d, 'inspect', 'other')).stdout)[0].State.ExitCode, 5);
      } else {
        // Creating it may fail for want of space: with a clear message, and nothing left half-made.
        assert.match(other.stderr, /no space left on device/i);
      }
      assert.ok(await ping(d.socket), 'berthd answers');

      // A restart on the full disk comes up.
      await d.restart();
      assert.ok(await ping(d.socket), 'berthd restarts on a full disk');
      const ps = await docker(d, 'ps', '-a', '--format', '{{.Names}} {{.Status}}');
      assert.match(ps.stdout, /^filler Exited \(3\)/m);
      assertTruthful(await inspectAll(d), 'after a restart on a full disk');

      // Removing the container frees the space, and containers run again.
      const rm = await docker(d, 'rm', '-f', 'filler');
      assert.equal(rm.code, 0, rm.stderr);
      await docker(d, 'rm', '-f', 'other');
      const after = fs.statfsSync(d.dataRoot);
      assert.ok(after.bavail * after.bsize > 20 << 20, 'space is back');
      const again = await docker(d, 'run', '--rm', 'busybox', 'echo', 'room');
      assert.equal(again.stdout, 'room\n', again.stderr);
      const info = await api(d, 'GET', '/info');
      assert.equal(info.status, 200);
    });
  });
});
