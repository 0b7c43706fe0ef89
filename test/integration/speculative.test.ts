// The speculative create (service.ts, speculate()): right after a create,
// berthd mounts the container's root and has conmon run `runc create`, so
// that the start only lets the process run. None of it may show: the
// container is plainly "created" (Pid 0, no start event), a start much
// later, cp before the start, update, rename, rm and daemon restarts (clean
// and kill -9) all behave as without it, and nothing is left behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, importBusybox, inspectOf, run, sleep, startDaemon, type TestDaemon } from './harness';

// Polls cond until it holds or the deadline passes (no fixed sleep is a proof).
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`never: ${what}`);
}

describe('speculative create', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const said = (id: string, what: string) => d.log().includes(`speculative create of ${id.slice(0, 12)}: ${what}`);
  // The container's shim (conmon -c <id>), if one runs.
  const shim = (id: string): boolean => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('conmon')) && argv.includes(id);
    } catch {
      return false;
    }
  });
  const runtimeState = (id: string) => fs.existsSync(path.join(d.execRoot, 'runtime', 'runc', id));
  const mounted = (id: string) => fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1]?.includes(id));
  const nothingLeft = (id: string) => !shim(id) && !runtimeState(id) && !mounted(id);
  const created = async (...args: string[]) => {
    const id = await dockerOk(d, 'create', '--network', 'none', ...args);
    await until(() => said(id, 'ready'), `speculative create of ${id.slice(0, 12)} ready`);
    assert.ok(shim(id) && runtimeState(id), 'conmon and runc hold it created');
    return id;
  };

  it('docker run --rm uses it: output, exit code, events create then start', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await docker(d, 'run', '--rm', '--network', 'none', '--name', 'sp-run', 'busybox', 'sh', '-c', 'echo hi; exit 3');
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const ev = await dockerOk(d, 'events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=sp-run', '--format', '{{.Action}}');
    const actions = ev.split('\n').filter((a) => ['create', 'start', 'die', 'destroy'].includes(a));
    assert.deepEqual(actions, ['create', 'start', 'die', 'destroy']);
    assert.match(d.log(), /speculative create of [0-9a-f]{12}: used/);
  });

  it('a created container is plainly created, and is undone after its window; a much later start -a works', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await created('--name', 'sp-late', 'busybox', 'echo', 'late');
    const c = await inspectOf(d, id);
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.Pid, 0);
    assert.equal(c.State.StartedAt, '0001-01-01T00:00:00Z');
    const ps = await dockerOk(d, 'ps', '-a', '--filter', 'name=sp-late', '--format', '{{.Status}}');
    assert.equal(ps, 'Created');
    const exec = await docker(d, 'exec', 'sp-late', 'true');
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /is not running/);
    await until(() => said(id, 'undone'), 'undone after the window');
    await until(() => nothingLeft(id), 'no shim, runtime state or mount left');
    const ev = await dockerOk(d, 'events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=sp-late', '--format', '{{.Action}}');
    assert.deepEqual(ev.split('\n'), ['create']);
    assert.equal(await dockerOk(d, 'start', '-a', 'sp-late'), 'late');
    await dockerOk(d, 'rm', 'sp-late');
  });

  it('cp into a created container before its start is what the start sees', async () => {
    await created('--name', 'sp-cp', 'busybox', 'cat', '/f');
    const file = path.join(d.base, 'cpfile');
    fs.writeFileSync(file, 'copied\n');
    await dockerOk(d, 'cp', file, 'sp-cp:/f');
    assert.equal(await dockerOk(d, 'start', '-a', 'sp-cp'), 'copied');
    await dockerOk(d, 'rm', 'sp-cp');
  });

  it('update and rename of a created container apply at its start', async () => {
    const id = await created('--name', 'sp-up', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes');
    await dockerOk(d, 'update', '--memory', '64m', '--memory-swap', '128m', 'sp-up');
    await dockerOk(d, 'rename', 'sp-up', 'sp-up2');
    assert.equal(await dockerOk(d, 'start', '-a', 'sp-up2'), String(64 << 20));
    assert.equal((await inspectOf(d, id)).Name, '/sp-up2');
    await dockerOk(d, 'rm', 'sp-up2');
  });

  it('rm of a created container leaves nothing', async () => {
    const id = await created('--name', 'sp-rm', 'busybox', 'true');
    await dockerOk(d, 'rm', 'sp-rm');
    assert.ok(nothingLeft(id));
    assert.ok(!fs.existsSync(path.join(d.dataRoot, 'containers', id)));
  });

  it('attach before the start, with stdin (docker start -ai)', async () => {
    await created('-i', '--name', 'sp-in', 'busybox', 'sh', '-c', 'read x; echo got:$x');
    const r = await run('docker', ['start', '-ai', 'sp-in'], d.env, 'hello\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'got:hello\n');
    await dockerOk(d, 'rm', 'sp-in');
  });

  it('a clean daemon restart undoes it; the container starts after', async () => {
    const id = await created('--name', 'sp-stop', 'busybox', 'echo', 'after-stop');
    // SIGTERM: the daemon's own stop (the harness's restart kills it).
    const pid = Number(fs.readFileSync(path.join(d.base, 'berthd.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await until(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 'berthd stopped');
    assert.ok(nothingLeft(id), 'the stop left no shim, runtime state or mount');
    await d.restart();
    assert.equal((await inspectOf(d, id)).State.Status, 'created');
    assert.equal(await dockerOk(d, 'start', '-a', 'sp-stop'), 'after-stop');
    await dockerOk(d, 'rm', 'sp-stop');
  });

  it('a daemon killed with SIGKILL leaves it to the next start, which cleans it up', async () => {
    const id = await created('--name', 'sp-kill', 'busybox', 'echo', 'after-kill');
    await d.kill9();
    assert.ok(shim(id), 'the shim outlives the daemon');
    await d.restart();
    await until(() => nothingLeft(id), 'cleaned up at the start');
    assert.equal((await inspectOf(d, id)).State.Status, 'created');
    assert.equal(await dockerOk(d, 'start', '-a', 'sp-kill'), 'after-kill');
    await dockerOk(d, 'rm', 'sp-kill');
  });

  it('containers on the bridge or joining another are not speculated on, and still run', async () => {
    const id = await dockerOk(d, 'create', 'busybox', 'echo', 'bridged');
    assert.equal(await dockerOk(d, 'start', '-a', id), 'bridged');
    assert.ok(!said(id, 'ready'));
    await dockerOk(d, 'rm', id);
  });
});
