// berth's network, volume, port and prune commands against the docker
// CLI's, both talking to one canned Engine API server (Engine API 1.51
// shapes): the same output, errors and exit statuses, and the same request
// bodies and queries. Skipped when `docker` is not on PATH (it is only
// used as a client here).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/cli';
import { collector } from './berth';

const haveDocker = spawnSync('docker', ['--version']).status === 0;
const h = (c: string) => c.repeat(64);

const NETWORKS = [
  { Name: 'net10', Id: h('1'), Created: '2026-11-02T10:20:30.123456789Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false, Internal: true, Attachable: false, Labels: { tier: 'back' }, IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '172.30.0.0/16', Gateway: '172.30.0.1' }] }, Options: {}, Containers: {} },
  { Name: 'bridge', Id: h('2'), Created: '2026-11-01T08:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false, Internal: false, Labels: {}, IPAM: { Driver: 'default', Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] }, Options: { 'com.docker.network.bridge.default_bridge': 'true' } },
  { Name: 'net9', Id: h('3'), Created: '2026-11-02T10:20:30.5+01:00', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: true, Internal: false, Labels: null },
  { Name: 'host', Id: h('4'), Created: '2026-11-01T08:00:00.000000001Z', Scope: 'local', Driver: 'host', EnableIPv4: true, Labels: {} },
  { Name: 'none', Id: h('5'), Created: '2026-11-01T08:00:00Z', Scope: 'local', Driver: 'null', EnableIPv4: true, Labels: {} },
];

const VOLUMES = [
  { Name: 'data10', Driver: 'local', Mountpoint: '/var/lib/berth/volumes/data10/_data', CreatedAt: '2026-11-02T10:20:30Z', Labels: { app: 'web' }, Scope: 'local', Options: null },
  { Name: h('a'), Driver: 'local', Mountpoint: `/var/lib/berth/volumes/${h('a')}/_data`, CreatedAt: '2026-11-02T10:20:30Z', Labels: null, Scope: 'local', Options: null, UsageData: { Size: 12345678, RefCount: 2 } },
  { Name: 'data9', Driver: 'local', Mountpoint: '/var/lib/berth/volumes/data9/_data', CreatedAt: '2026-11-02T10:20:30Z', Labels: {}, Scope: 'local', Options: { type: 'tmpfs', device: 'tmpfs' }, UsageData: { Size: -1, RefCount: 0 } },
];

const PORTS = {
  '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }],
  '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
  '443/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '::', HostPort: '32768' }],
  '9000/tcp': null,
  '10000/tcp': [{ HostIp: '0.0.0.0', HostPort: '10000' }],
};

// ps's PORTS column: IPv4 and IPv6 bindings, ranges, unpublished ports.
const CONTAINERS = [
  {
    Id: h('c'), Names: ['/web'], Image: 'busybox', ImageID: `sha256:${h('1')}`, Command: 'httpd -f', Created: 1700000000, State: 'running', Status: 'Up 2 hours', Labels: {},
    Ports: [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 7000, PublicPort: 7000, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 7001, PublicPort: 7001, Type: 'tcp' },
      { IP: '::', PrivatePort: 7000, PublicPort: 7000, Type: 'tcp' },
      { IP: '::', PrivatePort: 7001, PublicPort: 7001, Type: 'tcp' },
      { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
      { PrivatePort: 9000, Type: 'tcp' },
      { PrivatePort: 9001, Type: 'tcp' },
      { PrivatePort: 9003, Type: 'sctp' },
    ],
    // One network: docker lists a container's networks in Go's map order (random).
    NetworkSettings: { Networks: { n1: {} } },
    Mounts: [{ Type: 'volume', Name: 'data10', Driver: 'local', Source: '/var/lib/berth/volumes/data10/_data', Destination: '/data' }],
  },
];

const DF = {
  LayersSize: 4260000,
  Images: [{ Id: `sha256:${h('1')}`, ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: 1700000000, Size: 4260000, SharedSize: 0, Labels: null, Containers: 1 }],
  Containers: [{ Id: h('c'), Names: ['/web'], Image: 'busybox', ImageID: `sha256:${h('1')}`, Command: 'httpd -f', Created: 1700000000, Ports: [], SizeRw: 1200, Labels: {}, State: 'running', Status: 'Up 2 hours', Mounts: [{ Type: 'volume', Name: 'data10', Driver: 'local' }] }],
  Volumes: [
    { ...VOLUMES[0], UsageData: { Size: 2000000, RefCount: 1 } },
    { ...VOLUMES[2], UsageData: { Size: 300000, RefCount: 0 } },
    { ...VOLUMES[1], UsageData: { Size: -1, RefCount: 0 } },
  ],
  BuildCache: [],
};

interface Req {
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
}

describe('network, volume, port and prune output match the docker CLI', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  let requests: Req[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netcompat-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        const p = url.pathname.replace(/^\/v[\d.]+/, '');
        if (p !== '/_ping') requests.push({ method: req.method!, path: p, query: Object.fromEntries(url.searchParams), body });
        res.setHeader('Api-Version', '1.51');
        const json = (status: number, v: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(typeof v === 'string' ? v : JSON.stringify(v));
        };
        const none = () => {
          res.writeHead(204);
          res.end();
        };
        if (p === '/_ping') return json(200, 'OK');
        if (p === '/networks' && req.method === 'GET') return json(200, NETWORKS);
        if (p === '/networks/create') return json(201, { Id: h('7'), Warning: '' });
        if (p === '/networks/prune') return json(200, { NetworksDeleted: ['net9', 'net10'] });
        let m = /^\/networks\/([^/]+)(\/connect|\/disconnect)?$/.exec(p);
        if (m) {
          const n = NETWORKS.find((x) => x.Name === m![1] || x.Id.startsWith(m![1]));
          if (!n) return json(404, { message: `network ${m[1]} not found` });
          if (m[2]) return m[1] === 'net9' ? json(403, { message: 'endpoint with name web already exists in network net9' }) : none();
          if (req.method === 'DELETE') return m[1] === 'bridge' ? json(403, { message: 'bridge is a pre-defined network and cannot be removed' }) : none();
          return json(200, n);
        }
        if (p === '/volumes' && req.method === 'GET') return json(200, { Volumes: VOLUMES, Warnings: null });
        if (p === '/volumes/create') return json(201, { ...VOLUMES[0], Name: JSON.parse(body).Name || h('b') });
        if (p === '/volumes/prune') return json(200, { VolumesDeleted: ['data9', h('a')], SpaceReclaimed: 3456789 });
        m = /^\/volumes\/([^/]+)$/.exec(p);
        if (m) {
          const v = VOLUMES.find((x) => x.Name === m![1]);
          if (!v) return json(404, { message: `get ${m[1]}: no such volume` });
          if (req.method === 'DELETE') return v.UsageData?.RefCount ? json(409, { message: `remove ${m[1]}: volume is in use - [${h('c')}]` }) : none();
          return json(200, v);
        }
        if (p === '/containers/web/json') return json(200, { Id: h('c'), Name: '/web', NetworkSettings: { Ports: PORTS } });
        if (p === '/containers/bare/json') return json(200, { Id: h('d'), Name: '/bare', NetworkSettings: { Ports: {} } });
        if (p === '/containers/prune') return json(200, { ContainersDeleted: [h('e')], SpaceReclaimed: 1000 });
        if (p === '/images/prune') return json(200, { ImagesDeleted: [{ Untagged: 'busybox:old' }, { Deleted: `sha256:${h('4')}` }], SpaceReclaimed: 12345678 });
        if (p === '/build/prune') return json(200, { CachesDeleted: null, SpaceReclaimed: 0 });
        if (p === '/system/df') return json(200, DF);
        if (p === '/containers/json') return json(200, CONTAINERS);
        return json(404, { message: `page not found: ${p}` });
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const docker = (args: string[], input = '') =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const env = { PATH: process.env.PATH, HOME: dir, TZ: 'UTC', DOCKER_CONFIG: path.join(dir, 'config'), DOCKER_HOST: `unix://${sock}`, DOCKER_CLI_HINTS: 'false' };
      const child = spawn('docker', args, { env });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      child.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() }));
      // A CLI that refuses its arguments exits without reading stdin.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });

  const berth = async (args: string[], input = '') => {
    const out = collector();
    const err = collector();
    const stdin = new PassThrough();
    stdin.end(input);
    const code = await runCli(args, { out, err, in: stdin, env: { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'config') } });
    return { code, out: out.text(), err: err.text() };
  };

  const both = async (args: string[], input = '') => {
    requests = [];
    const b = await berth(args, input);
    const bReqs = requests;
    requests = [];
    const d = await docker(args, input);
    const dReqs = requests;
    return { b, d, bReqs, dReqs };
  };

  // Output, errors and status; and, with `requests`, the requests sent
  // (bodies compared as JSON values).
  const same = (args: string[], opts: { input?: string; requests?: boolean } = {}) =>
    it(args.join(' '), async () => {
      const { b, d, bReqs, dReqs } = await both(args, opts.input);
      assert.equal(b.out, d.out);
      assert.equal(b.err, d.err.replace(/docker/g, 'berth'));
      assert.equal(b.code, d.code);
      if (opts.requests) {
        // docker orders a network's subnets by walking a Go map (randomly).
        const body = (text: string) => {
          const b = text && JSON.parse(text);
          b?.IPAM?.Config?.sort((x: { Subnet: string }, y: { Subnet: string }) => (x.Subnet < y.Subnet ? -1 : 1));
          return b;
        };
        const shape = (rs: Req[]) => rs.map((r) => ({ ...r, query: { ...r.query, filters: r.query.filters && JSON.parse(r.query.filters) }, body: body(r.body) }));
        assert.deepEqual(shape(bReqs), shape(dReqs));
      }
    });

  describe('network', () => {
    same(['network', 'ls']);
    same(['network', 'ls', '--no-trunc']);
    same(['network', 'ls', '-q']);
    same(['network', 'list', '-q', '--no-trunc', '-f', 'driver=bridge', '-f', 'label=tier'], { requests: true });
    same(['network', 'ls', '--format', '{{.Name}} {{.IPv4}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.Label "tier"}} {{.CreatedAt}}']);
    same(['network', 'ls', '--format', 'json']);
    same(['network', 'ls', '--format', '{{json .}}', '--no-trunc']);
    same(['network', 'ls', '--format', 'table {{.ID}}\\t{{.Name}}\\t{{.Internal}}']);
    same(['network', 'ls', '--format', 'raw']);
    same(['network', 'inspect', 'net10']);
    same(['network', 'inspect', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{json .Labels}}', 'net10', 'bridge']);
    same(['network', 'inspect', 'net10', 'nope']);
    same(['network', 'inspect', '-v', 'net10'], { requests: true });
    same(['network', 'create', 'plain'], { requests: true });
    same(['network', 'create', '-d', 'bridge', '--subnet', '10.9.0.0/16', '--gateway', '10.9.0.1', '--ip-range', '10.9.1.0/24', '--internal', '--attachable', '--label', 'a=b', '--label', 'c', '-o', 'com.docker.network.bridge.name=br9', '--opt', 'mtu=1400', '--ipam-opt', 'x=y', '--aux-address', 'host1=10.9.0.5', 'n9'], { requests: true });
    same(['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:1::/64', '--scope', 'local', '--ipam-driver', 'default', '--config-only', 'v6'], { requests: true });
    same(['network', 'create', '--config-from', 'v6', 'fromcfg'], { requests: true });
    same(['network', 'create', '--subnet', '10.1.0.0/16,10.2.0.0/16', '--gateway', '10.1.0.1', 'two'], { requests: true });
    same(['network', 'create', '--gateway', '10.1.0.1', 'nosubnet']);
    same(['network', 'create', '--subnet', '10.1.0.0/16', '--subnet', '10.1.2.0/24', 'overlap']);
    same(['network', 'create', '--subnet', '10.1.0.0/16', '--gateway', '10.2.0.1', 'nogw']);
    same(['network', 'create', '--subnet', '10.1.0.0/16', '--ip-range', '10.3.0.0/24', 'norange']);
    same(['network', 'create', '--subnet', 'bogus', 'bad']);
    same(['network', 'create', '--label', '=x', 'badlabel']);
    same(['network', 'create']);
    same(['network', 'rm', 'net10', 'nope', 'bridge', 'net9'], { requests: true });
    same(['network', 'rm', '-f', 'nope', 'net9']);
    same(['network', 'prune', '-f'], { requests: true });
    same(['network', 'prune', '--filter', 'until=24h', '--filter', 'label=a'], { input: 'y\n', requests: true });
    same(['network', 'prune'], { input: 'n\n' });
    same(['network', 'connect', 'net10', 'web'], { requests: true });
    same(['network', 'connect', '--ip', '172.30.0.9', '--ip6', 'fd00::9', '--alias', 'a,b', '--alias', 'c', '--link', 'db:d', '--link-local-ip', '169.254.0.9', '--driver-opt', 'k=v', '--gw-priority', '3', 'net10', 'web'], { requests: true });
    same(['network', 'connect', 'net9', 'web']);
    same(['network', 'connect', 'net10']);
    same(['network', 'disconnect', 'net10', 'web'], { requests: true });
    same(['network', 'disconnect', '-f', 'nope', 'web'], { requests: true });
    same(['inspect', '--type', 'network', 'net10']);
  });

  describe('volume', () => {
    same(['volume', 'ls']);
    same(['volume', 'ls', '-q']);
    same(['volume', 'list', '-f', 'dangling=true', '-f', 'name=data'], { requests: true });
    same(['volume', 'ls', '--format', '{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Mountpoint}}|{{.Labels}}|{{.Links}}|{{.Size}}|{{.Label "app"}}']);
    same(['volume', 'ls', '--format', 'json']);
    same(['volume', 'ls', '--format', 'table {{.Name}}\\t{{.Links}}\\t{{.Size}}']);
    same(['volume', 'ls', '--format', 'raw']);
    same(['volume', 'inspect', 'data10']);
    same(['inspect', 'data10']);
    same(['inspect', '--type', 'volume', '--format', '{{json .Labels}}', 'data10']);
    same(['volume', 'inspect', '--format', '{{.Name}} {{.Mountpoint}} {{json .Options}}', 'data9', 'nope']);
    same(['volume', 'create'], { requests: true });
    same(['volume', 'create', 'named'], { requests: true });
    same(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=100m,uid=1000', '--label', 'a=b', '--label', 'c', '--name', 'viaflag'], { requests: true });
    same(['volume', 'create', '--name', 'a', 'b']);
    same(['volume', 'rm', 'data10', 'nope', h('a')], { requests: true });
    same(['volume', 'rm', '-f', 'data9'], { requests: true });
    same(['volume', 'prune', '-f'], { requests: true });
    same(['volume', 'prune', '-a', '--filter', 'label=x'], { input: 'y\n', requests: true });
    same(['volume', 'prune'], { input: 'n\n' });
    same(['volume', 'prune', '-a', '-f', '--filter', 'all=1']);
  });

  describe('port', () => {
    same(['port', 'web']);
    same(['port', 'web', '80']);
    same(['container', 'port', 'web', '53/udp']);
    same(['port', 'web', '9000']);
    same(['port', 'web', '81/tcp']);
    same(['port', 'web', 'http']);
    same(['port', 'web', '99999']);
    same(['port', 'bare']);
    same(['port', 'nope']);
    same(['port']);
  });

  describe('ps', () => {
    same(['ps']);
    same(['ps', '--format', '{{.Ports}}|{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}']);
    same(['ps', '-f', 'network=n1', '-f', 'publish=8080', '-f', 'expose=9000-9001/tcp', '-f', 'volume=data10', '-q']);
  });

  describe('prune and df', () => {
    same(['container', 'prune', '-f'], { requests: true });
    same(['container', 'prune'], { input: 'n\n' });
    same(['system', 'prune', '-f'], { requests: true });
    same(['system', 'prune', '-a', '--volumes', '-f', '--filter', 'label=x=y'], { requests: true });
    same(['system', 'prune'], { input: 'n\n' });
    same(['system', 'prune', '-a', '--volumes', '--filter', 'label=a', '--filter', 'until=1h', '--filter', 'label!=b'], { input: 'n\n' });
    same(['system', 'prune', '--filter', 'label=b'], { input: 'y\n', requests: true });
    same(['system', 'prune', '--volumes', '--filter', 'until=1h']);
    same(['system', 'df']);
    same(['system', 'df', '-v']);
    same(['system', 'df', '-v', '--format', 'json']);
    same(['system', 'df', '--format', 'json']);
    same(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}']);
  });
});
