// The default bridge's pool of namespaces wired in advance (a plain
// container takes one, and its start does not wait for netavark): a pooled
// container has a working network and its own /etc/hosts; nothing of the
// pool is left after a daemon stop, or after a kill -9 and a restart. And
// an --internal network's containers cannot reach the host on their
// gateway address, while a normal network's can.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout.trim();
}

interface PoolEntry {
  key: string;
  netns: string;
  ready: boolean;
  attachment: { ip: string };
}

const poolDir = (d: TestDaemon) => path.join(d.dataRoot, 'network', 'pool');
function pool(d: TestDaemon): PoolEntry[] {
  const dir = poolDir(d);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

async function poolFilled(d: TestDaemon, n = 2): Promise<PoolEntry[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const p = pool(d).filter((e) => e.ready);
    if (p.length >= n) return p;
    if (Date.now() > deadline) throw new Error(`the pool has ${p.length} ready entries after 60 s:\n${d.log().slice(-3000)}`);
    await sleep(100);
  }
}

// What the daemon's networking holds on the host: veths on the default
// bridge, pinned namespaces (files and mounts), rules of its subnet.
function held(d: TestDaemon) {
  let veths = 0;
  try {
    veths = execFileSync('ip', ['-o', 'link', 'show', 'master', d.net.bridge], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch {
    // no bridge
  }
  const netnsDir = path.join(d.execRoot, 'netns');
  const files = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir).sort() : [];
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(netnsDir + '/')).length;
  const rules = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(d.net.bridgeSubnet)).length;
  return { veths, files, mounts, rules };
}

// A plain HTTP GET over a socket (the reply is the body's last line).
function fetchFrom(host: string, port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, timeout: 5000 }, () => s.write(`GET ${p} HTTP/1.0\r\n\r\n`));
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('end', () => resolve(got));
    s.on('timeout', () => s.destroy(new Error(`${host}:${port} timed out`)));
    s.on('error', reject);
  });
}

function daemonPid(d: TestDaemon): number {
  return Number(fs.readFileSync(path.join(d.base, 'berthd.pid'), 'utf8').trim());
}

describe('the default bridge\'s pool', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('gives a plain container a pooled namespace with a working network and its own /etc/hosts', async () => {
    const entries = await poolFilled(d);
    const id = ok(await docker(d, 'run', '-d', '--name', 'pooled', '--hostname', 'pbox', 'busybox', 'sleep', '60'), 'run');
    assert.match(d.log(), new RegExp(`network of ${id.slice(0, 12)}: pooled namespace pool-`));
    const ns = JSON.parse(ok(await docker(d, 'inspect', 'pooled'), 'inspect'))[0].NetworkSettings;
    const ip = ns.Networks.bridge.IPAddress;
    assert.ok(entries.some((e) => e.attachment.ip === ip), `${ip} is not one of the pool's ${entries.map((e) => e.attachment.ip)}`);
    assert.equal(ns.Networks.bridge.MacAddress, `02:42:${ip.split('.').map((b: string) => Number(b).toString(16).padStart(2, '0')).join(':')}`);
    const gw = ns.Networks.bridge.Gateway;
    const out = ok(await docker(d, 'exec', 'pooled', 'sh', '-c', `ip -4 addr show eth0; cat /etc/hosts; ip route; ping -c 1 -W 3 ${gw} >/dev/null && echo gw-ok`), 'exec');
    assert.match(out, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tpbox$`, 'm'));
    assert.match(out, new RegExp(`default via ${gw.replace(/\./g, '\\.')}`));
    assert.match(out, /gw-ok/);
    // A second one gets another entry, and one from a refilled pool after.
    const out2 = ok(await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0'), 'run 2');
    assert.doesNotMatch(out2, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    // Containers that need their own wiring do not take from the pool.
    const pid = ok(await docker(d, 'run', '-d', '-p', '80', 'busybox', 'sleep', '60'), 'run -p');
    assert.doesNotMatch(d.log(), new RegExp(`network of ${pid.slice(0, 12)}: pooled`));
    ok(await docker(d, 'rm', '-f', 'pooled', pid), 'rm');
    await poolFilled(d);
  });

  it('leaves nothing of the pool after a stop, or after a kill -9 and a restart', async () => {
    // Settled: the pool full, no container.
    await poolFilled(d);
    const base = held(d);
    const old = pool(d);
    assert.equal(base.files.filter((f) => f.startsWith('pool-')).length, old.length);
    await d.kill9();
    await d.restart();
    const fresh = await poolFilled(d);
    for (const e of old) assert.ok(!fresh.some((f) => f.key === e.key), `pool entry ${e.key} of the killed daemon is still there`);
    for (const e of old) assert.ok(!fs.existsSync(e.netns), `${e.netns} is left`);
    // Replaced one for one: as many veths, pins and rules as before.
    const now = held(d);
    assert.equal(now.veths, base.veths);
    assert.equal(now.mounts, base.mounts);
    assert.equal(now.rules, base.rules);
    assert.equal(now.files.filter((f) => f.startsWith('pool-')).length, fresh.length);
    // A stop takes the pool down (the network's anchor stays, as the bridge does).
    const pid = daemonPid(d);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 300 && fs.existsSync(`/proc/${pid}`); i++) await sleep(50);
    const stopped = held(d);
    assert.deepEqual(stopped.files.filter((f) => f.startsWith('pool-')), []);
    assert.deepEqual(pool(d), []);
    assert.equal(stopped.veths, base.veths - fresh.length);
    assert.equal(stopped.mounts, base.mounts - fresh.length);
    await d.restart();
    await poolFilled(d);
  });
});

describe('an --internal network', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let server: net.Server;
  let port: number;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    // A service of the host on every address.
    server = net.createServer((s) => s.end('hello from the host\n'));
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    server?.close();
    await d?.stop();
  });

  it('cannot reach the host on its gateway address; a normal network can; names still resolve', async () => {
    ok(await docker(d, 'network', 'create', '--internal', '--subnet', d.net.subnet(5), 'inner'), 'create inner');
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(6), 'outer'), 'create outer');
    const gw = (n: string) => JSON.parse(execFileSync('docker', ['network', 'inspect', n], { env: d.env, encoding: 'utf8' }))[0].IPAM.Config[0].Gateway;
    const reach = (n: string, addr: string) => docker(d, 'run', '--rm', '--network', n, 'busybox', 'sh', '-c', `nc -w 3 ${addr} ${port} </dev/null`);
    const outer = await reach('outer', gw('outer'));
    assert.equal(outer.code, 0, outer.stderr);
    assert.match(outer.stdout, /hello from the host/);
    const inner = await reach('inner', gw('inner'));
    assert.notEqual(inner.code, 0, 'an internal network reached the host on its gateway address');
    assert.doesNotMatch(inner.stdout, /hello/);
    // Nor through the bridge's IPv6 link-local address: it has none.
    const bridge = `br-${JSON.parse(execFileSync('docker', ['network', 'inspect', 'inner'], { env: d.env, encoding: 'utf8' }))[0].Id.slice(0, 12)}`;
    assert.equal(fs.readFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, 'utf8').trim(), '1');
    assert.doesNotMatch(execFileSync('ip', ['-6', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }), /inet6/);
    // Its DNS (aardvark-dns on the gateway) still answers.
    ok(await docker(d, 'run', '-d', '--name', 'iname', '--network', 'inner', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'), 'run iname');
    ok(await docker(d, 'run', '--rm', '--network', 'inner', 'busybox', 'nslookup', 'iname'), 'nslookup on the internal network');
    // The host still reaches its containers (replies pass the guard).
    const ip = JSON.parse(ok(await docker(d, 'inspect', 'iname'), 'inspect'))[0].NetworkSettings.Networks.inner.IPAddress;
    assert.match(await fetchFrom(ip, 80, '/hostname'), /^[0-9a-f]{12}$/m);
    ok(await docker(d, 'rm', '-f', 'iname'), 'rm');
    const id = JSON.parse(execFileSync('docker', ['network', 'inspect', 'inner'], { env: d.env, encoding: 'utf8' }))[0].Id.slice(0, 12);
    assert.match(execFileSync('iptables-save', { encoding: 'utf8' }), new RegExp(`BERTH-IN-${id}`));
    ok(await docker(d, 'network', 'rm', 'inner', 'outer'), 'network rm');
    assert.doesNotMatch(execFileSync('iptables-save', { encoding: 'utf8' }), new RegExp(`BERTH-IN-${id}`), 'the guard outlived its network');
  });

  it('keeps the other networks isolated when one is removed (netavark drops the shared jump with it)', async () => {
    // This daemon's own jump, which netavark's removal leaves alone.
    const own = ['FORWARD', '-m', 'comment', '--comment', `berth isolation ${d.net.bridge}`, '-j', 'NETAVARK_ISOLATION_1'];
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(7), 'isoa'), 'create isoa');
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(8), 'isox'), 'create isox');
    ok(await docker(d, 'run', '--rm', '--network', 'isoa', 'busybox', 'true'), 'run on isoa');
    ok(await docker(d, 'run', '--rm', '--network', 'isox', 'busybox', 'true'), 'run on isox');
    ok(await docker(d, 'network', 'rm', 'isox'), 'network rm isox');
    // Right after: the jump into the isolation chains is there for isoa.
    execFileSync('iptables', ['-w', '-C', ...own]);
    ok(await docker(d, 'network', 'rm', 'isoa'), 'network rm isoa');
  });
});
