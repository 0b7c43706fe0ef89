// docker exec against a real berthd: the docker CLI (plain, -i with stdin,
// -it through a pty, -d, -u/-w/-e/--env-file, --privileged), dockerode,
// and the raw API for status codes. Each exec runs under conmon + runc for
// real; the isolation checks compare what the exec sees with what the
// container's own process sees.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, run, sleep, startDaemon, type TestDaemon } from './harness';

// Runs a command under `script`, so it gets a pty; `input` is written a
// piece at a time once the output shows `ready` (the shell's prompt).
function inPty(d: TestDaemon, cmd: string, steps: { waitFor: RegExp; send: string }[], timeoutMs = 30000): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let step = 0;
    const next = () => {
      while (step < steps.length && steps[step].waitFor.test(out)) {
        child.stdin.write(steps[step].send);
        step++;
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      next();
    });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pty session timed out; output so far:\n${out}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

// Splits a stdcopy stream into "fd:text" frames.
function frames(raw: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= raw.length; ) {
    const len = raw.readUInt32BE(i + 4);
    out.push(`${raw[i]}:${raw.subarray(i + 8, i + 8 + len).toString()}`);
    i += 8 + len;
  }
  return out;
}

const json = (body: string) => JSON.parse(body);

describe('docker exec', { timeout: 240_000 }, () => {
  let d: TestDaemon;
  let id: string;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    const r = await docker(d, 'run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', '-w', '/srv', 'busybox', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
  });
  after(async () => {
    await d?.stop();
  });

  it('runs a command and exits with its code, output on the right streams', async () => {
    const ok = await docker(d, 'exec', 'box', 'sh', '-c', 'echo out; echo err >&2');
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'out\n', 'err\n']);
    const three = await docker(d, 'exec', 'box', 'sh', '-c', 'exit 3');
    assert.equal(three.code, 3);
    const killed = await docker(d, 'exec', 'box', 'sh', '-c', 'kill -9 $$');
    assert.equal(killed.code, 137);
  });

  it('leaves no files of finished sessions behind (a container exec\'d into all day does not pile them up)', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
    assert.equal((await docker(d, 'exec', 'box', 'sh', '-c', 'exit 5')).code, 5);
    const left = () => [
      ...fs.readdirSync(path.join(d.execRoot, 'c', id, 'exec')),
      ...fs.readdirSync(path.join(d.execRoot, 's')).filter((n) => n.startsWith('e-')),
    ];
    for (let i = 0; left().length > 0; i++) {
      assert.ok(i < 50, `left behind: ${left().join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('takes the container\'s env and cwd, with -e, --env-file and -w over them', async () => {
    const plain = await docker(d, 'exec', 'box', 'sh', '-c', 'echo $FROM_RUN $HOME; pwd');
    assert.equal(plain.stdout, '1 /root\n/srv\n');
    const envFile = path.join(d.base, 'exec.env');
    fs.writeFileSync(envFile, 'FROM_FILE=f\n# a comment\n');
    const r = await docker(d, 'exec', '-e', 'FROM_RUN=2', '-e', 'NEW=n', '--env-file', envFile, '-w', '/tmp', 'box', 'sh', '-c', 'echo $FROM_RUN $NEW $FROM_FILE; pwd');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2 n f\n/tmp\n');
  });

  it('runs as the container\'s user unless -u, resolved in the container\'s /etc/passwd', async () => {
    assert.equal((await docker(d, 'exec', 'box', 'id')).stdout, (await docker(d, 'run', '--rm', 'busybox', 'id')).stdout);
    const nobody = await docker(d, 'exec', '-u', 'nobody', 'box', 'sh', '-c', 'id -u; id -g; echo $HOME');
    assert.equal(nobody.stdout, '65534\n65534\n/home\n');
    assert.equal((await docker(d, 'exec', '-u', '1234:5678', 'box', 'sh', '-c', 'echo $(id -u) $(id -g)')).stdout, '1234 5678\n');
    // A user the container does not have is refused at create, as dockerd does.
    const missing = await docker(d, 'exec', '-u', 'nosuchuser', 'box', 'true');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /unable to find user nosuchuser/);
    // A user added inside the container is found: the file is read from its root.
    assert.equal((await docker(d, 'exec', 'box', 'sh', '-c', 'echo "app:x:4321:4321::/app:/bin/sh" >> /etc/passwd')).code, 0);
    assert.equal((await docker(d, 'exec', '-u', 'app', 'box', 'sh', '-c', 'echo $(id -u) $HOME')).stdout, '4321 /app\n');
  });

  it('never sees the host: the container\'s pid namespace, hostname, cgroup, capabilities and seccomp', async () => {
    const sh = async (cmd: string) => (await docker(d, 'exec', 'box', 'sh', '-c', cmd)).stdout;
    assert.equal(await sh('tr "\\0" " " < /proc/1/cmdline'), 'sleep 1000 ');
    assert.equal(await sh('hostname'), `${id.slice(0, 12)}\n`);
    // The exec is in the same cgroup as the container's init.
    assert.equal(await sh('cat /proc/self/cgroup'), await sh('cat /proc/1/cgroup'));
    const caps = await sh('grep Cap /proc/self/status');
    assert.equal(caps, await sh('grep Cap /proc/1/status'));
    assert.match(caps, /CapBnd:\s+00000000a80425fb/);
    assert.match(await sh('grep Seccomp: /proc/self/status'), /Seccomp:\s+2/);
    // Not root: nothing effective, as for the container's own non-root process.
    assert.match((await docker(d, 'exec', '-u', 'nobody', 'box', 'grep', 'CapEff', '/proc/self/status')).stdout, /CapEff:\s+0000000000000000/);
  });

  it('--privileged gives every capability the daemon holds, and keeps the seccomp filter (as dockerd)', async () => {
    const own = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    const r = await docker(d, 'exec', '--privileged', 'box', 'grep', '-E', 'CapEff|CapBnd|Seccomp:', '/proc/self/status');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`CapEff:\\s+${own}`));
    assert.match(r.stdout, new RegExp(`CapBnd:\\s+${own}`));
    assert.match(r.stdout, /Seccomp:\s+2/);
  });

  it('-i passes stdin through and closes it at its end', async () => {
    const r = await run('docker', ['exec', '-i', 'box', 'sh', '-c', 'cat; echo done'], d.env, 'hi\nthere\n');
    assert.deepEqual([r.code, r.stdout], [0, 'hi\nthere\ndone\n']);
    // Without -i the process's stdin is empty.
    const no = await run('docker', ['exec', 'box', 'sh', '-c', 'cat; echo done'], d.env, 'ignored\n');
    assert.equal(no.stdout, 'done\n');
  });

  it('126 for a file that cannot be run, 127 for a missing one, and the message in the output', async () => {
    const missing = await docker(d, 'exec', 'box', 'nosuch');
    assert.equal(missing.code, 127);
    assert.match(missing.stdout, /OCI runtime exec failed: .*executable file not found in \$PATH/);
    const notExec = await docker(d, 'exec', 'box', '/etc/passwd');
    assert.equal(notExec.code, 126);
    assert.match(notExec.stdout, /permission denied/);
    // Detached, the start itself fails: a 400 with the runtime's message.
    const detached = await docker(d, 'exec', '-d', 'box', 'nosuch');
    assert.notEqual(detached.code, 0);
    assert.match(detached.stderr, /Error response from daemon: OCI runtime exec failed: .*executable file not found/);
    // The daemon is still there.
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
  });

  it('-d runs detached; the session shows in ExecIDs while it runs, and inspect has its pid and exit code', async () => {
    const before = await docker(d, 'inspect', '-f', '{{json .ExecIDs}}', 'box');
    assert.equal(before.stdout.trim(), 'null');
    const r = await docker(d, 'exec', '-d', 'box', 'sh', '-c', 'echo started > /tmp/detached; sleep 2');
    assert.deepEqual([r.code, r.stdout], [0, '']);
    const ids = JSON.parse((await docker(d, 'inspect', '-f', '{{json .ExecIDs}}', 'box')).stdout) as string[];
    assert.equal(ids.length, 1);
    const running = json((await api(d, 'GET', `/exec/${ids[0]}/json`)).body);
    assert.equal(running.Running, true);
    assert.equal(running.ExitCode, null);
    assert.equal(running.ContainerID, id);
    assert.ok(running.Pid > 0);
    assert.deepEqual(running.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'echo started > /tmp/detached; sleep 2'], privileged: false, user: '' });
    assert.equal((await docker(d, 'exec', 'box', 'cat', '/tmp/detached')).stdout, 'started\n');
    let done;
    for (let i = 0; i < 100; i++) {
      done = json((await api(d, 'GET', `/exec/${ids[0]}/json`)).body);
      if (!done.Running) break;
      await sleep(100);
    }
    assert.equal(done.Running, false);
    assert.equal(done.ExitCode, 0);
    assert.equal((await docker(d, 'inspect', '-f', '{{json .ExecIDs}}', 'box')).stdout.trim(), 'null');
    // Finished sessions stay inspectable.
    assert.equal((await api(d, 'GET', `/exec/${ids[0]}/json`)).status, 200);
  });

  it('-it gives a TTY of the client\'s size, and the exit code of the shell', async () => {
    const r = await inPty(d, 'stty rows 33 cols 101; docker exec -it box sh', [
      { waitFor: /\/srv # /, send: 'tty; stty size; echo "sum=$((40+2))"\r' },
      { waitFor: /sum=42/, send: 'exit 5\r' },
    ]);
    assert.equal(r.code, 5, r.out);
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /33 101/);
    assert.match(r.out, /sum=42/);
  });

  it('a TTY session is resized through /exec/{id}/resize', async () => {
    const created = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; stty size > /tmp/size'], Tty: true }));
    const eid = json(created.body).Id;
    assert.equal((await api(d, 'POST', `/exec/${eid}/start`, JSON.stringify({ Detach: true, Tty: true }))).status, 200);
    assert.equal((await api(d, 'POST', `/exec/${eid}/resize?h=12&w=34`)).status, 200);
    await docker(d, 'exec', 'box', 'touch', '/tmp/go');
    let size = '';
    for (let i = 0; i < 100 && !size; i++) {
      size = (await docker(d, 'exec', 'box', 'cat', '/tmp/size')).stdout;
      if (!size) await sleep(100);
    }
    assert.equal(size, '12 34\n');
    // -t without -i: a TTY, no input.
    const t = await docker(d, 'exec', '-t', 'box', 'sh', '-c', 'tty >/dev/null && echo is-a-tty');
    assert.deepEqual([t.code, t.stdout], [0, 'is-a-tty\r\n']);
  });

  it('-it: the detach keys let go of the session and the process runs on', async () => {
    // (The docker CLI spots the keys itself, says so and exits 1.)
    const r = await inPty(d, 'docker exec -it box sh -c "echo ready; sleep 30"', [{ waitFor: /ready/, send: '\x10\x11' }]);
    assert.match(r.out, /read escape sequence/);
    const ps = await docker(d, 'exec', 'box', 'ps', '-o', 'args');
    assert.match(ps.stdout, /sleep 30/);
  });

  it('into a TTY container (-t): -it gets a TTY of its own, and -i without -t closes stdin at its end', async () => {
    const tty = (await docker(d, 'run', '-dit', '--name', 'ttybox', 'busybox', 'sh')).stdout.trim();
    try {
      const r = await inPty(d, 'stty rows 21 cols 77; docker exec -it ttybox sh', [
        { waitFor: /# /, send: 'tty; stty size; echo "sum=$((40+2))"\r' },
        { waitFor: /sum=42/, send: 'exit 6\r' },
      ]);
      assert.equal(r.code, 6, r.out);
      assert.match(r.out, /\/dev\/pts\/\d+/);
      assert.match(r.out, /21 77/);
      // No TTY for the exec (the container's does not count): its stdin is
      // a pipe that ends with the client's, and the output is the process's
      // as it wrote it (no \r from a terminal).
      const cat = await run('docker', ['exec', '-i', 'ttybox', 'sh', '-c', 'cat; echo "eof seen"; [ -t 0 ] || echo not-a-tty'], d.env, 'one\ntwo\n');
      assert.deepEqual([cat.code, cat.stdout, cat.stderr], [0, 'one\ntwo\neof seen\nnot-a-tty\n', '']);
      assert.equal(json((await api(d, 'GET', `/containers/${tty}/json`)).body).State.Running, true);
    } finally {
      await docker(d, 'rm', '-f', 'ttybox');
    }
  });

  it('the daemon-side detach keys of a TTY session end its stream; the process runs on (exec_detach)', async () => {
    const detachesBefore = d.log().match(/container exec_detach [0-9a-f]{12}/g)?.length ?? 0;
    const dk = new Docker({ socketPath: d.socket });
    const exec = await dk.getContainer('box').exec({ Cmd: ['sh', '-c', 'echo ready; read x; echo never'], Tty: true, AttachStdin: true, AttachStdout: true, DetachKeys: 'ctrl-e,e' });
    const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
    let out = '';
    stream.on('data', (b: Buffer) => { out += b.toString(); });
    const ended = new Promise((r) => stream.on('end', r));
    for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(50);
    assert.match(out, /ready/);
    // dockerode does not look for the keys: the daemon does.
    stream.write('\x05');
    stream.write('e');
    await ended;
    assert.doesNotMatch(out, /never/);
    const info = await exec.inspect();
    assert.equal(info.Running, true);
    assert.equal(info.DetachKeys, Buffer.from([5, 0x65]).toString('base64'));
    assert.equal(d.log().match(/container exec_detach [0-9a-f]{12}/g)?.length, detachesBefore + 1);
    // Bad keys: dockerd's words for exec create.
    const bad = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['true'], DetachKeys: 'ctrl-P' }));
    assert.deepEqual([bad.status, json(bad.body).message], [400, 'Invalid escape keys (ctrl-P) provided']);
  });

  it('answers dockerd\'s status codes, and keeps serving', async () => {
    const unknown = 'f'.repeat(64);
    for (const [method, p] of [['GET', `/exec/${unknown}/json`], ['POST', `/exec/${unknown}/start`], ['POST', `/exec/${unknown}/resize?h=1&w=1`]]) {
      const r = await api(d, method, p, method === 'POST' && p.endsWith('start') ? '{}' : undefined);
      assert.equal(r.status, 404, `${method} ${p}`);
      assert.equal(json(r.body).message, `No such exec instance: ${unknown}`);
    }
    const noCmd = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: [] }));
    assert.deepEqual([noCmd.status, json(noCmd.body).message], [400, 'No exec command specified']);
    const unknownField = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['true'], Bogus: 1 }));
    assert.deepEqual([unknownField.status, json(unknownField.body).message], [400, 'unknown field Bogus']);
    const badKeys = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['true'], DetachKeys: 'ctrl-' }));
    assert.equal(badKeys.status, 400);
    const rel = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['true'], WorkingDir: 'rel' }));
    assert.equal(rel.status, 400);
    const noBox = await api(d, 'POST', '/containers/nosuch/exec', JSON.stringify({ Cmd: ['true'] }));
    assert.deepEqual([noBox.status, json(noBox.body).message], [404, 'No such container: nosuch']);

    // A session runs once.
    const created = json((await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['true'] }))).body).Id;
    assert.equal((await api(d, 'POST', `/exec/${created}/start`, JSON.stringify({ Detach: true }))).status, 200);
    for (let i = 0; i < 50 && json((await api(d, 'GET', `/exec/${created}/json`)).body).Running; i++) await sleep(50);
    const again = await api(d, 'POST', `/exec/${created}/start`, JSON.stringify({ Detach: true }));
    assert.deepEqual([again.status, json(again.body).message], [409, `exec command ${created} has already run`]);

    // Resizing an exec without a TTY changes nothing and is not an error (dockerd: 200).
    const plain = json((await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: ['sleep', '5'] }))).body).Id;
    await api(d, 'POST', `/exec/${plain}/start`, JSON.stringify({ Detach: true }));
    assert.equal((await api(d, 'POST', `/exec/${plain}/resize?h=10&w=20`)).status, 200);
    assert.equal((await api(d, 'POST', `/exec/${plain}/resize?h=x&w=20`)).status, 400);

    await docker(d, 'run', '-d', '--name', 'short', 'busybox', 'sleep', '1000');
    const pending = json((await api(d, 'POST', '/containers/short/exec', JSON.stringify({ Cmd: ['true'] }))).body).Id;
    assert.equal((await docker(d, 'stop', '-t', '0', 'short')).code, 0);
    // A stopped container: 409 for a new exec.
    const stopped = await docker(d, 'exec', 'short', 'true');
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /container [0-9a-f]{64} is not running/);
    // Its sessions went with its stop, as dockerd unregisters them.
    const late = await api(d, 'POST', `/exec/${pending}/start`, JSON.stringify({ Detach: true }));
    assert.deepEqual([late.status, json(late.body).message], [404, `No such exec instance: ${pending}`]);
    assert.equal((await api(d, 'GET', `/exec/${pending}/json`)).status, 404);
    assert.equal((await docker(d, 'rm', 'short')).code, 0);
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
  });

  it('publishes exec_create, exec_start and exec_die', async () => {
    await docker(d, 'exec', 'box', 'sh', '-c', 'exit 4');
    const log = d.log();
    assert.match(log, /container exec_create: sh -c exit 4 [0-9a-f]{12}/);
    assert.match(log, /container exec_start: sh -c exit 4 [0-9a-f]{12}/);
    assert.match(log, /container exec_die [0-9a-f]{12} .*exitCode=4/);
  });

  it('an exec\'s process outlives a daemon restart, and goes with its container', async () => {
    assert.equal((await docker(d, 'run', '-d', '--name', 'survivor', 'busybox', 'sleep', '1000')).code, 0);
    assert.equal((await docker(d, 'exec', '-d', 'survivor', 'sh', '-c', 'echo $$ > /tmp/pid; exec sleep 300')).code, 0);
    let pid = '';
    for (let i = 0; i < 50 && !pid; i++) {
      pid = (await docker(d, 'exec', 'survivor', 'cat', '/tmp/pid')).stdout.trim();
      if (!pid) await sleep(50);
    }
    await d.restart();
    const ps = await docker(d, 'exec', 'survivor', 'ps', '-o', 'pid,args');
    assert.match(ps.stdout, new RegExp(`^\\s*${pid}\\s+sleep 300$`, 'm'));
    assert.equal((await docker(d, 'rm', '-f', 'survivor')).code, 0);
    // Nothing of the container's sessions is left behind: no session link
    // leads nowhere (its bundle went with the container).
    const dangling = fs.readdirSync(path.join(d.execRoot, 's')).filter((l) => l.startsWith('e-') && !fs.existsSync(path.join(d.execRoot, 's', l)));
    assert.deepEqual(dangling, []);
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
  });

  it('dockerode: create, start hijacked with stdin, inspect the exit code', async () => {
    const dk = new Docker({ socketPath: d.socket });
    const c = dk.getContainer('box');
    const exec = await c.exec({ Cmd: ['sh', '-c', 'read x; echo got:$x; echo oops >&2; exit 7'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ['A=1'] });
    const stream = await exec.start({ hijack: true, stdin: true });
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.write('hello\n');
    await new Promise((r) => stream.on('end', r));
    assert.deepEqual(frames(Buffer.concat(chunks)), ['1:got:hello\n', '2:oops\n']);
    const info = await exec.inspect();
    assert.equal(info.ExitCode, 7);
    assert.equal(info.Running, false);
    assert.equal(info.OpenStdin, true);
    // Detached through dockerode.
    const bg = await c.exec({ Cmd: ['sh', '-c', 'echo bg > /tmp/bg'] });
    await bg.start({ Detach: true });
    let out = '';
    for (let i = 0; i < 50 && out !== 'bg\n'; i++) {
      out = (await docker(d, 'exec', 'box', 'cat', '/tmp/bg')).stdout;
      if (out !== 'bg\n') await sleep(50);
    }
    assert.equal(out, 'bg\n');
  });
});
