// userns-remap end to end: a berthd whose containers' root is a subordinate
// range of a test-made user (/etc/subuid, /etc/subgid lines and the user
// removed in `after`), seen from inside (the container's ids) and outside
// (the host's), with the docker CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { docker, dockerOk, importBusybox, inspectOf, ping, run, sleep, startDaemon, type TestDaemon } from './harness';

const USER = `brm${process.pid % 100000}`;
const SIZE = 65536;
let base = 0;
let d: TestDaemon;
const made: { user: boolean; files: string[] } = { user: false, files: [] };

// After every range either file lists, past the host's uids in use.
function freeBase(): number {
  let end = 200000;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    for (const l of text.split('\n')) {
      const [, s, c] = l.split(':');
      if (/^\d+$/.test(s ?? '') && /^\d+$/.test(c ?? '')) end = Math.max(end, Number(s) + Number(c));
    }
  }
  return end;
}

function dropLines(f: string): void {
  if (!fs.existsSync(f)) return;
  const kept = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${USER}:`));
  if (!kept.length && made.files.includes(f)) fs.rmSync(f);
  else fs.writeFileSync(f, kept.length ? kept.join('\n') + '\n' : '');
}

const hostIds = (pid: number) => {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(st)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(st)![1]) };
};

const mountsUnder = (dir: string) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));

// The tar's entries as `tar -tvn` lists them: owner/group and name.
async function tarOwners(tarFile: string): Promise<Map<string, string>> {
  const r = await run('tar', ['--numeric-owner', '-tvf', tarFile], process.env);
  assert.equal(r.code, 0, r.stderr);
  const out = new Map<string, string>();
  for (const l of r.stdout.trim().split('\n')) {
    const f = l.trim().split(/\s+/);
    out.set(f.slice(5).join(' ').replace(/ (->|link to) .*/, '').replace(/\/$/, ''), f[1]);
  }
  return out;
}

before(async () => {
  base = freeBase();
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/false', '--user-group', USER]);
  made.user = true;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (!fs.existsSync(f)) made.files.push(f);
    fs.appendFileSync(f, `${USER}:${base}:${SIZE}\n`);
  }
  d = await startDaemon();
  // As with dockerd, the remapped root must be able to reach the data root.
  fs.chmodSync(d.base, 0o711);
  fs.writeFileSync(path.join(d.base, 'daemon.json'), JSON.stringify({ 'userns-remap': USER }));
  await d.restart();
  await importBusybox(d);
});

after(async () => {
  try {
    if (d) await d.stop();
  } finally {
    for (const f of ['/etc/subuid', '/etc/subgid']) dropLines(f);
    if (made.user) execFileSync('userdel', [USER]);
  }
});

test('docker info lists name=userns; the daemon logs its range', async () => {
  const info = JSON.parse(await dockerOk(d, 'info', '--format', '{{json .SecurityOptions}}'));
  assert.ok(info.includes('name=userns'), JSON.stringify(info));
  assert.match(d.log(), new RegExp(`userns-remap: ${USER}:${USER}, container root is ${base}:${base}`));
});

test('root inside is the range\'s first id outside; a bind mount gets that owner', async () => {
  const dir = path.join(d.base, 'bind');
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const id = (await dockerOk(d, 'run', '-d', '-v', `${dir}:/b`, 'busybox', 'sh', '-c', 'id -u > /b/uid; sleep 600')).trim();
  try {
    const pid = (await inspectOf(d, id)).State.Pid;
    assert.deepEqual(hostIds(pid), { uid: base, gid: base });
    const deadline = Date.now() + 30000;
    while (!fs.existsSync(path.join(dir, 'uid')) || !fs.readFileSync(path.join(dir, 'uid'), 'utf8')) {
      assert.ok(Date.now() < deadline, 'the container did not write /b/uid');
      await sleep(50);
    }
    assert.equal(fs.readFileSync(path.join(dir, 'uid'), 'utf8').trim(), '0');
    const st = fs.statSync(path.join(dir, 'uid'));
    assert.equal(st.uid, base);
    assert.equal(st.gid, base);
    assert.equal((await dockerOk(d, 'exec', id, 'cat', '/proc/self/uid_map')).trim().split(/\s+/).join(' '), `0 ${base} ${SIZE}`);
    // The image's files are root's inside; hosts, hostname, resolv.conf readable and root's.
    assert.equal((await dockerOk(d, 'exec', id, 'stat', '-c', '%u:%g', '/bin/sh', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf')).trim().split('\n').join(' '), '0:0 0:0 0:0 0:0');
    assert.match(await dockerOk(d, 'exec', id, 'cat', '/etc/hosts'), /localhost/);
  } finally {
    await docker(d, 'rm', '-f', id);
  }
});

test('exec on a bridge network (default and user-defined), as root and with -u', async () => {
  await dockerOk(d, 'network', 'create', 'unet');
  const ids: string[] = [];
  try {
    for (const net of ['bridge', 'unet']) {
      const id = (await dockerOk(d, 'run', '-d', '--network', net, 'busybox', 'sleep', '600')).trim();
      ids.push(id);
      assert.equal((await dockerOk(d, 'exec', id, 'id', '-u')).trim(), '0');
      assert.equal((await dockerOk(d, 'exec', '-u', '1000:1000', id, 'id', '-u')).trim(), '1000');
      assert.match(await dockerOk(d, 'exec', id, 'ip', 'addr', 'show', 'eth0'), /inet \d+\.\d+\.\d+\.\d+/);
      const pid = (await inspectOf(d, id)).State.Pid;
      // The exec'd process is in the container's user namespace too.
      assert.equal((await dockerOk(d, 'exec', id, 'readlink', '/proc/self/ns/user')).trim(), fs.readlinkSync(`/proc/${pid}/ns/user`));
      assert.equal((await dockerOk(d, 'exec', id, 'readlink', '/proc/self/ns/net')).trim(), fs.readlinkSync(`/proc/${pid}/ns/net`));
    }
    // The second pings its own gateway.
    const gw = (await inspectOf(d, ids[1])).NetworkSettings.Networks.unet.Gateway;
    await dockerOk(d, 'exec', ids[1], 'ping', '-c', '1', '-W', '5', gw);
    // On another remapped container's network: its user namespace too, so exec enters both.
    const joined = (await dockerOk(d, 'run', '-d', '--network', `container:${ids[0]}`, 'busybox', 'sleep', '600')).trim();
    ids.push(joined);
    assert.equal((await dockerOk(d, 'exec', joined, 'id', '-u')).trim(), '0');
    const ip0 = (await inspectOf(d, ids[0])).NetworkSettings.Networks.bridge.IPAddress;
    assert.match(await dockerOk(d, 'exec', joined, 'ip', 'addr', 'show', 'eth0'), new RegExp(`inet ${ip0.replace(/\./g, '\\.')}/`));
  } finally {
    for (const id of ids) await docker(d, 'rm', '-f', id);
    await docker(d, 'network', 'rm', 'unet');
  }
});

test('a named volume is writable by the container\'s root and keeps its data', async () => {
  await dockerOk(d, 'run', '--rm', '-v', 'uvol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f && mkdir /data/sub');
  assert.equal((await dockerOk(d, 'run', '--rm', '-v', 'uvol:/data', 'busybox', 'sh', '-c', 'cat /data/f; stat -c %u /data/f /data')).trim(), 'kept\n0\n0');
  const mp = JSON.parse(await dockerOk(d, 'volume', 'inspect', 'uvol'))[0].Mountpoint;
  assert.equal(fs.statSync(path.join(mp, 'f')).uid, base);
  // Copy-up into a new volume: the image's /etc, root's inside, the range's outside.
  assert.equal((await dockerOk(d, 'run', '--rm', '-v', 'uetc:/etc', 'busybox', 'sh', '-c', 'stat -c %u /etc/passwd; touch /etc/x && echo ok')).trim(), '0\nok');
  const mp2 = JSON.parse(await dockerOk(d, 'volume', 'inspect', 'uetc'))[0].Mountpoint;
  assert.equal(fs.statSync(path.join(mp2, 'passwd')).uid, base);
  await dockerOk(d, 'volume', 'rm', 'uvol', 'uetc');
});

test('-w of a missing directory is made, owned by the user as the container sees it', async () => {
  assert.equal((await dockerOk(d, 'run', '--rm', '-w', '/missing/deep', 'busybox', 'sh', '-c', 'pwd; stat -c %u:%g .')).trim(), '/missing/deep\n0:0');
  assert.equal((await dockerOk(d, 'run', '--rm', '-u', '1000:1000', '-w', '/w2', 'busybox', 'sh', '-c', 'stat -c %u:%g .; touch f && echo ok')).trim(), '1000:1000\nok');
});

test('docker cp both ways and export show the container\'s ids, running and stopped', async () => {
  const id = (await dockerOk(d, 'run', '-d', 'busybox', 'sh', '-c', 'mkdir /x && echo a > /x/r && chown 1000:1000 /x/r; sleep 600')).trim();
  const work = fs.mkdtempSync(path.join(d.base, 'cp-'));
  try {
    const deadline = Date.now() + 30000;
    while ((await docker(d, 'exec', id, 'stat', '-c', '%u', '/x/r')).stdout.trim() !== '1000') {
      assert.ok(Date.now() < deadline, 'the container did not make /x/r');
      await sleep(50);
    }
    for (const state of ['running', 'stopped']) {
      if (state === 'stopped') await dockerOk(d, 'stop', '-t', '1', id);
      const tar = path.join(work, `x-${state}.tar`);
      // The archive as the API gives it (the CLI's extraction would not keep owners).
      execFileSync('sh', ['-c', `docker cp ${id}:/x - > ${tar}`], { env: d.env });
      const owners = await tarOwners(tar);
      assert.equal(owners.get('x/r'), '1000/1000', JSON.stringify([...owners]));
      assert.equal(owners.get('x'), '0/0', JSON.stringify([...owners]));
      // Into it: lands as the tar's ids inside.
      const src = path.join(work, `in-${state}`);
      fs.writeFileSync(src, 'in');
      fs.chownSync(src, 1234, 1234);
      await dockerOk(d, 'cp', '-a', src, `${id}:/x/`);
      // Export: the image's files are root's, the container's own too.
      const exp = path.join(work, `export-${state}.tar`);
      await dockerOk(d, 'export', '-o', exp, id);
      const e = await tarOwners(exp);
      assert.equal(e.get('bin/busybox'), '0/0', JSON.stringify([...e].slice(0, 5)));
      assert.equal(e.get('x/r'), '1000/1000');
      assert.equal(e.get(`x/in-${state}`), '1234/1234');
    }
    await dockerOk(d, 'start', id);
    assert.equal((await dockerOk(d, 'exec', id, 'stat', '-c', '%u:%g', '/x/in-running', '/x/in-stopped')).trim(), '1234:1234\n1234:1234');
  } finally {
    await docker(d, 'rm', '-f', id);
  }
});

test('a build (WORKDIR, COPY, RUN) makes layers with the container\'s ids, the same with --userns=host', async () => {
  const ctx = fs.mkdtempSync(path.join(d.base, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'f'), 'hello');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nWORKDIR /app\nCOPY f /app/f\nRUN id -u > /app/uid && stat -c %u /app/f >> /app/uid\n');
  await dockerOk(d, 'build', '-q', '-t', 'uimg', ctx);
  assert.equal((await dockerOk(d, 'run', '--rm', 'uimg', 'sh', '-c', 'cat /app/uid; stat -c %u:%g /app /app/f /app/uid')).trim(), '0\n0\n0:0\n0:0\n0:0');
  assert.equal((await dockerOk(d, 'run', '--rm', '--userns=host', 'uimg', 'stat', '-c', '%u:%g', '/app', '/app/f', '/app/uid')).trim(), '0:0\n0:0\n0:0');
  await dockerOk(d, 'rmi', 'uimg');
});

test('--userns=host runs without a user namespace; --privileged, --network host, --pid host need it', async () => {
  assert.equal((await dockerOk(d, 'run', '--rm', '--userns=host', 'busybox', 'cat', '/proc/self/uid_map')).trim().split(/\s+/).join(' '), '0 0 4294967295');
  const id = (await dockerOk(d, 'run', '-d', '--userns=host', 'busybox', 'sleep', '600')).trim();
  try {
    assert.equal(hostIds((await inspectOf(d, id)).State.Pid).uid, 0);
    assert.equal((await dockerOk(d, 'exec', id, 'id', '-u')).trim(), '0');
  } finally {
    await docker(d, 'rm', '-f', id);
  }
  const r = await docker(d, 'run', '--rm', '--privileged', 'busybox', 'true');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /privileged mode is incompatible with user namespaces\.\s+You must run the container in the host namespace when running privileged mode/);
  // As dockerd: the host's network and pid namespaces only with --userns=host.
  const net = await docker(d, 'run', '--rm', '--network', 'host', 'busybox', 'true');
  assert.match(net.stderr, /cannot share the host's network namespace when user namespaces are enabled/);
  const pid = await docker(d, 'run', '--rm', '--pid', 'host', 'busybox', 'true');
  assert.match(pid.stderr, /cannot share the host PID namespace when user namespaces are enabled/);
  assert.equal((await dockerOk(d, 'run', '--rm', '--userns=host', '--privileged', '--network', 'host', '--pid', 'host', 'busybox', 'cat', '/proc/self/uid_map')).trim().split(/\s+/).join(' '), '0 0 4294967295');
});

test('a daemon restart keeps a remapped container working; nothing is left mounted after the daemon stops', async () => {
  const id = (await dockerOk(d, 'run', '-d', 'busybox', 'sleep', '600')).trim();
  const pid = (await inspectOf(d, id)).State.Pid;
  await d.restart();
  assert.equal((await inspectOf(d, id)).State.Pid, pid);
  assert.equal((await dockerOk(d, 'exec', id, 'id', '-u')).trim(), '0');
  assert.equal((await dockerOk(d, 'run', '--rm', 'busybox', 'id', '-u')).trim(), '0');
  await dockerOk(d, 'rm', '-f', id);
  const view = path.join(d.dataRoot, `${base}.${base}`, 'overlay');
  assert.ok(mountsUnder(view).length > 0, 'the idmapped view is mounted while the daemon runs');
  // The daemon alone (not the harness's cleanup): SIGTERM, then no mount under its roots.
  const daemonPid = Number(fs.readFileSync(path.join(d.base, 'berthd.pid'), 'utf8'));
  process.kill(daemonPid, 'SIGTERM');
  const deadline = Date.now() + 30000;
  while (await ping(d.socket)) {
    assert.ok(Date.now() < deadline, 'berthd did not stop');
    await sleep(50);
  }
  while (fs.existsSync(`/proc/${daemonPid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${daemonPid}/status`, 'utf8'))) {
    assert.ok(Date.now() < deadline, 'berthd did not exit');
    await sleep(50);
  }
  assert.deepEqual(mountsUnder(d.dataRoot), []);
  // No pool with remapping: only the default bridge's anchor namespace may stay.
  assert.deepEqual(mountsUnder(d.execRoot).filter((l) => !/\/netns\/anchor-/.test(l)), []);
});

test('userns-remap "default": dockerd\'s dockremap and a 65536-id range are made (removed after, if this test made them)', async () => {
  const existed = (() => {
    try {
      execFileSync('getent', ['passwd', 'dockremap']);
      return true;
    } catch {
      return false;
    }
  })();
  const hadLines = ['/etc/subuid', '/etc/subgid'].map((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith('dockremap:')));
  const filesBefore = ['/etc/subuid', '/etc/subgid'].map((f) => fs.existsSync(f));
  const d2 = await startDaemon();
  try {
    fs.chmodSync(d2.base, 0o711);
    fs.writeFileSync(path.join(d2.base, 'daemon.json'), JSON.stringify({ 'userns-remap': 'default' }));
    await d2.restart();
    const line = fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('dockremap:'))!;
    assert.ok(line, 'a dockremap range in /etc/subuid');
    const [, start, count] = line.split(':');
    assert.equal(Number(count), 65536);
    if (!existed) assert.ok(Number(start) >= base + SIZE, `${line} after the test user's range`);
    assert.ok(fs.readFileSync('/etc/subgid', 'utf8').split('\n').some((l) => l.startsWith('dockremap:')));
    await importBusybox(d2);
    const id = (await dockerOk(d2, 'run', '-d', 'busybox', 'sleep', '600')).trim();
    assert.equal(hostIds((await inspectOf(d2, id)).State.Pid).uid, Number(start));
    assert.equal((await dockerOk(d2, 'exec', id, 'id', '-u')).trim(), '0');
    await docker(d2, 'rm', '-f', id);
  } finally {
    await d2.stop();
    ['/etc/subuid', '/etc/subgid'].forEach((f, i) => {
      if (hadLines[i] || !fs.existsSync(f)) return;
      const kept = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith('dockremap:'));
      if (!kept.length && !filesBefore[i]) fs.rmSync(f);
      else fs.writeFileSync(f, kept.length ? kept.join('\n') + '\n' : '');
    });
    if (!existed) execFileSync('userdel', ['dockremap']);
  }
});
