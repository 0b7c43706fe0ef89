// Resource limits against a real berthd, each proved from inside the
// container (its cgroup files, as its private cgroup namespace shows them,
// and behaviour: an OOM kill, a fork bomb stopped, ulimit, df) or from the
// host's cgroupfs, with the docker CLI, berth and dockerode. cgroup v1 here.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, berth, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

const MiB = 1024 * 1024;
const hostCg = (controller: string, group: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${controller}/${group}/${file}`, 'utf8').trim();
const PARENT = `bt-limits-${process.pid}`;

describe('resource limits', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
    // runc removes a container's group, not the parent it made for it.
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'devices', 'freezer', 'systemd']) {
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${c}/${PARENT}`);
      } catch {
        // not made in that hierarchy
      }
    }
  });

  const ok = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const fails = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
    return r.stderr.trim();
  };
  const inspect = async (id: string) => JSON.parse(await ok('inspect', id))[0];

  it('docker info says what the host\'s cgroups can limit, and the driver', async () => {
    const info = JSON.parse(await ok('info', '--format', '{{json .}}'));
    assert.equal(info.CgroupDriver, 'cgroupfs');
    assert.equal(info.CgroupVersion, fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1');
    assert.equal(info.MemoryLimit, true);
    assert.equal(info.SwapLimit, fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'));
    assert.equal(info.PidsLimit, true);
    assert.equal(info.CpuCfsQuota, true);
  });

  it('memory, cpu and pids limits are the cgroup files the container sees', async () => {
    const files = [
      'memory/memory.limit_in_bytes', 'memory/memory.memsw.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'memory/memory.swappiness',
      'memory/memory.oom_control', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpu/cpu.shares', 'cpuset/cpuset.cpus', 'pids/pids.max',
    ].map((f) => `/sys/fs/cgroup/${f}`);
    const out = await ok('run', '--rm', '-m', '64m', '--memory-reservation', '32m', '--memory-swappiness', '10', '--oom-kill-disable',
      '--cpus', '1.5', '-c', '512', '--cpuset-cpus', '1', '--pids-limit', '20', 'busybox', 'sh', '-c', `for f in ${files.join(' ')}; do echo "$f: $(cat $f | tr '\\n' ' ')"; done`);
    const got = Object.fromEntries(out.split('\n').map((l) => [l.slice('/sys/fs/cgroup/'.length, l.indexOf(':')), l.slice(l.indexOf(':') + 2).trim()]));
    assert.equal(got['memory/memory.limit_in_bytes'], String(64 * MiB));
    // Swap defaults to as much again, as in Docker.
    assert.equal(got['memory/memory.memsw.limit_in_bytes'], String(128 * MiB));
    assert.equal(got['memory/memory.soft_limit_in_bytes'], String(32 * MiB));
    assert.equal(got['memory/memory.swappiness'], '10');
    assert.match(got['memory/memory.oom_control'], /oom_kill_disable 1/);
    assert.equal(got['cpu/cpu.cfs_quota_us'], '150000');
    assert.equal(got['cpu/cpu.cfs_period_us'], '100000');
    assert.equal(got['cpu/cpu.shares'], '512');
    assert.equal(got['cpuset/cpuset.cpus'], '1');
    assert.equal(got['pids/pids.max'], '20');
  });

  it('inspect shows the limits in HostConfig as docker does', async () => {
    const id = await ok('create', '-m', '64m', '--cpus', '0.5', '--pids-limit', '7', '--shm-size', '8m', '--ulimit', 'nofile=100:200', '--cpuset-cpus', '0', 'busybox', 'true');
    const hc = (await inspect(id)).HostConfig;
    assert.equal(hc.Memory, 64 * MiB);
    assert.equal(hc.MemorySwap, 128 * MiB);
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.PidsLimit, 7);
    assert.equal(hc.ShmSize, 8 * MiB);
    assert.equal(hc.CpusetCpus, '0');
    assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Hard: 200, Soft: 100 }]);
    const plain = (await inspect(await ok('create', 'busybox', 'true'))).HostConfig;
    assert.equal(plain.Memory, 0);
    assert.equal(plain.ShmSize, 64 * MiB);
  });

  it('a memory hog is OOM-killed: exit 137 and State.OOMKilled', async () => {
    const r = await docker(d, 'run', '--name', 'hog', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\000" a); echo survived');
    assert.equal(r.code, 137, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /survived/);
    const st = (await inspect('hog')).State;
    assert.equal(st.ExitCode, 137);
    assert.equal(st.OOMKilled, true);
    // A plain exit is no OOM kill.
    await ok('run', '--name', 'calm', '-m', '8m', 'busybox', 'true');
    assert.equal((await inspect('calm')).State.OOMKilled, false);
  });

  it('a fork bomb stops at the pids limit', async () => {
    const id = await ok('run', '-d', '--pids-limit', '8', 'busybox', 'sleep', '300');
    // The bomb's shell dies at the first fork the limit refuses.
    const r = await docker(d, 'exec', id, 'sh', '-c', 'while true; do sleep 300 & done');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /can't fork/);
    assert.equal(hostCg('pids', `berth/${id}`, 'pids.max'), '8');
    assert.ok(Number(hostCg('pids', `berth/${id}`, 'pids.current')) <= 8);
    // The kernel counted the forks it refused.
    assert.match(hostCg('pids', `berth/${id}`, 'pids.events'), /^max [1-9]\d*$/);
    await ok('rm', '-f', id);
  });

  it('--ulimit sets the rlimit; one above the host\'s hard limit is a clear 400', async () => {
    assert.equal(await ok('run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn'), '1024\n2048');
    // -1 is unlimited (RLIM_INFINITY), where the host's hard limit is too.
    assert.equal(await ok('run', '--rm', '--ulimit', 'core=-1', 'busybox', 'sh', '-c', 'ulimit -c; ulimit -Hc'), 'unlimited\nunlimited');
    const err = await fails('run', '--rm', '--ulimit', 'nofile=30000:30000', 'busybox', 'true');
    assert.match(err, /ulimit nofile=30000:30000: the hard limit 30000 is above this host's 20000, and berthd lacks CAP_SYS_RESOURCE/);
    const r = await api(d, 'POST', '/v1.51/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 30000, Hard: 30000 }] } }), { 'Content-Type': 'application/json' });
    assert.equal(r.status, 400);
    const bad = await api(d, 'POST', '/v1.51/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] } }), { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'invalid ulimit type: bogus');
  });

  it('--shm-size sizes /dev/shm', async () => {
    const out = await ok('run', '--rm', '--shm-size', '16m', 'busybox', 'df', '-k', '/dev/shm');
    assert.match(out.split('\n')[1], /^shm\s+16384\s/);
    const dflt = await ok('run', '--rm', 'busybox', 'df', '-k', '/dev/shm');
    assert.match(dflt.split('\n')[1], /^shm\s+65536\s/);
  });

  it('--oom-score-adj: a positive value is set; a negative one is refused, as berthd cannot lower it here', async () => {
    assert.equal(await ok('run', '--rm', '--oom-score-adj', '500', 'busybox', 'cat', '/proc/self/oom_score_adj'), '500');
    const err = await fails('run', '--rm', '--oom-score-adj', '-500', 'busybox', 'true');
    assert.match(err, /oom score adj -500: a negative value needs CAP_SYS_RESOURCE/);
  });

  it('--cgroupns host shows the host\'s cgroup paths; --cgroup-parent places the group', async () => {
    const own = await ok('run', '--rm', 'busybox', 'grep', 'memory', '/proc/self/cgroup');
    assert.match(own, /:memory:\/$/m);
    const host = await ok('run', '--rm', '--cgroupns', 'host', 'busybox', 'grep', 'memory', '/proc/self/cgroup');
    assert.match(host, /:memory:\/berth\/[0-9a-f]{64}$/m);
    const id = await ok('run', '-d', '--cgroup-parent', PARENT, '-m', '32m', 'busybox', 'sleep', '300');
    assert.equal(hostCg('memory', `${PARENT}/${id}`, 'memory.limit_in_bytes'), String(32 * MiB));
    // Stats follow it there.
    assert.match(await ok('stats', '--no-stream', '--format', '{{.MemUsage}}', id), /\/ 32MiB$/);
    await ok('rm', '-f', id);
  });

  it('block I/O throttles are the blkio files of the container; a weight this kernel lacks is dropped with dockerd\'s warning', async () => {
    const dev = fs.existsSync('/dev/vda') ? '/dev/vda' : undefined;
    assert.ok(dev, 'this test needs /dev/vda');
    const st = fs.statSync(dev);
    const majmin = `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
    const out = await ok('run', '--rm', '--device-read-bps', `${dev}:1mb`, '--device-write-iops', `${dev}:100`, 'busybox', 'cat',
      '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device', '/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device');
    assert.equal(out, `${majmin} 1048576\n${majmin} 100`);
    const weightFile = fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight') || fs.existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight');
    const r = await docker(d, 'create', '--blkio-weight', '300', 'busybox', 'true');
    assert.equal(r.code, 0, r.stderr);
    if (weightFile) assert.doesNotMatch(r.stderr, /Block I\/O weight/);
    else assert.match(r.stderr, /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted. Weight discarded./);
    assert.match(await fails('run', '--rm', '--device-read-bps', '/dev/nonexistent:1mb', 'busybox', 'true'), /stat \/dev\/nonexistent: no such file or directory/);
  });

  it('docker update changes a running container\'s cgroup, inspect and stats keep up, and a restart keeps the new limits', async () => {
    const id = await ok('run', '-d', '-m', '64m', '--cpus', '1', '--pids-limit', '50', 'busybox', 'sleep', '300');
    assert.match(await ok('stats', '--no-stream', '--format', '{{.MemUsage}}', id), /\/ 64MiB$/);
    await ok('update', '-m', '100m', '--memory-swap', '200m', '--cpus', '0.5', '--pids-limit', '30', id);
    const inside = await ok('exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/pids/pids.max');
    assert.equal(inside, `${100 * MiB}\n${200 * MiB}\n50000\n30`);
    assert.match(await ok('stats', '--no-stream', '--format', '{{.MemUsage}}', id), /\/ 100MiB$/);
    const hc = (await inspect(id)).HostConfig;
    assert.equal(hc.Memory, 100 * MiB);
    assert.equal(hc.MemorySwap, 200 * MiB);
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.PidsLimit, 30);
    // Unlimited pids again.
    await ok('update', '--pids-limit', '-1', id);
    assert.equal(hostCg('pids', `berth/${id}`, 'pids.max'), 'max');
    // A paused container's cgroup changes too, and it stays paused.
    await ok('pause', id);
    await ok('update', '-c', '256', id);
    assert.equal(hostCg('cpu', `berth/${id}`, 'cpu.shares'), '256');
    assert.equal((await inspect(id)).State.Status, 'paused');
    await ok('unpause', id);
    await ok('restart', '-t', '0', id);
    assert.equal(await ok('exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), `${100 * MiB}\n50000`);
    // dockerd's merge rules: a memory above the swap already set needs a new swap.
    assert.match(await fails('update', '-m', '300m', id), /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    assert.match(await fails('update', '--cpu-period', '50000', id), /Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set/);
    assert.match(await fails('update', '--restart', 'always:1', id), /invalid restart policy: maximum retry count can only be used with 'on-failure'/);
    await ok('rm', '-f', id);
  });

  it('a stopped container\'s update applies at its next start', async () => {
    const id = await ok('create', 'busybox', 'cat', '/sys/fs/cgroup/pids/pids.max');
    await ok('update', '--pids-limit', '12', id);
    assert.equal(await ok('start', '-a', id), '12');
  });

  it('bad values get dockerd\'s 400 messages', async () => {
    const cases: [string[], string][] = [
      [['-m', '1m'], 'Minimum memory limit allowed is 6MB'],
      [['-m', '64m', '--memory-swap', '32m'], 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [['--memory-swap', '64m'], 'You should always set the Memory limit when using Memoryswap limit, see usage'],
      [['--memory-reservation', '1m'], 'Minimum memory reservation allowed is 6MB'],
      [['-m', '16m', '--memory-reservation', '32m'], 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      [['--cpus', '64'], `range of CPUs is from 0.01 to ${(await import('node:os')).cpus().length}.00, as there are only ${(await import('node:os')).cpus().length} CPUs available`],
      [['--cpus', '1', '--cpu-period', '50000'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [['--cpu-period', '100'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
      [['--cpu-quota', '100'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
      [['--cpuset-cpus', '99'], 'Requested CPUs are not available - requested 99, available: 0-'],
      [['--cpuset-cpus', '1-a'], 'Invalid value 1-a for cpuset cpus: invalid format: 1-a'],
      [['--oom-score-adj', '2000'], 'Invalid value 2000, range for oom score adj is [-1000, 1000]'],
    ];
    for (const [flags, msg] of cases) {
      const err = await fails('create', ...flags, 'busybox', 'true');
      assert.ok(err.includes(`Error response from daemon: ${msg}`), `${flags.join(' ')}: ${err}`);
    }
    const r = await api(d, 'POST', '/v1.51/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Memory: 1000 } }), { 'Content-Type': 'application/json' });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { message: 'Minimum memory limit allowed is 6MB' });
    const upd = await api(d, 'POST', `/v1.51/containers/${await ok('create', 'busybox', 'true')}/update`, JSON.stringify({ Memory: 1000 }), { 'Content-Type': 'application/json' });
    assert.equal(upd.status, 400);
    assert.deepEqual(JSON.parse(upd.body), { message: 'Minimum memory limit allowed is 6MB' });
    const none = await api(d, 'POST', '/v1.51/containers/nope/update', '{}', { 'Content-Type': 'application/json' });
    assert.equal(none.status, 404);
  });

  it('dockerode: create with limits, update, and the limits inside', async () => {
    const client = new Docker({ socketPath: d.socket });
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { Memory: 48 * MiB, CpuShares: 256, PidsLimit: 40 } });
    await c.start();
    const read = async (file: string) => {
      const ex = await c.exec({ Cmd: ['cat', file], AttachStdout: true });
      const stream = await ex.start({ Detach: false, Tty: true } as Docker.ExecStartOptions);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString().trim();
    };
    assert.equal(await read('/sys/fs/cgroup/memory/memory.limit_in_bytes'), String(48 * MiB));
    assert.equal(await read('/sys/fs/cgroup/cpu/cpu.shares'), '256');
    const res = await c.update({ Memory: 80 * MiB, MemorySwap: 160 * MiB, CpuShares: 1024 });
    assert.deepEqual(res, { Warnings: [] });
    assert.equal(await read('/sys/fs/cgroup/memory/memory.limit_in_bytes'), String(80 * MiB));
    assert.equal(await read('/sys/fs/cgroup/cpu/cpu.shares'), '1024');
    assert.equal(await read('/sys/fs/cgroup/pids/pids.max'), '40');
    await c.remove({ force: true });
  });

  it('berth run and update send the limits', async () => {
    const b = async (...args: string[]) => {
      const r = await berth(d, ...args);
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const id = await b('run', '-d', '-m', '64m', '--cpus', '1', '--ulimit', 'nofile=512:1024', '--shm-size', '4m', 'busybox', 'sleep', '300');
    const [mem, nofile, shm] = (await b('exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ulimit -n; df -k /dev/shm | tail -1')).split('\n');
    assert.equal(mem, String(64 * MiB));
    assert.equal(nofile, '512');
    assert.match(shm, /^shm\s+4096\s/);
    await b('update', '-m', '96m', '--memory-swap', '192m', '--cpus', '0.25', id);
    assert.equal(hostCg('memory', `berth/${id}`, 'memory.limit_in_bytes'), String(96 * MiB));
    assert.equal(hostCg('cpu', `berth/${id}`, 'cpu.cfs_quota_us'), '25000');
    const r = await berth(d, 'update', '-m', '1m', id);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: Minimum memory limit allowed is 6MB/);
    await b('rm', '-f', id);
  });
});
