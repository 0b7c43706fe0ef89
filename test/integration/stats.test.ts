// docker stats against a real berthd: the figures the CLI prints come from
// the container's cgroup (v1 on this host) and /proc, as dockerd's do.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

// docker's units.BytesSize: binary units, four significant digits.
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

const cg = (controller: string, id: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${controller}/berth/${id}/${file}`, 'utf8');

describe('docker stats', { timeout: 180_000 }, () => {
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

  it('--no-stream shows memory use and limit, memory %, PIDs, block and network I/O from the cgroup', async () => {
    // 16 MiB in the container's tmpfs: anonymous (shmem) pages, counted as used.
    const id = await run('run', '-d', '--name', 'm1', '--network', 'none', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/shm/x bs=1M count=16 2>/dev/null; sleep 1000 & sleep 1001');
    for (;;) {
      if (Number(cg('pids', id, 'pids.current')) >= 2 && Number(cg('memory', id, 'memory.usage_in_bytes')) >= 16 << 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const out = await run('stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}|{{.NetIO}}|{{.BlockIO}}|{{.CPUPerc}}', 'm1');
    const [name, mem, memPerc, pids, net, block, cpu] = out.split('|');
    assert.equal(name, 'm1');
    const [used, limit] = mem.split(' / ');
    // No limit set: the machine's memory, as dockerd shows it.
    const machine = Number(fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m)![1]) * 1024;
    assert.equal(limit, bytesSize(machine));
    const usedMiB = Number(used.replace('MiB', ''));
    assert.ok(used.endsWith('MiB') && usedMiB >= 16 && usedMiB < 64, used);
    assert.equal(memPerc, `${((usedMiB * 2 ** 20 / machine) * 100).toFixed(2)}%`.replace(/^(\d+\.\d\d)%$/, '$1%'), `${memPerc} vs ${used}`);
    assert.equal(pids, cg('pids', id, 'pids.current').trim());
    assert.equal(net, '0B / 0B'); // --network none: no interface but lo (a bridge's: network.test.ts)
    const io = (op: string) => cg('blkio', id, 'blkio.throttle.io_service_bytes_recursive').split('\n').filter((l) => l.split(' ')[1] === op).reduce((s, l) => s + Number(l.split(' ')[2]), 0);
    assert.equal(block, `${bytesSize(io('Read'))} / ${bytesSize(io('Write'))}`);
    assert.match(cpu, /^\d+\.\d\d%$/);
    await run('rm', '-f', 'm1');
  });

  it('shows a busy container using CPU, as a stream, once a second', async () => {
    await run('run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done');
    const child = spawn('docker', ['stats', '--format', '{{.Name}} {{.CPUPerc}}', 'busy'], { env: d.env });
    let text = '';
    child.stdout.on('data', (b: Buffer) => { text += b.toString(); });
    // Frames after the first carry precpu_stats: CPU % from the last second.
    let busy: number[] = [];
    for (;;) {
      busy = [...text.matchAll(/busy (\d+\.\d\d)%/g)].map((m) => Number(m[1]));
      if (busy.some((v) => v > 10)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The CLI may linger after SIGTERM (it keeps redrawing a stream that
    // ended): SIGKILL, and wait for it, so nothing outlives the test.
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    assert.ok(busy.length >= 2, text);
    await run('rm', '-f', 'busy');
  });

  it('answers one object with stream=false, with precpu_stats filled unless one-shot', async () => {
    await run('run', '-d', '--name', 's1', 'busybox', 'sleep', '1000');
    const two = JSON.parse((await api(d, 'GET', '/containers/s1/stats?stream=false')).body);
    assert.equal(two.name, '/s1');
    assert.ok(two.precpu_stats.system_cpu_usage > 0);
    assert.ok(two.cpu_stats.system_cpu_usage > two.precpu_stats.system_cpu_usage);
    assert.notEqual(two.preread, '0001-01-01T00:00:00Z');
    assert.ok(two.memory_stats.usage > 0);
    assert.ok('total_inactive_file' in two.memory_stats.stats);
    assert.equal(two.pids_stats.current, 1);
    assert.equal(two.cpu_stats.online_cpus, fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length);
    const one = JSON.parse((await api(d, 'GET', '/containers/s1/stats?stream=false&one-shot=true')).body);
    assert.equal(one.preread, '0001-01-01T00:00:00Z');
    assert.equal(one.precpu_stats.cpu_usage.total_usage, 0);
    // dockerode, too.
    const viaNode = await new Docker({ socketPath: d.socket }).getContainer('s1').stats({ stream: false });
    assert.equal(viaNode.id?.length, 64);
    assert.ok(viaNode.memory_stats.limit > 0);
    await run('rm', '-f', 's1');
  });

  it('gives a container that is not running zeros, and refuses bad requests', async () => {
    const id = await run('create', '--name', 'z1', 'busybox', 'true');
    const z = JSON.parse((await api(d, 'GET', '/containers/z1/stats?stream=false')).body);
    assert.deepEqual([z.name, z.id, z.read, z.memory_stats, z.cpu_stats.cpu_usage.total_usage], ['/z1', id, '0001-01-01T00:00:00Z', {}, 0]);
    const cli = await run('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', 'z1');
    assert.equal(cli, 'z1 0.00% 0B / 0B 0');
    assert.equal((await api(d, 'GET', '/containers/nope/stats?stream=false')).status, 404);
    const both = await api(d, 'GET', '/containers/z1/stats?stream=true&one-shot=true');
    assert.equal(both.status, 400);
    assert.equal(JSON.parse(both.body).message, 'cannot have stream=true and one-shot=true');
    await run('rm', 'z1');
    assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  });
});
