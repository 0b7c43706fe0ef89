// berth's network commands, run/create's network flags and `port` against
// a real berthd, next to the docker CLI on the same daemon: the same
// output for the same state (docker's documented behaviour), and
// containers that reach each other by name and alias, and from the host
// through published ports. Needs the daemon side of issue 9 (networks).
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { same, ok } from './compare';
import { berth, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

// Until `fn` holds (a server in a container takes a moment to listen).
async function eventually<T>(fn: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: ${String(last)}`);
}

const HTTPD = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

describe('berth network, port and run --network, next to docker', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await berth(d, 'rm', '-f', 'srv', 'web', 'two');
    await d.stop();
  });

  it('creates, lists and inspects networks as docker does', async () => {
    const id = (await ok(d, 'network', 'create', '--subnet', '10.123.0.0/24', '--gateway', '10.123.0.1', '--label', 'team=a', 'n1')).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await docker(d, 'network', 'create', '--internal', 'n2')).code, 0);
    for (const args of [
      ['network', 'ls'],
      ['network', 'ls', '-q'],
      ['network', 'ls', '--no-trunc'],
      ['network', 'ls', '--filter', 'name=n1'],
      ['network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}}'],
      ['network', 'ls', '--format', 'json'],
      ['network', 'inspect', 'n1'],
      ['network', 'inspect', '--format', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}}', 'n1', 'n2'],
      ['network', 'inspect', 'bridge', 'host', 'none'],
      ['network', 'inspect', 'nope'],
    ]) await same(d, args);
    const nets = (await ok(d, 'network', 'ls', '--format', '{{.Name}}')).split('\n');
    for (const n of ['bridge', 'host', 'none', 'n1', 'n2']) assert.ok(nets.includes(n), n);
  });

  it('runs containers that reach each other by name and alias on a user network', async () => {
    await ok(d, 'run', '-d', '--name', 'srv', '--network', 'n1', '--network-alias', 'www', '--ip', '10.123.0.50', 'busybox', ...HTTPD('hello'));
    const byName = await eventually(() => ok(d, 'run', '--rm', '--network', 'n1', 'busybox', 'wget', '-qO-', 'http://srv/'), 'wget srv');
    assert.equal(byName, 'hello\n');
    assert.equal(await ok(d, 'run', '--rm', '--network', 'n1', 'busybox', 'wget', '-qO-', 'http://www/'), 'hello\n');
    assert.equal(await ok(d, 'run', '--rm', '--network', 'n1', '--link', 'srv:linked', 'busybox', 'wget', '-qO-', 'http://linked/'), 'hello\n');
    await same(d, ['inspect', '--format', '{{.NetworkSettings.Networks.n1.IPAddress}} {{.NetworkSettings.Networks.n1.Aliases}}', 'srv']);
    assert.equal((await ok(d, 'inspect', '--format', '{{.NetworkSettings.Networks.n1.IPAddress}}', 'srv')).trim(), '10.123.0.50');
    await same(d, ['ps', '--filter', 'network=n1', '--format', '{{.Names}} {{.Networks}}']);
  });

  it('connects and disconnects a running container', async () => {
    await ok(d, 'network', 'connect', '--alias', 'second', 'n2', 'srv');
    assert.equal((await ok(d, 'inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'srv')).trim(), 'n1 n2');
    assert.equal(await ok(d, 'run', '--rm', '--network', 'n2', 'busybox', 'wget', '-qO-', 'http://second/'), 'hello\n');
    await ok(d, 'network', 'disconnect', 'n2', 'srv');
    assert.equal((await ok(d, 'inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'srv')).trim(), 'n1');
    await same(d, ['network', 'disconnect', 'n2', 'srv']);
  });

  it('publishes ports that answer on the host, and reports them as docker does', async () => {
    await ok(d, 'run', '-d', '--name', 'web', '-p', '127.0.0.1::80', '-p', '18080:80', '--expose', '90', 'busybox', ...HTTPD('published'));
    for (const args of [
      ['port', 'web'],
      ['port', 'web', '80'],
      ['port', 'web', '80/tcp'],
      ['container', 'port', 'web', '90'],
      ['port', 'web', '81/udp'],
      // The table without STATUS and CREATED, which move between the two runs.
      ['ps', '--filter', 'name=web', '--format', 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}'],
      ['ps', '--filter', 'publish=18080', '--format', '{{.Names}} {{.Ports}}'],
      ['ps', '--filter', 'expose=90', '--format', '{{.Names}}'],
      ['inspect', '--format', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}', 'web'],
    ]) await same(d, args);
    const lines = (await ok(d, 'port', 'web', '80')).trim().split('\n');
    assert.ok(lines.includes('0.0.0.0:18080'), lines.join(','));
    const ephemeral = lines.find((l) => l.startsWith('127.0.0.1:'))!;
    assert.equal(await eventually(() => get('http://127.0.0.1:18080/'), 'GET :18080'), 'published\n');
    assert.equal(await get(`http://${ephemeral}/`), 'published\n');
  });

  it('runs with -P, --rm and -d as docker does', async () => {
    const id = (await ok(d, 'run', '-d', '--rm', '--name', 'two', '-P', '--expose', '80', 'busybox', ...HTTPD('all'))).trim();
    const port = (await ok(d, 'port', 'two', '80')).trim().split('\n')[0];
    assert.match(port, /^0\.0\.0\.0:\d+$/);
    assert.equal(await eventually(() => get(`http://127.0.0.1:${port.split(':')[1]}/`), 'GET -P port'), 'all\n');
    await ok(d, 'stop', '-t', '1', id);
    await eventually(async () => assert.equal((await berth(d, 'inspect', id)).code, 1), '--rm removes');
  });

  it('refuses an unknown network as dockerd does, without pulling', async () => {
    const r = await berth(d, 'run', '--rm', '--network', 'bogus', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /network bogus not found/);
    assert.doesNotMatch(r.stderr, /Unable to find image/);
    await same(d, ['create', '--network', 'bogus', 'busybox']);
  });

  it('removes and prunes networks as docker does', async () => {
    await same(d, ['network', 'rm', 'n1', 'nope']);
    await ok(d, 'rm', '-f', 'srv');
    assert.equal(await ok(d, 'network', 'rm', 'n1'), 'n1\n');
    assert.equal((await docker(d, 'network', 'create', 'n3')).code, 0);
    const pruned = await ok(d, 'network', 'prune', '-f');
    assert.equal(pruned, 'Deleted Networks:\nn2\nn3\n\n');
    await same(d, ['network', 'prune', '-f']);
    await same(d, ['network', 'rm', '-f', 'n1']);
    await same(d, ['network', 'rm', 'bridge']);
  });
});
