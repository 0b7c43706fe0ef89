// pause/unpause, rename, top and wait against a real berthd with runc's
// freezer cgroup, driven by the docker CLI and dockerode.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

const freezer = (id: string) => fs.readFileSync(`/sys/fs/cgroup/freezer/berth/${id}/freezer.state`, 'utf8').trim();

describe('pause, unpause, rename, top and wait', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const run = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  it('pauses with the freezer cgroup, shows it, keeps it across a daemon restart, and unpauses', async () => {
    const id = await run('run', '-d', '--name', 'p1', 'busybox', 'sleep', '1000');
    await run('pause', 'p1');
    assert.equal(freezer(id), 'FROZEN');
    assert.equal(await run('inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'p1'), 'paused true true');
    assert.match(await run('ps', '--format', '{{.Names}} {{.Status}}'), /^p1 Up .* \(Paused\)$/m);
    assert.equal(await run('ps', '-q', '--filter', 'status=paused'), id.slice(0, 12));

    const again = await docker(d, 'pause', 'p1');
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));

    await d.restart();
    assert.equal(await run('inspect', '-f', '{{.State.Status}}', 'p1'), 'paused');
    assert.equal(freezer(id), 'FROZEN');

    await run('unpause', 'p1');
    assert.equal(freezer(id), 'THAWED');
    assert.equal(await run('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p1'), 'running false');
    const notPaused = await docker(d, 'unpause', 'p1');
    assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`));
    await run('rm', '-f', 'p1');
  });

  it('stops, kills and force-removes a paused container', async () => {
    for (const [name, cmd] of [['s1', ['stop', '-t', '1', 's1']], ['k1', ['kill', 'k1']], ['r1', ['rm', '-f', 'r1']]] as const) {
      await run('run', '-d', '--name', name, 'busybox', 'sleep', '1000');
      await run('pause', name);
      // sleep as pid 1 ignores SIGTERM: stop ends it with SIGKILL after its timeout.
      await run(...cmd);
      if (name !== 'r1') {
        assert.equal(await run('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name), 'exited 137');
        await run('rm', name);
      }
    }
    assert.equal(await run('ps', '-aq'), '');
  });

  it('refuses to pause a container that is not running (409) and answers 404 for an unknown one', async () => {
    const id = await run('create', '--name', 'c1', 'busybox', 'true');
    const r = await api(d, 'POST', '/containers/c1/pause');
    assert.equal(r.status, 409);
    assert.equal(JSON.parse(r.body).message, `container ${id} is not running`);
    assert.equal((await api(d, 'POST', '/containers/nope/pause')).status, 404);
    assert.equal((await api(d, 'POST', '/containers/nope/unpause')).status, 404);
    await run('rm', 'c1');
  });

  it('renames a running container: the old name is free, wait and the rest work under the new one', async () => {
    const id = await run('run', '-d', '--name', 'old', 'busybox', 'sleep', '1000');
    await run('rename', 'old', 'new');
    assert.equal(await run('inspect', '-f', '{{.Name}}', 'new'), '/new');
    assert.equal((await docker(d, 'inspect', 'old')).code, 1);
    // The old name can be taken again.
    await run('create', '--name', 'old', 'busybox', 'true');
    const taken = await docker(d, 'rename', 'new', 'old');
    assert.match(taken.stderr, /Conflict\. The container name "\/old" is already in use by container/);
    assert.equal((await api(d, 'POST', '/containers/new/rename?name=old')).status, 409);
    const bad = await api(d, 'POST', '/containers/new/rename?name=' + encodeURIComponent('a b'));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /Invalid container name/);
    const same = await api(d, 'POST', '/containers/new/rename?name=new');
    assert.equal(same.status, 400);
    assert.equal(JSON.parse(same.body).message, 'Renaming a container with the same name as its current name');

    // wait under the new name, every condition.
    const client = new Docker({ socketPath: d.socket });
    const c = client.getContainer('new');
    const nextExit = c.wait({ condition: 'next-exit' });
    const removed = c.wait({ condition: 'removed' });
    const notRunning = c.wait({ condition: 'not-running' });
    await run('kill', '-s', 'KILL', 'new');
    assert.equal((await nextExit).StatusCode, 137);
    assert.equal((await notRunning).StatusCode, 137);
    await run('rm', 'new');
    assert.equal((await removed).StatusCode, 137);
    assert.equal((await docker(d, 'inspect', id)).code, 1);
    await run('rm', 'old');
  });

  it('lists processes with the host ps, as docker top does, with ps options', async () => {
    const id = await run('run', '-d', '--name', 't1', 'busybox', 'sh', '-c', 'sleep 1001 & sleep 1002');
    // The container's processes, as its cgroup lists them, once both
    // sleeps run (the shell forks them after start returns).
    let procs: string[] = [];
    for (;;) {
      procs = fs.readFileSync(`/sys/fs/cgroup/pids/berth/${id}/cgroup.procs`, 'utf8').trim().split('\n').sort();
      const cmds = procs.map((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } });
      // The sleeps' own command lines: the shell's names both before it forks.
      if (cmds.includes('sleep\x001001\x00') && cmds.includes('sleep\x001002\x00')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const top = await run('top', 't1');
    const lines = top.split('\n');
    assert.match(lines[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[1]).sort(), procs);
    assert.match(top, /sleep 1001/);
    const custom = (await run('top', 't1', '-o', 'pid,user,args')).split('\n');
    assert.match(custom[0], /^PID\s+USER\s+COMMAND$/);
    assert.ok(custom.slice(1).some((l) => /^\d+\s+root\s+sleep 1002$/.test(l)), custom.join('\n'));

    // dockerode reads the same answer.
    const client = new Docker({ socketPath: d.socket });
    const t = await client.getContainer('t1').top({ ps_args: 'aux' });
    assert.equal(t.Titles[1], 'PID');
    assert.equal(t.Processes.length, procs.length);

    const bad = await api(d, 'GET', '/containers/t1/top?ps_args=' + encodeURIComponent('-o bogus'));
    assert.equal(bad.status, 500);
    assert.match(JSON.parse(bad.body).message, /^ps: .*bogus/);
    await run('rm', '-f', 't1');
    const stopped = await api(d, 'GET', '/containers/t1/top');
    assert.equal(stopped.status, 404);
    await run('create', '--name', 't2', 'busybox', 'true');
    const notRunning = await api(d, 'GET', '/containers/t2/top');
    assert.equal(notRunning.status, 409);
    assert.match(JSON.parse(notRunning.body).message, /is not running/);
    await run('rm', 't2');
    // Still serving.
    assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  });
});
