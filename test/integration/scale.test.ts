// Live restore at scale (issue 10 §5): fifty containers of every kind (TTYs,
// restart policies, healthchecks, published ports, volumes) are running when
// berthd is killed with SIGKILL; a few exit while it is down, and the
// policies of those apply when it is back.
// Started again, berthd finds every one: the same processes, the real exit
// codes of those that exited, published ports answering, and attach, logs -f,
// exec, stats, resize, stop and rm all working. Afterwards nothing is left:
// no shim, mount, veth, netns, iptables rule or runtime state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, docker, importBusybox, run, sleep, startDaemon, type TestDaemon } from './harness';

const PLAIN = 20;
const TTY = 10;
const PORTS = 8;
const VOLUMES = 7;
const EXITS = 5;

// Runs fn over items, at most `width` at a time (fifty `docker run` at once
// would only measure the machine's load).
async function pool<T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// Spawns a docker command and resolves with its output once `want` shows in
// it, then kills it (attach and logs -f never end by themselves).
function outputUntil(d: TestDaemon, args: string[], want: RegExp, ms = 30000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('docker', args, { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`docker ${args.join(' ')}: no ${want} in ${JSON.stringify(out)}`)); }, ms);
    const on = (b: Buffer) => {
      out += b.toString();
      if (want.test(out)) {
        clearTimeout(timer);
        p.kill('SIGKILL');
        resolve(out);
      }
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
  });
}

function httpGet(port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 10000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const inspect = async (d: TestDaemon, name: string) => JSON.parse((await docker(d, 'inspect', name)).stdout)[0];

describe('live restore at scale', { timeout: 900000 }, () => {
  let d: TestDaemon;
  let trigger: string;
  const names = {
    plain: Array.from({ length: PLAIN }, (_, i) => `plain${i}`),
    tty: Array.from({ length: TTY }, (_, i) => `tty${i}`),
    port: Array.from({ length: PORTS }, (_, i) => `port${i}`),
    vol: Array.from({ length: VOLUMES }, (_, i) => `vol${i}`),
    exit: Array.from({ length: EXITS }, (_, i) => `exit${i}`),
  };
  const all = Object.values(names).flat();
  const pids = new Map<string, number>();
  const ids = new Map<string, string>();
  const ips = new Set<string>();
  const hostPorts = new Map<string, number>();

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    trigger = path.join(d.base, 'trigger');
    fs.mkdirSync(trigger);
  });
  after(async () => {
    await d?.stop();
  });

  it('starts fifty containers of every kind', async () => {
    const specs: string[][] = [
      // Five plain ones with a restart policy, five with a healthcheck.
      ...names.plain.map((n, i) => ['--name', n, ...(i < 5 ? ['--restart', 'always'] : i < 10 ? ['--health-cmd', 'test -d /proc/1', '--health-interval', '1s'] : []), 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do echo tick; sleep 0.5; done']),
      ...names.tty.map((n) => ['-t', '--name', n, 'busybox', 'sh', '-c', 'while :; do stty size; sleep 0.5; done']),
      ...names.port.map((n) => ['--name', n, '-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']),
      ...names.vol.map((n, i) => ['--name', n, '-v', `data${i}:/data`, 'busybox', 'sh', '-c', `echo ${n} > /data/f; exec sleep 100000`]),
      // The last two may restart once after a failure.
      ...names.exit.map((n, i) => ['--name', n, '-v', `${trigger}:/t`, ...(i >= 3 ? ['--restart', 'on-failure:1'] : []), 'busybox', 'sh', '-c', `while [ ! -f /t/go ]; do sleep 0.2; done; exit ${11 + i}`]),
    ];
    const results = await pool(specs, 6, (args) => docker(d, 'run', '-d', ...args));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const running = await until('all fifty running', async () => {
      const ps = (await docker(d, 'ps', '-q')).stdout.trim().split('\n').filter(Boolean);
      return ps.length === all.length && ps;
    });
    assert.equal(running.length, 50);
    for (const n of all) {
      const c = await inspect(d, n);
      assert.equal(c.State.Status, 'running', n);
      assert.ok(c.State.Pid > 0);
      pids.set(n, c.State.Pid);
      ids.set(n, c.Id);
      const ip = c.NetworkSettings.IPAddress;
      assert.match(ip, /^10\./, `${n} has an address on the test bridge`);
      ips.add(ip);
    }
    assert.equal(ips.size, 50, 'fifty distinct addresses');
    for (const n of names.port) {
      const c = await inspect(d, n);
      const hp = Number(c.NetworkSettings.Ports['80/tcp'][0].HostPort);
      assert.ok(hp > 0);
      hostPorts.set(n, hp);
      assert.equal(await httpGet(hp, '/hostname'), `${c.Config.Hostname}\n`);
    }
  });

  it('survives kill -9 of berthd, with exits while it is down', async () => {
    await d.kill9();
    fs.writeFileSync(path.join(trigger, 'go'), '');
    // The exit containers end while berthd is away.
    await until('the exit containers to end', async () => names.exit.every((n) => !fs.existsSync(`/proc/${pids.get(n)}`)));
    // The rest are untouched by the daemon's death.
    for (const n of all) if (!names.exit.includes(n)) assert.ok(fs.existsSync(`/proc/${pids.get(n)}`), `${n} still runs`);
    await d.restart();

    // The policy of those that exited applies: restarted once, they end
    // again at once (the trigger is still there), and on-failure:1 is spent.
    for (const n of names.exit.slice(3)) {
      await until(`${n} restarted once and exited again`, async () => {
        const c = await inspect(d, n);
        return c.State.Status === 'exited' && c.RestartCount === 1;
      });
    }
    const ps = (await docker(d, 'ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout;
    for (const n of all) {
      const c = await inspect(d, n);
      if (names.exit.includes(n)) {
        assert.equal(c.RestartCount, names.exit.indexOf(n) >= 3 ? 1 : 0, n);
        assert.equal(c.State.Status, 'exited', n);
        assert.equal(c.State.ExitCode, 11 + names.exit.indexOf(n), `${n}: its real exit code`);
        assert.match(ps, new RegExp(`^${n} Exited \\(${c.State.ExitCode}\\) `, 'm'));
      } else {
        assert.equal(c.State.Status, 'running', n);
        assert.equal(c.State.Pid, pids.get(n), `${n} keeps its process`);
        assert.match(ps, new RegExp(`^${n} Up `, 'm'));
      }
    }
  });

  it('serves every running container after the restart', async () => {
    // Healthchecks go on: healthy, and ps says so.
    for (const n of names.plain.slice(5, 10)) {
      await until(`${n} healthy`, async () => (await inspect(d, n)).State.Health?.Status === 'healthy');
    }
    assert.match((await docker(d, 'ps', '--filter', `name=^${names.plain[5]}$`, '--format', '{{.Status}}')).stdout, /\(healthy\)/);
    assert.equal((await docker(d, 'ps', '-q', '--filter', 'health=healthy')).stdout.trim().split('\n').length, 5);
    // Published ports answer, at the ports they had.
    for (const n of names.port) {
      const c = await inspect(d, n);
      assert.equal(Number(c.NetworkSettings.Ports['80/tcp'][0].HostPort), hostPorts.get(n));
      assert.equal(await httpGet(hostPorts.get(n)!, '/hostname'), `${c.Config.Hostname}\n`);
      const port = await docker(d, 'port', n, '80');
      assert.equal(port.stdout.trim(), `127.0.0.1:${hostPorts.get(n)}`);
    }
    // exec into each kind, and the volumes hold what was written before.
    await pool(all.filter((n) => !names.exit.includes(n)), 4, async (n) => {
      const r = await docker(d, 'exec', n, 'cat', '/etc/hostname');
      assert.equal(r.code, 0, `${n}: ${r.stderr}`);
    });
    for (const n of names.vol) assert.equal((await docker(d, 'exec', n, 'cat', '/data/f')).stdout, `${n}\n`);
    // Containers reach each other over the bridge.
    const target = await inspect(d, names.port[0]);
    const w = await docker(d, 'exec', names.plain[0], 'wget', '-qO-', `http://${target.NetworkSettings.IPAddress}/hostname`);
    assert.equal(w.stdout, `${target.Config.Hostname}\n`, w.stderr);
    // logs -f follows new output; attach sees it too.
    await outputUntil(d, ['logs', '-f', '--tail', '0', names.plain[1]], /tick/);
    await outputUntil(d, ['attach', '--no-stdin', names.plain[2]], /tick/);
    // A TTY container resized after the restart sees its new size.
    const resize = await api(d, 'POST', `/containers/${names.tty[0]}/resize?h=33&w=111`);
    assert.equal(resize.status, 200, resize.body);
    await until('the new terminal size in the logs', async () => (await docker(d, 'logs', '--tail', '2', names.tty[0])).stdout.includes('33 111'));
    // stats over every running container, from their cgroups.
    const stats = (await docker(d, 'stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}')).stdout.trim().split('\n');
    assert.equal(stats.length, all.length - EXITS);
    for (const line of stats) assert.match(line, /^\S+ [1-9]\d*$/);
  });

  it('stops and removes them all, leaving nothing behind', async () => {
    const stopped = await pool(names.plain.slice(0, 4), 4, (n) => docker(d, 'stop', '-t', '2', n));
    for (const r of stopped) assert.equal(r.code, 0, r.stderr);
    assert.equal((await inspect(d, names.plain[0])).State.ExitCode, 0, 'stopped by its TERM trap');
    // Stopped by hand, `always` does not bring them back.
    await sleep(1000);
    for (const n of names.plain.slice(0, 4)) assert.equal((await inspect(d, n)).State.Status, 'exited', n);
    const removed = await pool(all, 6, (n) => docker(d, 'rm', '-f', n));
    for (const r of removed) assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(d, 'ps', '-aq')).stdout.trim(), '');
    for (let i = 0; i < VOLUMES; i++) assert.equal((await docker(d, 'volume', 'rm', `data${i}`)).code, 0);

    // No shims and no container processes.
    const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; }
    });
    const shims = procs.filter((c) => c.includes(d.base + "/") && /(^|\/)(conmon|runc|crun|berth-logger)\0/.test(c));
    assert.deepEqual(shims, [], 'no conmon, runtime or logger process left');
    for (const [n, pid] of pids) {
      let cg = '';
      try { cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'); } catch { /* gone */ }
      assert.ok(!cg.includes(ids.get(n)!), `${n}'s process is gone`);
    }
    // No mounts under the data root or exec root but the anchor netns.
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
    const ours = mounts.filter((m) => m.startsWith(d.base + '/'));
    // Only the bridge's anchor and the pool of pre-wired namespaces stay.
    const kept = (m: string) => /\/netns\/(anchor|pool)-/.test(m);
    assert.deepEqual(ours.filter((m) => !kept(m)), [], 'no container mounts left');
    const netnsDir = path.join(d.execRoot, 'netns');
    const netns = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [];
    assert.deepEqual(netns.filter((n) => !kept(`/netns/${n}`)), []);
    const pooled = netns.filter((n) => n.startsWith('pool-'));
    assert.ok(pooled.length <= 2, `at most two pooled namespaces: ${pooled.join(' ')}`);
    // veths: the anchor's end and the pool's stay on the test bridge.
    const links = (await run('ip', ['-o', 'link', 'show', 'master', d.net.bridge], process.env)).stdout.trim().split('\n').filter(Boolean);
    assert.equal(links.length, 1 + pooled.length, `the anchor's and the pool's veths only on ${d.net.bridge}: ${links.join('; ')}`);
    // No iptables rule names a container's address (one a pooled namespace
    // holds now is not a container's) or a published port.
    for (const n of pooled) {
      const a = (await run('nsenter', [`--net=${path.join(netnsDir, n)}`, 'ip', '-4', '-o', 'addr', 'show'], process.env)).stdout;
      for (const m of a.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)) ips.delete(m[1]);
    }
    const rules = (await run('iptables-save', [], process.env)).stdout;
    for (const ip of ips) assert.ok(!new RegExp(`\\b${ip.replace(/\./g, '\\.')}\\b`).test(rules), `no rule for ${ip}`);
    for (const hp of hostPorts.values()) assert.ok(!new RegExp(`--dport ${hp}\\b`).test(rules), `no rule for host port ${hp}`);
    // No runtime state.
    const rt = path.join(d.execRoot, 'runtime');
    for (const r of fs.existsSync(rt) ? fs.readdirSync(rt) : []) assert.deepEqual(fs.readdirSync(path.join(rt, r)), [], `no ${r} state`);
    assert.deepEqual(fs.existsSync(path.join(d.execRoot, 'c')) ? fs.readdirSync(path.join(d.execRoot, 'c')) : [], []);
  });
});
