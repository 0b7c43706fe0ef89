// Bridge networking against a real berthd, netavark and aardvark-dns, driven
// by the docker CLI and dockerode: names and aliases on a user network,
// published ports from the host and from another container, --internal and
// isolation between networks, the /networks API, and nothing left behind
// (veths, rules, DNS records, namespaces, addresses) after rm, network rm,
// a daemon restart and a kill -9 of the daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout.trim();
}

// The host's own address: the one on the interface of the default route.
function hostAddress(): string {
  const route = fs.readFileSync('/proc/net/route', 'utf8').split('\n').find((l) => l.split('\t')[1] === '00000000');
  const dev = route?.split('\t')[0];
  const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', dev ?? 'eth0'], { encoding: 'utf8' });
  const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
  assert.ok(m, `no IPv4 address on ${dev}`);
  return m[1];
}

function httpGet(host: string, port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: p, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${p} timed out`)));
    req.on('error', reject);
  });
}

// What networking leaves on the host, for one daemon: veths on its
// bridges, rules naming its subnets or a port, its pinned namespaces, its
// DNS records, and its own records of addresses.
interface Leftovers {
  veths: Record<string, number>;
  rules: string[];
  netns: string[];
  dns: string[];
  attached: string[];
}

function bridgeOf(d: TestDaemon, name: string): string {
  const r = JSON.parse(execFileSync('docker', ['network', 'inspect', name], { env: d.env, encoding: 'utf8' }))[0];
  return r.Options['com.docker.network.bridge.name'] ?? `br-${r.Id.slice(0, 12)}`;
}

function leftovers(d: TestDaemon, bridges: string[], patterns: string[]): Leftovers {
  const veths: Record<string, number> = {};
  for (const b of bridges) {
    let out = '';
    try {
      out = execFileSync('ip', ['-o', 'link', 'show', 'master', b], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // no such bridge
    }
    veths[b] = out.split('\n').filter(Boolean).length;
  }
  const save = execFileSync('iptables-save', { encoding: 'utf8' });
  const rules = save.split('\n').filter((l) => l.startsWith('-A') && patterns.some((p) => l.includes(p)));
  const dir = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p) : []);
  const dnsDir = path.join(d.execRoot, 'netavark', 'aardvark-dns');
  const dns = dir(dnsDir).filter((f) => !f.endsWith('.pid')).flatMap((f) => fs.readFileSync(path.join(dnsDir, f), 'utf8').split('\n').slice(1).filter(Boolean));
  const ctrDir = path.join(d.dataRoot, 'network', 'containers');
  const attached = dir(ctrDir).filter((f) => JSON.parse(fs.readFileSync(path.join(ctrDir, f), 'utf8')).attached.length > 0);
  return { veths, rules, netns: dir(path.join(d.execRoot, 'netns')), dns, attached };
}

describe('bridge networking', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let dockerode: Docker;
  let hostIP: string;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    dockerode = new Docker({ socketPath: d.socket });
    hostIP = hostAddress();
  });
  after(async () => {
    await d?.stop();
  });

  it('has bridge, host and none, on a bridge and subnet of its own', async () => {
    const nets = JSON.parse(ok(await docker(d, 'network', 'ls', '--format', '{{json .}}'), 'ls').split('\n').join(',').replace(/^/, '[').replace(/$/, ']'));
    assert.deepEqual(nets.map((n: { Name: string }) => n.Name).sort(), ['bridge', 'host', 'none']);
    const bridge = JSON.parse(ok(await docker(d, 'network', 'inspect', 'bridge'), 'inspect'))[0];
    assert.equal(bridge.Driver, 'bridge');
    assert.equal(bridge.IPAM.Config[0].Subnet, d.net.bridgeSubnet);
    assert.equal(bridge.Options['com.docker.network.bridge.name'], d.net.bridge);
  });

  it('fails a run on an unknown network as dockerd does, without trying to pull', async () => {
    const r = await docker(d, 'run', '--network', 'bogus', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /network bogus not found/);
    assert.doesNotMatch(r.stderr, /Unable to find image/);
  });

  it('gives a container on the default bridge an address, /etc/hosts, resolv.conf and a way out through NAT', async () => {
    const out = ok(await docker(d, 'run', '--rm', '--hostname', 'box', '--add-host', 'gw:host-gateway', '--add-host', 'x.example:192.0.2.9', '--dns', '192.0.2.53', '--dns-search', 'example.org', '--dns-option', 'ndots:2', 'busybox', 'sh', '-c', 'ip -4 addr show eth0; cat /etc/hosts; echo ---; cat /etc/resolv.conf; ip route'), 'run');
    const prefix = d.net.bridgeSubnet.split('.').slice(0, 3).join('.');
    const ip = new RegExp(`inet (${prefix.replace(/\./g, '\\.')}\\.\\d+)/24`).exec(out)?.[1];
    assert.ok(ip, out);
    assert.match(out, new RegExp(`${ip.replace(/\./g, '\\.')}\\tbox`));
    assert.match(out, new RegExp(`${prefix.replace(/\./g, '\\.')}\\.1\\tgw`));
    assert.match(out, /192\.0\.2\.9\tx\.example/);
    assert.match(out, /nameserver 192\.0\.2\.53\nsearch example\.org\noptions ndots:2/);
    assert.match(out, new RegExp(`default via ${prefix.replace(/\./g, '\\.')}\\.1`));
    // The host is reachable from it (routed, masqueraded).
    ok(await docker(d, 'run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '3', hostIP), 'ping the host');
  });

  it('lets two containers on a user network talk by name and by alias (nc and httpd)', async () => {
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(1), '--label', 'purpose=test', 'talk'), 'network create');
    ok(await docker(d, 'run', '-d', '--name', 'srv', '--network', 'talk', '--network-alias', 'db', 'busybox', 'sh', '-c', 'nc -l -p 5000 > /tmp/got; httpd -f -p 80 -h /tmp'), 'server');
    // The client retries until the server listens.
    const sent = await docker(d, 'run', '--rm', '--network', 'talk', 'busybox', 'sh', '-c', 'for i in $(seq 50); do echo hello-by-name | nc srv 5000 && exit 0; sleep 0.1; done; exit 1');
    ok(sent, 'nc client');
    const got = ok(await docker(d, 'run', '--rm', '--network', 'talk', 'busybox', 'sh', '-c', 'for i in $(seq 50); do wget -qO- http://db/got && exit 0; sleep 0.1; done; exit 1'), 'wget by alias');
    assert.equal(got, 'hello-by-name');
    const ns = ok(await docker(d, 'run', '--rm', '--network', 'talk', 'busybox', 'nslookup', 'srv'), 'nslookup');
    const srvIP = JSON.parse(ok(await docker(d, 'inspect', 'srv'), 'inspect'))[0].NetworkSettings.Networks.talk.IPAddress;
    assert.match(ns, new RegExp(srvIP.replace(/\./g, '\\.')));
    const info = await dockerode.getContainer('srv').inspect();
    const ep = info.NetworkSettings.Networks.talk;
    assert.equal(info.HostConfig.NetworkMode, 'talk');
    assert.deepEqual(ep.Aliases, ['db']);
    assert.equal(ep.IPPrefixLen, 24);
    assert.equal(ep.Gateway, d.net.subnet(1).replace(/0\/24$/, '1'));
    assert.match(ep.MacAddress, /^02:42:/);
    assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
    assert.deepEqual((ep as unknown as { DNSNames: string[] }).DNSNames, ['srv', 'db', info.Id.slice(0, 12)]);
    const net = await dockerode.getNetwork('talk').inspect();
    assert.equal(net.Containers?.[info.Id]?.IPv4Address, `${srvIP}/24`);
    assert.deepEqual(net.Labels, { purpose: 'test' });
    ok(await docker(d, 'rm', '-f', 'srv'), 'rm');
    ok(await docker(d, 'network', 'rm', 'talk'), 'network rm');
  });

  it('publishes a port to 127.0.0.1, to the host address, and to other containers through the host address', async () => {
    ok(await docker(d, 'run', '-d', '--name', 'web', '-p', '80', '-p', '127.0.0.1::81', 'busybox', 'sh', '-c', 'echo hi-from-web > /tmp/index.html; httpd -p 81 -h /tmp; httpd -f -p 80 -h /tmp'), 'run web');
    const port = Number(/0\.0\.0\.0:(\d+)/.exec(ok(await docker(d, 'port', 'web', '80'), 'port'))?.[1]);
    assert.ok(port > 0);
    const local = Number(/127\.0\.0\.1:(\d+)/.exec(ok(await docker(d, 'port', 'web', '81'), 'port'))?.[1]);
    const info = await dockerode.getContainer('web').inspect();
    assert.deepEqual(info.NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(port) }]);
    assert.deepEqual(info.NetworkSettings.Ports['81/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(local) }]);
    const get = async (host: string, p: number) => {
      for (let i = 0; ; i++) {
        try {
          return await httpGet(host, p, '/index.html');
        } catch (err) {
          if (i > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    assert.equal(await get('127.0.0.1', port), 'hi-from-web\n');
    assert.equal(await get(hostIP, port), 'hi-from-web\n');
    assert.equal(await get('127.0.0.1', local), 'hi-from-web\n');
    // Hairpin: another container on the bridge, through the host's address.
    assert.equal(ok(await docker(d, 'run', '--rm', 'busybox', 'wget', '-qO-', `http://${hostIP}:${port}/index.html`), 'hairpin'), 'hi-from-web');
    // Its traffic shows in stats.
    const stats = JSON.parse((await api(d, 'GET', '/containers/web/stats?stream=false')).body);
    assert.ok(stats.networks.eth0.rx_bytes > 0 && stats.networks.eth0.tx_bytes > 0, JSON.stringify(stats.networks));
    // The held port: a second container cannot have it, and is not left half-wired.
    const dup = await docker(d, 'run', '-d', '--name', 'dup', '-p', `${port}:80`, 'busybox', 'sleep', '30');
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
    assert.equal(JSON.parse(ok(await docker(d, 'inspect', 'dup'), 'inspect dup'))[0].NetworkSettings.IPAddress, '');
    ok(await docker(d, 'rm', '-f', 'dup', 'web'), 'rm');
  });

  it('publishes every exposed port with -P', async () => {
    ok(await docker(d, 'run', '-d', '--name', 'pall', '-P', '--expose', '7000', '--expose', '7001/udp', 'busybox', 'sleep', '60'), 'run');
    const ports = ok(await docker(d, 'port', 'pall'), 'port').split('\n').sort();
    assert.equal(ports.length, 2, ports.join('\n'));
    assert.match(ports[0], /^7000\/tcp -> 0\.0\.0\.0:\d+$/);
    assert.match(ports[1], /^7001\/udp -> 0\.0\.0\.0:\d+$/);
    ok(await docker(d, 'rm', '-f', 'pall'), 'rm');
  });

  it('keeps an --internal network in, and network A apart from network B', async () => {
    ok(await docker(d, 'network', 'create', '--internal', '--subnet', d.net.subnet(2), 'inside'), 'create inside');
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(3), 'neta'), 'create neta');
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(4), 'netb'), 'create netb');
    ok(await docker(d, 'run', '-d', '--name', 'bweb', '--network', 'netb', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'), 'run bweb');
    ok(await docker(d, 'run', '-d', '--name', 'iweb', '--network', 'inside', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'), 'run iweb');
    const bIP = JSON.parse(ok(await docker(d, 'inspect', 'bweb'), 'inspect'))[0].NetworkSettings.Networks.netb.IPAddress;
    // Reachable from its own network: the isolation below is not a dead server.
    ok(await docker(d, 'run', '--rm', '--network', 'netb', 'busybox', 'sh', '-c', `for i in $(seq 50); do wget -qO- http://${bIP}/hostname && exit 0; sleep 0.1; done; exit 1`), 'same network');
    // (Under sh, and not as its last command: busybox's timeout execs the
    // command in its own place, and as pid 1 it would ignore the SIGTERM.)
    const across = await docker(d, 'run', '--rm', '--network', 'neta', 'busybox', 'sh', '-c', `timeout 3 wget -qO- http://${bIP}/hostname || exit 1`);
    assert.notEqual(across.code, 0, 'net A reached net B');
    // Inside: names resolve, the host does not answer, there is no route out.
    ok(await docker(d, 'run', '--rm', '--network', 'inside', 'busybox', 'sh', '-c', 'for i in $(seq 50); do wget -qO- http://iweb/hostname && exit 0; sleep 0.1; done; exit 1'), 'inside by name');
    const out = await docker(d, 'run', '--rm', '--network', 'inside', 'busybox', 'sh', '-c', `ip route; timeout 3 ping -c 1 -W 2 ${hostIP}`);
    assert.notEqual(out.code, 0, 'an internal network got out');
    assert.doesNotMatch(out.stdout, /default/);
    ok(await docker(d, 'rm', '-f', 'bweb', 'iweb'), 'rm');
    ok(await docker(d, 'network', 'rm', 'inside', 'neta', 'netb'), 'network rm');
  });

  it('connects and disconnects a running container, with events', async () => {
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(5), 'late'), 'create');
    ok(await docker(d, 'run', '-d', '--name', 'hop', 'busybox', 'sleep', '60'), 'run');
    const since = Math.floor(Date.now() / 1000) - 1;
    ok(await docker(d, 'network', 'connect', '--ip', d.net.subnet(5).replace(/0\/24$/, '77'), '--alias', 'hopper', 'late', 'hop'), 'connect');
    assert.match(ok(await docker(d, 'exec', 'hop', 'ip', '-4', 'addr', 'show', 'eth1'), 'exec'), new RegExp(`inet ${d.net.subnet(5).replace(/0\/24$/, '77').replace(/\./g, '\\.')}/24`));
    const resolved = ok(await docker(d, 'run', '--rm', '--network', 'late', 'busybox', 'nslookup', 'hopper'), 'resolve alias');
    assert.match(resolved, /\.77\b/);
    ok(await docker(d, 'network', 'disconnect', 'late', 'hop'), 'disconnect');
    assert.notEqual((await docker(d, 'exec', 'hop', 'ip', 'addr', 'show', 'eth1')).code, 0);
    const ev = ok(await docker(d, 'events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}'), 'events');
    assert.match(ev, /connect late\n(.*\n)*disconnect late/);
    ok(await docker(d, 'rm', '-f', 'hop'), 'rm');
    ok(await docker(d, 'network', 'rm', 'late'), 'network rm');
  });

  it('serves /networks in Docker shapes, with filters, prune and errors', async () => {
    const created = await dockerode.createNetwork({ Name: 'shape', Labels: { k: 'v' }, IPAM: { Driver: 'default', Config: [{ Subnet: d.net.subnet(6), IPRange: d.net.subnet(6).replace(/0\/24$/, '128/25') }] } });
    const info = await created.inspect();
    assert.equal(info.Name, 'shape');
    assert.deepEqual(info.IPAM?.Config, [{ Subnet: d.net.subnet(6), Gateway: d.net.subnet(6).replace(/0\/24$/, '1'), IPRange: d.net.subnet(6).replace(/0\/24$/, '128/25') }]);
    const c = await dockerode.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'shape' } });
    await c.start();
    const ip = (await c.inspect()).NetworkSettings.Networks.shape.IPAddress;
    assert.ok(Number(ip.split('.')[3]) >= 128, `${ip} is outside the ip-range`);
    const byLabel = await dockerode.listNetworks({ filters: { label: ['k=v'] } });
    assert.deepEqual(byLabel.map((n) => n.Name), ['shape']);
    const custom = await dockerode.listNetworks({ filters: { type: ['custom'] } });
    assert.deepEqual(custom.map((n) => n.Name), ['shape']);
    assert.deepEqual((await dockerode.listNetworks({ filters: { dangling: ['true'] } })).map((n) => n.Name), []);
    let r = await api(d, 'DELETE', '/networks/shape');
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).message, /has active endpoints/);
    r = await api(d, 'DELETE', '/networks/bridge');
    assert.equal(r.status, 403);
    r = await api(d, 'POST', '/networks/create', JSON.stringify({ Name: 'shape' }));
    assert.equal(r.status, 409);
    r = await api(d, 'POST', '/networks/create', JSON.stringify({ Name: 'o', Options: { 'com.docker.network.bridge.enable_icc': 'false' } }));
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).message, /com\.docker\.network\.bridge\.enable_icc/);
    r = await api(d, 'GET', '/networks/nope');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).message, 'network nope not found');
    await c.remove({ force: true });
    ok(await docker(d, 'network', 'create', 'spare'), 'create spare');
    const pruned = await dockerode.pruneNetworks();
    assert.deepEqual((pruned.NetworksDeleted ?? []).sort(), ['shape', 'spare']);
  });

  it('leaves no veth, rule, DNS record, namespace or address after rm and network rm', async () => {
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(7), 'leak'), 'create');
    const bridges = [d.net.bridge, bridgeOf(d, 'leak')];
    const before = leftovers(d, bridges, [d.net.subnet(7)]);
    ok(await docker(d, 'run', '-d', '--name', 'l1', '--network', 'leak', '-p', '127.0.0.1:0:80', 'busybox', 'sleep', '60'), 'run l1');
    ok(await docker(d, 'run', '-d', '--name', 'l2', '-p', '80', 'busybox', 'sleep', '60'), 'run l2');
    const ports = [ok(await docker(d, 'port', 'l1'), 'port'), ok(await docker(d, 'port', 'l2'), 'port')].map((p) => `--dport ${/:(\d+)$/.exec(p)![1]} `);
    const during = leftovers(d, bridges, [d.net.subnet(7), ...ports]);
    assert.equal(before.veths[bridges[1]], 0, 'a new network has no bridge yet');
    assert.ok(during.rules.some((l) => l.includes(ports[0])) && during.rules.some((l) => l.includes(ports[1])), during.rules.join('\n'));
    assert.ok(during.dns.some((l) => l.includes(' l1')), during.dns.join('\n'));
    assert.equal(during.attached.length, 2);
    ok(await docker(d, 'rm', '-f', 'l1', 'l2'), 'rm');
    const afterRm = leftovers(d, bridges, ports);
    assert.deepEqual(afterRm.rules, []);
    assert.deepEqual(afterRm.attached, []);
    assert.ok(!afterRm.dns.some((l) => l.includes(' l1')), afterRm.dns.join('\n'));
    // One veth less: the container's (the other keeps the bridge up while the network exists).
    assert.equal(afterRm.veths[bridges[1]], during.veths[bridges[1]] - 1);
    assert.equal(afterRm.veths[bridges[0]], during.veths[bridges[0]] - 1);
    // (pool-*: the namespaces kept wired in advance on the default bridge.)
    assert.deepEqual(afterRm.netns.filter((f) => !f.startsWith('anchor-') && !f.startsWith('pool-')), []);
    ok(await docker(d, 'network', 'rm', 'leak'), 'network rm');
    const afterNetRm = leftovers(d, bridges, [d.net.subnet(7)]);
    assert.equal(afterNetRm.veths[bridges[1]], 0);
    assert.deepEqual(afterNetRm.rules, []);
    assert.equal(fs.existsSync(`/sys/class/net/${bridges[1]}`), false, 'the bridge is gone');
  });

  it('keeps addresses and ports across a restart, and tears down what died during a kill -9', async () => {
    ok(await docker(d, 'network', 'create', '--subnet', d.net.subnet(8), 'keep'), 'create');
    ok(await docker(d, 'run', '-d', '--name', 'stay', '--network', 'keep', '-p', '80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'), 'run stay');
    ok(await docker(d, 'run', '-d', '--name', 'doomed', '--network', 'keep', '-p', '80', 'busybox', 'sleep', '300'), 'run doomed');
    const before = JSON.parse(ok(await docker(d, 'inspect', 'stay'), 'inspect'))[0].NetworkSettings;
    const port = Number(before.Ports['80/tcp'][0].HostPort);
    const doomed = JSON.parse(ok(await docker(d, 'inspect', 'doomed'), 'inspect'))[0];
    const doomedPort = `--dport ${doomed.NetworkSettings.Ports['80/tcp'][0].HostPort} `;
    await d.kill9();
    // While berthd was away, one container died.
    process.kill(doomed.State.Pid, 'SIGKILL');
    await d.restart();
    for (let i = 0; i < 50 && JSON.parse(ok(await docker(d, 'inspect', 'doomed'), 'inspect'))[0].State.Running; i++) await new Promise((r) => setTimeout(r, 100));
    const after = JSON.parse(ok(await docker(d, 'inspect', 'stay'), 'inspect'))[0].NetworkSettings;
    assert.equal(after.Networks.keep.IPAddress, before.Networks.keep.IPAddress);
    assert.deepEqual(after.Ports, before.Ports);
    assert.equal((await httpGet('127.0.0.1', port, '/hostname')).trim(), JSON.parse(ok(await docker(d, 'inspect', 'stay'), 'inspect'))[0].Config.Hostname);
    const left = leftovers(d, [bridgeOf(d, 'keep')], [doomedPort]);
    assert.deepEqual(left.rules, [], 'the dead container\'s port rules');
    assert.ok(!left.dns.some((l) => l.includes(' doomed')), left.dns.join('\n'));
    assert.equal(left.attached.length, 1);
    assert.ok(!left.netns.includes(doomed.Id));
    ok(await docker(d, 'rm', '-f', 'stay', 'doomed'), 'rm');
    ok(await docker(d, 'network', 'rm', 'keep'), 'network rm');
  });
});
