import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { InternalGuard } from '../../../../src/engine/network/guard';
import type { Netavark } from '../../../../src/engine/network/netavark';
import type { NetworkEndpoint } from '../../../../src/engine/network/network';
import { NetworkService } from '../../../../src/engine/network/service';
import type { Attachment, NetworkRecord } from '../../../../src/engine/network/types';
import type { NetworkSpec } from '../../../../src/engine/containers/spec';
import { FakeHost } from '../../host/fake-host';

class FakeNetavark {
  calls: { verb: string; netns: string; ctr: string; ip: string; net: string; ports: number[] }[] = [];
  failSetup = false;
  // When set, teardowns wait for it (a teardown still running).
  gate?: Promise<void>;
  async setup(netns: string, c: { id: string }, a: Attachment, n: NetworkRecord): Promise<string> {
    if (this.failSetup) throw new Error('netavark setup: boom');
    this.calls.push({ verb: 'setup', netns, ctr: c.id, ip: a.ip, net: n.name, ports: a.ports.map((p) => p.hostPort) });
    return a.mac;
  }
  async setupAll(netns: string, c: { id: string }, nets: { a: Attachment; n: NetworkRecord }[]): Promise<string[]> {
    const macs: string[] = [];
    for (const { a, n } of nets) macs.push(await this.setup(netns, c, a, n));
    return macs;
  }
  async teardown(netns: string, c: { id: string }, a: Attachment, n: NetworkRecord): Promise<void> {
    await this.gate;
    this.calls.push({ verb: 'teardown', netns, ctr: c.id, ip: a.ip, net: n.name, ports: a.ports.map((p) => p.hostPort) });
  }
}

describe('NetworkService', () => {
  let dir: string;
  let host: FakeHost;
  let nv: FakeNetavark;
  let events: { type: string; action: string; id: string; attrs: Record<string, string> }[];
  let svc: NetworkService;
  const make = (poolSize = 0) =>
    new NetworkService(host, { publish: (type, action, id, attrs = {}) => events.push({ type, action, id, attrs }) }, {
      poolSize,
      guard: { install: async () => {}, remove: async () => {}, keepIsolation: async () => {}, dropIsolation: async () => {} } as unknown as InternalGuard,
      root: path.join(dir, 'd'),
      execRoot: path.join(dir, 'x'),
      config: { bridge: 'btest0', bip: '10.99.0.1/24', pools: [{ base: '10.98.0.0/16', size: 24 }] },
      log: () => {},
      netavark: nv as unknown as Netavark,
    });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-net-'));
    host = new FakeHost();
    nv = new FakeNetavark();
    events = [];
    svc = make();
    await svc.init();
  });
  afterEach(() => {
    svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ep = (id: string, network: NetworkSpec): NetworkEndpoint => {
    const files = { hosts: path.join(dir, `${id}.hosts`), hostname: path.join(dir, `${id}.hostname`), resolvConf: path.join(dir, `${id}.resolv`) };
    return { id, name: `c-${id.slice(0, 4)}`, files, hostname: id.slice(0, 12), domainname: '', network };
  };
  const start = async (e: NetworkEndpoint) => {
    svc.check(e.network);
    await svc.writeFiles(e, e.files);
    await svc.prepare(e);
    await svc.attach(e, 1234);
  };

  test('has bridge, host and none; the bridge follows bip', () => {
    assert.deepEqual(svc.list().map((n) => n.name).sort(), ['bridge', 'host', 'none']);
    const b = svc.get('bridge');
    assert.equal(b.subnet, '10.99.0.0/24');
    assert.equal(b.gateway, '10.99.0.1');
    assert.equal(b.bridge, 'btest0');
  });

  test('user networks: subnets from the pools, no overlaps, no duplicate names, unknown options refused', async () => {
    const a = await svc.create({ name: 'a' });
    assert.equal(a.subnet, '10.98.0.0/24');
    assert.equal((await svc.create({ name: 'b' })).subnet, '10.98.1.0/24');
    await assert.rejects(svc.create({ name: 'a' }), /network with name a already exists/);
    await assert.rejects(svc.create({ name: 'c', subnet: '10.98.0.128/25' }), /Pool overlaps/);
    await assert.rejects(svc.create({ name: 'd', options: { 'com.docker.network.bridge.enable_icc': 'false' } }), /network option com\.docker\.network\.bridge\.enable_icc is not supported/);
    assert.deepEqual(events.filter((e) => e.type === 'network').map((e) => `${e.action} ${e.attrs.name}`), ['create a', 'create b']);
  });

  test('networks created at once get subnets of their own, and one name once', async () => {
    const made = await Promise.all([svc.create({ name: 'x1' }), svc.create({ name: 'x2' }), svc.create({ name: 'x3' })]);
    assert.equal(new Set(made.map((n) => n.subnet)).size, 3);
    const same = await Promise.allSettled([svc.create({ name: 'y' }), svc.create({ name: 'y' })]);
    assert.deepEqual(same.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });

  test('a container gets the next address after the gateway and the anchor, its hosts entry, ports, and all of it back on detach', async () => {
    const e = ep('c1'.padEnd(64, '0'), { mode: 'bridge', endpoints: [{ network: 'bridge', aliases: [] }], ports: [{ containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1', hostPort: 0 }] });
    await start(e);
    const c = svc.container(e.id)!;
    assert.equal(c.attached.length, 1);
    assert.equal(c.attached[0].ip, '10.99.0.2');
    assert.ok(c.attached[0].ports[0].hostPort > 0, 'an ephemeral port');
    assert.match(fs.readFileSync(e.files.hosts, 'utf8'), /10\.99\.0\.2\tc1000000/);
    // The anchor (first) then the container.
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ip}`), ['setup 10.99.0.3', 'setup 10.99.0.2']);
    assert.deepEqual(host.callsOf('run').map((x) => (x.args as string[])[0]), ['unshare', 'unshare']);
    await svc.detach(e.id);
    assert.deepEqual(svc.container(e.id)!.attached, []);
    assert.equal(nv.calls.at(-1)!.verb, 'teardown');
    assert.deepEqual(events.filter((x) => x.type === 'network').map((x) => x.action), ['connect', 'disconnect']);
    await svc.forget(e.id);
    assert.equal(svc.container(e.id), undefined);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'd', 'containers')), []);
  });

  test('an unknown network passes create and fails the start with 404 text', async () => {
    const e = ep('c2'.padEnd(64, '0'), { mode: 'bridge', endpoints: [{ network: 'bogus', aliases: [] }] });
    svc.check(e.network);
    await svc.writeFiles(e, e.files);
    await assert.rejects(svc.prepare(e), (err: any) => err.kind === 'NotFound' && err.message === 'network bogus not found');
    assert.deepEqual(nv.calls, []);
  });

  test('a failed setup undoes the allocation and the ports', async () => {
    const e = ep('c3'.padEnd(64, '0'), { mode: 'bridge', ports: [{ containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1', hostPort: 0 }] });
    await svc.create({ name: 'x' });
    nv.failSetup = true;
    svc.check(e.network);
    await svc.writeFiles(e, e.files);
    const netns = (await svc.prepare(e))!;
    await assert.rejects(svc.attach(e, 1), /netavark setup: boom/);
    // The namespace stays until the start's failure path detaches: runc may
    // be joining it while the wiring fails.
    assert.ok(fs.existsSync(netns));
    await svc.detach(e.id);
    assert.deepEqual(svc.container(e.id)!.attached, []);
    assert.equal(svc.container(e.id)!.netns, undefined);
    assert.ok(!fs.existsSync(netns));
  });

  test('static addresses need a user subnet; a taken address and a network in use are refused', async () => {
    await svc.create({ name: 'auto' });
    assert.throws(() => svc.check({ mode: 'bridge', endpoints: [{ network: 'auto', ip: '10.98.0.9', aliases: [] }] }), /user configured subnets/);
    await svc.create({ name: 'fixed', subnet: '10.97.0.0/24' });
    const a = ep('c4'.padEnd(64, '0'), { mode: 'bridge', endpoints: [{ network: 'fixed', ip: '10.97.0.9', aliases: ['x'] }] });
    await start(a);
    assert.equal(svc.container(a.id)!.attached[0].ip, '10.97.0.9');
    const b = ep('c5'.padEnd(64, '0'), { mode: 'bridge', endpoints: [{ network: 'fixed', ip: '10.97.0.9', aliases: [] }] });
    svc.check(b.network);
    await svc.writeFiles(b, b.files);
    await assert.rejects(svc.prepare(b), /Address already in use/);
    await assert.rejects(svc.remove('fixed'), /has active endpoints/);
    await assert.rejects(svc.remove('bridge'), /pre-defined network/);
    // Its resolv.conf points at the network's DNS server.
    assert.match(fs.readFileSync(a.files.resolvConf, 'utf8'), /^nameserver 10\.97\.0\.1$/m);
  });

  test('a restart reloads the networks and attachments; reconcile tears down the ones whose container is gone', async () => {
    const e = ep('c6'.padEnd(64, '0'), { mode: 'bridge' });
    await start(e);
    svc.close();
    svc = make();
    await svc.init();
    assert.equal(svc.container(e.id)!.attached[0].ip, '10.99.0.2');
    nv.calls = [];
    await svc.reconcile(() => 'gone');
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ip}`), ['teardown 10.99.0.2']);
    assert.equal(svc.container(e.id), undefined);
  });

  test('a detach in the background: the container shows no network at once, its address stays taken and its record kept until the teardown is done', async () => {
    const a = ep('d1'.padEnd(64, '0'), { mode: 'bridge' });
    await start(a);
    assert.equal(svc.container(a.id)!.attached[0].ip, '10.99.0.2');
    let open!: () => void;
    nv.gate = new Promise<void>((r) => (open = r));
    await svc.detach(a.id, { background: true });
    assert.deepEqual(svc.container(a.id)!.attached, []);
    await svc.forget(a.id, { background: true });
    assert.equal(svc.container(a.id), undefined);
    // Still on disk (a crash now leaves it for reconcile), its address not given out.
    assert.deepEqual(fs.readdirSync(path.join(dir, 'd', 'containers')), [`${a.id}.json`]);
    const b = ep('d2'.padEnd(64, '0'), { mode: 'bridge' });
    await start(b);
    assert.equal(svc.container(b.id)!.attached[0].ip, '10.99.0.4');
    assert.ok(!nv.calls.some((x) => x.verb === 'teardown'));
    open();
    await svc.idle();
    assert.deepEqual(nv.calls.filter((x) => x.verb === 'teardown').map((x) => x.ip), ['10.99.0.2']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'd', 'containers')), [`${b.id}.json`]);
    assert.deepEqual(events.filter((x) => x.type === 'network' && x.id).map((x) => `${x.action} ${x.attrs.container?.slice(0, 2)}`), ['connect d1', 'disconnect d1', 'connect d2']);
  });

  test('the pool: a plain container takes a namespace wired in advance, others are wired for themselves, and a restart tears down what was left', async () => {
    svc.close();
    svc = make(2);
    await svc.init();
    await svc.reconcile(() => 'gone');
    await svc.idle();
    // The anchor (made for the first entry), then two entries under placeholder ids.
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ip} ${x.ctr.startsWith('berth-pool-') ? 'pool' : x.ctr.startsWith('berth-anchor-') ? 'anchor' : x.ctr}`), ['setup 10.99.0.3 anchor', 'setup 10.99.0.2 pool', 'setup 10.99.0.4 pool']);
    nv.calls = [];
    const a = ep('e1'.padEnd(64, '0'), { mode: 'bridge' });
    await start(a);
    const c = svc.container(a.id)!;
    assert.equal(c.attached[0].ip, '10.99.0.2');
    assert.match(c.netns!, /\/netns\/pool-[0-9a-f]{12}$/);
    assert.match(fs.readFileSync(a.files.hosts, 'utf8'), /^10\.99\.0\.2\te1000000/m);
    await svc.idle();
    // Nothing wired for it; one entry wired to replace it.
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ip} ${x.ctr.startsWith('berth-pool-') ? 'pool' : x.ctr}`), ['setup 10.99.0.5 pool']);
    // Published ports: wired for itself.
    const b = ep('e2'.padEnd(64, '0'), { mode: 'bridge', ports: [{ containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1', hostPort: 0 }] });
    await start(b);
    assert.equal(nv.calls.at(-1)!.ctr, b.id);
    // The pooled one is torn down under the id it was wired as.
    nv.calls = [];
    await svc.detach(a.id);
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ip} ${x.ctr.startsWith('berth-pool-') ? 'pool' : x.ctr}`), ['teardown 10.99.0.2 pool']);
    // A daemon killed with its pool full: the next one tears it down first.
    const left = fs.readdirSync(path.join(dir, 'd', 'pool'));
    assert.equal(left.length, 2);
    svc.close();
    nv.calls = [];
    svc = make(0);
    await svc.init();
    assert.deepEqual(nv.calls.map((x) => `${x.verb} ${x.ctr.startsWith('berth-pool-') ? 'pool' : x.ctr}`), ['teardown pool', 'teardown pool']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'd', 'pool')), []);
  });
});
