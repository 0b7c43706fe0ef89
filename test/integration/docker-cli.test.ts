// The real docker CLI against a real berthd: run, lifecycle, inspect, flags.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, importBusybox, run, sleep, startDaemon, type TestDaemon } from './harness';

describe('docker CLI against berthd', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('answers version and info', async () => {
    const v = await docker(d, 'version', '--format', '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.51 1.24 linux');
    const info = await docker(d, 'info', '--format', '{{.Driver}} {{.DockerRootDir}} {{.DefaultRuntime}}');
    assert.equal(info.code, 0, info.stderr);
    assert.equal(info.stdout.trim(), `overlay2 ${d.dataRoot} runc`);
  });

  it('lists the imported image', async () => {
    const r = await docker(d, 'images');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(lines[1], /^busybox\s+latest\s+[0-9a-f]{12}\s+.+\s+\d+(\.\d+)?MB$/);
    const q = await docker(d, 'images', '-q');
    assert.match(q.stdout.trim(), /^[0-9a-f]{12}$/);
  });

  it('runs a command and prints its output', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'hello');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
  });

  it('passes the exit code through', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.code, 3);
  });

  it('keeps stdout and stderr apart, byte for byte', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'printf "a\\nb"; printf "E1\\n" >&2; printf "no newline"');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nbno newline');
    assert.equal(r.stderr, 'E1\n');
  });

  it('logs each lifecycle action at info', async () => {
    const r = await docker(d, 'run', '--rm', '--name', 'logged', 'busybox', 'sh', '-c', 'exit 4');
    assert.equal(r.code, 4);
    // The last line may reach the log a moment after the CLI has its answer.
    const logged = () => d.log().split('\n').filter((l) => l.includes('msg="container ') && l.includes('name=logged'));
    for (let i = 0; i < 50 && !logged().some((l) => l.includes('msg="container destroy ')); i++) await sleep(100);
    const lines = logged();
    // docker run attaches before it starts; dockerd logs that as attach too.
    assert.deepEqual(lines.map((l) => /level=(\w+) msg="container (\w+) [0-9a-f]{12} /.exec(l)?.slice(1).join(' ')), ['info create', 'info attach', 'info start', 'info die', 'info destroy']);
    assert.match(lines[3], /exitCode=4/);
  });

  it('removes a --rm container after it exits', async () => {
    await docker(d, 'run', '--rm', '--name', 'gone', 'busybox', 'true');
    const r = await docker(d, 'ps', '-a', '--filter', 'name=gone', '-q');
    assert.equal(r.stdout.trim(), '');
  });

  it('mounts a --rm container\'s writable layer volatile, and keeps one restarted by hand until its next exit', { timeout: 60_000 }, async () => {
    const id = (await docker(d, 'run', '-d', '--rm', '--name', 'again', 'busybox', 'sleep', '2')).stdout.trim();
    const mount = () => fs.readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.includes(`/overlay/containers/${id}/merged`)) ?? '';
    assert.match(mount(), /(,|fsync=)volatile[,\s]/);
    // The restart mounts it again over the marker its first mount left.
    const r = await docker(d, 'restart', '-t', '0', 'again');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(d, 'inspect', '-f', '{{.State.Running}}', 'again')).stdout.trim(), 'true');
    assert.match(mount(), /(,|fsync=)volatile[,\s]/);
    // Its next exit removes it (the auto-removal of the first exit had
    // waited for the restart, and once killed the restarted process).
    const w = await docker(d, 'wait', 'again');
    assert.equal(w.code, 0, w.stderr);
    for (let i = 0; i < 100 && (await docker(d, 'ps', '-aq', '--filter', `id=${id}`)).stdout.trim() !== ''; i++) await sleep(100);
    assert.equal((await docker(d, 'ps', '-aq', '--filter', `id=${id}`)).stdout.trim(), '');
    assert.equal(mount(), '');
  });

  it('feeds stdin with -i', async () => {
    const r = await run('docker', ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], d.env, 'from stdin\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from stdin\ndone\n');
  });

  it('applies -e, --env-file, -w, -u, --hostname, --entrypoint and -l', async () => {
    const envFile = path.join(d.base, 'env.list');
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const r = await docker(d, 'run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/work/dir', '-u', 'nobody:daemon', '--hostname', 'box1', '-l', 'team=core',
      '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $FROM_FILE; pwd; id -u; id -g; hostname; echo $HOME');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1 yes\n/work/dir\n65534\n1\nbox1\n/home\n');
  });

  it('resolves numeric users that are not in /etc/passwd', async () => {
    const r = await docker(d, 'run', '--rm', '-u', '4242:4343', 'busybox', 'sh', '-c', 'id -u; id -g');
    assert.equal(r.stdout, '4242\n4343\n');
  });

  it('fails clearly for an unknown user', async () => {
    const r = await docker(d, 'run', '--rm', '-u', 'nosuchuser', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unable to find user nosuchuser/);
  });

  it('fails with 127 for a missing executable', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', '/no/such/binary');
    assert.equal(r.code, 127, r.stderr);
  });

  it('manages a detached container through its whole lifecycle', async () => {
    // pid 1 only gets signals it handles: USR1 is trapped, TERM is not.
    const SCRIPT = 'trap "exit 42" USR1; echo started; while :; do sleep 0.1; done';
    const id = (await docker(d, 'run', '-d', '--name', 'web', '-l', 'app=web', 'busybox', 'sh', '-c', SCRIPT)).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await docker(d, 'ps');
    const lines = ps.stdout.trim().split('\n');
    assert.match(lines[0], /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.ok(lines.some((l) => l.startsWith(id.slice(0, 12)) && /Up /.test(l) && l.trim().endsWith('web')), ps.stdout);
    assert.equal((await docker(d, 'ps', '-q', '--filter', 'label=app=web')).stdout.trim(), id.slice(0, 12));
    assert.equal((await docker(d, 'ps', '-q', '--filter', 'status=exited', '--filter', 'name=web')).stdout.trim(), '');

    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('started'); i++) {
      logs = (await docker(d, 'logs', 'web')).stdout;
      await sleep(50);
    }
    assert.equal(logs, 'started\n');

    const insp = JSON.parse((await docker(d, 'inspect', 'web')).stdout)[0];
    assert.equal(insp.Id, id);
    assert.equal(insp.Name, '/web');
    assert.equal(insp.Path, 'sh');
    assert.deepEqual(insp.Args, ['-c', SCRIPT]);
    assert.equal(insp.State.Status, 'running');
    assert.equal(insp.State.Running, true);
    assert.equal(insp.State.Paused, false);
    assert.ok(insp.State.Pid > 0);
    assert.ok(Date.parse(insp.State.StartedAt) > 0);
    assert.equal(insp.Config.Labels.app, 'web');
    assert.equal(insp.HostConfig.NetworkMode, 'bridge');
    assert.ok(Array.isArray(insp.Mounts));
    assert.equal(insp.GraphDriver.Name, 'overlay2');
    assert.ok(fs.existsSync(insp.GraphDriver.Data.MergedDir + '/bin/busybox'));

    // sh ignores SIGTERM as pid 1, so stop falls back to SIGKILL after -t.
    const t0 = Date.now();
    const stop = await docker(d, 'stop', '-t', '1', 'web');
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - t0 >= 900, 'stop waited for the timeout');
    const stopped = JSON.parse((await docker(d, 'inspect', 'web')).stdout)[0];
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.State.ExitCode, 137);
    assert.ok(Date.parse(stopped.State.FinishedAt) >= Date.parse(stopped.State.StartedAt));
    assert.ok((await docker(d, 'ps', '-a')).stdout.includes('Exited (137)'));
    assert.ok(!(await docker(d, 'ps')).stdout.includes('web'));

    assert.equal((await docker(d, 'start', 'web')).code, 0);
    assert.equal(JSON.parse((await docker(d, 'inspect', 'web')).stdout)[0].State.Status, 'running');
    const pid1 = JSON.parse((await docker(d, 'inspect', 'web')).stdout)[0].State.Pid;
    assert.equal((await docker(d, 'restart', '-t', '0', 'web')).code, 0);
    const pid2 = JSON.parse((await docker(d, 'inspect', 'web')).stdout)[0].State.Pid;
    assert.notEqual(pid1, pid2);

    const rmRunning = await docker(d, 'rm', 'web');
    assert.notEqual(rmRunning.code, 0);
    assert.match(rmRunning.stderr, /container is running/);

    const kill = await docker(d, 'kill', '-s', 'USR1', 'web');
    assert.equal(kill.code, 0, kill.stderr);
    const w = await docker(d, 'wait', 'web');
    assert.equal(w.stdout.trim(), '42');

    const again = await docker(d, 'start', 'web');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await docker(d, 'rm', '-f', 'web')).code, 0);
    assert.equal((await docker(d, 'ps', '-aq', '--filter', `id=${id}`)).stdout.trim(), '');
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(id), 'rootfs unmounted');
    assert.ok(!fs.existsSync(path.join(d.dataRoot, 'containers', id)));
    assert.ok(!fs.existsSync(path.join(d.execRoot, 'c', id)));
    assert.ok(!fs.existsSync(path.join(d.execRoot, 'runtime', 'runc', id)));
  });

  it('follows logs until the container exits, and waits for its code', async () => {
    await docker(d, 'run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2; exit 4');
    const f = await docker(d, 'logs', '-f', 'counter');
    assert.equal(f.stdout, 'line1\nline2\nline3\n');
    assert.equal(f.stderr, 'bye\n');
    assert.equal((await docker(d, 'wait', 'counter')).stdout.trim(), '4');
    // The last line of both streams together is stderr's.
    const tail = await docker(d, 'logs', '--tail', '2', '-t', 'counter');
    assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line3\n$/);
    assert.match(tail.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z bye\n$/);
    await docker(d, 'rm', 'counter');
  });

  it('puts a container on the default bridge, only loopback with --network none, and the host network with --network host', async () => {
    const bridged = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net');
    assert.deepEqual(bridged.stdout.trim().split('\n').sort(), ['eth0', 'lo']);
    const none = await docker(d, 'run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net');
    assert.equal(none.stdout.trim(), 'lo');
    const host = await docker(d, 'run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net | wc -l');
    assert.ok(Number(host.stdout.trim()) > 1, host.stdout);
  });

  it('applies Docker default isolation: capabilities, masked and read-only paths', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; cat /proc/kcore | wc -c; touch /proc/sys/x 2>&1; echo $?; touch /sys/x 2>/dev/null; echo $?');
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[1], '0'); // masked: /dev/null bound over /proc/kcore
    assert.equal(lines[lines.length - 1], '1'); // /sys is read-only
  });

  it('applies the default seccomp profile, and none with seccomp=unconfined', async () => {
    const confined = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; unshare -U true 2>&1; echo rc=$?');
    assert.match(confined.stdout, /Seccomp:\s+2/);
    assert.match(confined.stdout, /Operation not permitted/);
    assert.match(confined.stdout, /rc=1/);
    const free = await docker(d, 'run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; unshare -U true; echo rc=$?');
    assert.match(free.stdout, /Seccomp:\s+0/);
    assert.match(free.stdout, /rc=0/);
    const bad = await docker(d, 'run', '--rm', '--security-opt', 'seccomp=/no/such/profile.json', 'busybox', 'true');
    assert.notEqual(bad.code, 0);
  });
});
