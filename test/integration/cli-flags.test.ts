// berth run/create flags against a real berthd (runc, conmon, overlayfs):
// the flags berthd applies do what docker's do, the ones it does not are
// refused before anything is created, and docker commands berth lacks say so.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { berth, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

describe('berth run flags against berthd', () => {
  let d: TestDaemon;
  const inspect = async (name: string) => {
    const r = await docker(d, 'inspect', name);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)[0];
  };
  // docker's error text as berth words it.
  const asBerth = (stderr: string) => stderr.replace(/^docker: /m, 'berth: ').replace("Run 'docker run", "Run 'berth run");
  const names = async () => (await docker(d, 'ps', '-a', '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean).sort();

  before(async () => {
    d = await startDaemon(['--add-runtime', 'myrunc=/usr/sbin/runc']);
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });
  afterEach(async () => {
    const ids = (await docker(d, 'ps', '-aq')).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(d, 'rm', '-f', ...ids);
  });

  it('mounts the root filesystem read-only with --read-only', async () => {
    const ro = await berth(d, 'run', '--rm', '--read-only', 'busybox', 'touch', '/x');
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const rw = await berth(d, 'run', '--rm', 'busybox', 'touch', '/x');
    assert.deepEqual(rw, { code: 0, stdout: '', stderr: '' });
    assert.equal((await docker(d, 'run', '--rm', '--read-only', 'busybox', 'touch', '/x')).code, ro.code);
  });

  it('stops a container with its --stop-signal', async () => {
    const r = await berth(d, 'run', '-d', '--name', 'sig', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; echo ready; while true; do sleep 0.1; done');
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 200 && !(await docker(d, 'logs', 'sig')).stdout.includes('ready'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await berth(d, 'stop', '-t', '30', 'sig')).code, 0);
    const c = await inspect('sig');
    assert.equal(c.Config.StopSignal, 'SIGUSR1');
    assert.equal(c.State.ExitCode, 42, 'the trap for SIGUSR1 ran, not a SIGKILL');
  });

  it('kills a container that ignores its stop signal after --stop-timeout', async () => {
    const r = await berth(d, 'run', '-d', '--name', 'stubborn', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done');
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 200 && !(await docker(d, 'logs', 'stubborn')).stdout.includes('ready'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await berth(d, 'stop', 'stubborn')).code, 0);
    const c = await inspect('stubborn');
    assert.equal(c.Config.StopTimeout, 1);
    assert.equal(c.State.ExitCode, 137);
  });

  it('runs a container with --runtime', async () => {
    const r = await berth(d, 'run', '--name', 'rt', '--runtime', 'myrunc', 'busybox', 'echo', 'via myrunc');
    assert.deepEqual(r, { code: 0, stdout: 'via myrunc\n', stderr: '' });
    assert.equal((await inspect('rt')).HostConfig.Runtime, 'myrunc');
    const bad = await berth(d, 'run', '--rm', '--runtime', 'nosuch', 'busybox', 'true');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^berth: Error response from daemon: .*unknown or invalid runtime name: nosuch/);
  });

  it('turns seccomp off with --security-opt seccomp=unconfined, and applies a profile file as docker sends it', async () => {
    const seccomp = async (...flags: string[]) => (await berth(d, 'run', '--rm', ...flags, 'busybox', 'grep', '^Seccomp:', '/proc/self/status')).stdout.trim();
    assert.match(await seccomp(), /^Seccomp:\s+2$/);
    assert.match(await seccomp('--security-opt', 'seccomp=unconfined'), /^Seccomp:\s+0$/);
    const file = path.join(d.base, 'profile.json');
    fs.writeFileSync(file, '{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }] }\n');
    const b = await berth(d, 'run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'mkdir', '/x');
    const k = await docker(d, 'run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'mkdir', '/x');
    assert.equal(b.code, 1);
    assert.match(b.stderr, /Operation not permitted/);
    assert.deepEqual(b, k);
  });

  it('keeps what docker keeps: domain name, exposed ports, labels, annotations, network, -a', async () => {
    const labels = path.join(d.base, 'labels');
    fs.writeFileSync(labels, 'from=file\n');
    const r = await berth(d, 'create', '--name', 'meta', '--domainname', 'example.org', '--expose', '8080', '--expose', '53/udp', '--label-file', labels,
      '-l', 'x=y', '--annotation', 'org.example/a=b', '--network', 'none', '-a', 'stdout', 'busybox', 'true');
    assert.equal(r.code, 0, r.stderr);
    const c = await inspect('meta');
    assert.equal(c.Config.Domainname, 'example.org');
    assert.deepEqual(c.Config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual({ from: c.Config.Labels.from, x: c.Config.Labels.x }, { from: 'file', x: 'y' });
    assert.deepEqual(c.HostConfig.Annotations, { 'org.example/a': 'b' });
    assert.equal(c.HostConfig.NetworkMode, 'none');
    assert.deepEqual([c.Config.AttachStdin, c.Config.AttachStdout, c.Config.AttachStderr], [false, true, false]);
    const out = await berth(d, 'run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2');
    assert.deepEqual(out, { code: 0, stdout: 'out\n', stderr: '' });
  });

  it('writes --cidfile', async () => {
    const file = path.join(d.base, 'cid');
    const r = await berth(d, 'run', '-d', '--cidfile', file, 'busybox', 'true');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(file, 'utf8'), r.stdout.trim());
    const again = await berth(d, 'create', '--cidfile', file, 'busybox', 'true');
    assert.equal(again.code, 1); // docker's runCreate: the error as it is, status 1
    assert.match(again.stderr, /container ID file found/);
    assert.equal((await docker(d, 'ps', '-aq')).stdout.trim().split('\n').length, 1);
  });

  it('pulls a missing image as docker does, unless --pull never', async () => {
    const b = await berth(d, 'run', '--rm', 'nosuchimage:v9', 'true');
    const k = await docker(d, 'run', '--rm', 'nosuchimage:v9', 'true');
    assert.equal(b.code, 125);
    assert.equal(b.code, k.code);
    assert.match(b.stderr, /^Unable to find image 'nosuchimage:v9' locally\nberth: Error response from daemon: /);
    assert.equal(b.stderr, asBerth(k.stderr));
    const never = await berth(d, 'run', '--rm', '--pull', 'never', 'nosuchimage:v9', 'true');
    assert.equal(never.code, 125);
    assert.match(never.stderr, /^berth: Error response from daemon: No such image: nosuchimage:v9\n/);
  });

  it('refuses a flag berthd does not apply, and creates nothing', async () => {
    const r = await berth(d, 'run', '--storage-opt', 'size=1g', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^`--storage-opt` is not supported by berth yet\n/);
    const long = await berth(d, 'create', '--name', 'never', '--kernel-memory=64m', '--restart', 'always', 'busybox', 'true');
    assert.equal(long.code, 125);
    assert.match(long.stderr, /^`--kernel-memory` is not supported by berth yet\n/);
    assert.deepEqual(await names(), []);
    assert.equal((await docker(d, 'ps', '-a', '-q')).stdout, '');
  });

  it('takes zero values of such flags', async () => {
    const r = await berth(d, 'run', '--rm', '--privileged=false', '--memory', '0', '--restart', 'no', '--cpus', '0', 'busybox', 'echo', 'ok');
    assert.deepEqual(r, { code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('says a docker command berth lacks is not implemented', async () => {
    assert.deepEqual(await berth(d, 'search', 'busybox'), { code: 1, stdout: '', stderr: "berth: 'search' is not implemented yet\n" });
    assert.deepEqual(await berth(d, 'secret', 'ls'), { code: 1, stdout: '', stderr: "berth: 'secret ls' is not implemented yet\n" });
    const typo = await berth(d, 'exce');
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /^berth: unknown command: berth exce\n/);
  });
});
