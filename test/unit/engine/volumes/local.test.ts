import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ANONYMOUS_LABEL, LocalVolumes } from '../../../../src/engine/volumes/local';
import { VolumeStore } from '../../../../src/engine/volumes/store';
import type { MountSpec } from '../../../../src/engine/containers/spec';
import { FakeHost } from '../../host/fake-host';

const kind = (k: string, re?: RegExp) => (err: any) => err?.kind === k && (!re || re.test(err.message));

describe('LocalVolumes', () => {
  let dir: string;
  let host: FakeHost;
  let events: string[];
  let users: Map<string, string[]>;
  const make = () => new LocalVolumes({
    host,
    store: new VolumeStore(path.join(dir, 'volumes')),
    tars: { apply: async () => { throw new Error('no copy-up expected'); }, packDir: () => Readable.from([]) },
    events: { publish: (type, action, id) => { events.push(`${type} ${action} ${id}`); } },
    users: (name) => users.get(name) ?? [],
    log: () => {},
  });
  let vs: LocalVolumes;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
    host = new FakeHost();
    events = [];
    users = new Map();
    vs = make();
    await vs.init();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('creates a volume once; a second create of the name returns it', async () => {
    const v = await vs.create({ name: 'data', labels: { a: 'b' } });
    assert.equal(v.driver, 'local');
    assert.match(v.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(fs.statSync(vs.mountpoint('data')).isDirectory(), true);
    assert.equal((await vs.create({ name: 'data' })).labels.a, 'b');
    assert.deepEqual(events, ['volume create data']);
    assert.match((await vs.create({})).name, /^[0-9a-f]{64}$/);
    await assert.rejects(vs.create({ name: 'x', driver: 'flocker' }), kind('NotFound', /plugin "flocker" not found/));
    await assert.rejects(vs.create({ name: 'x/y' }), kind('InvalidArgument'));
    await assert.rejects(vs.create({ name: 'xy', options: { bogus: '1' } }), kind('InvalidArgument', /invalid option: "bogus"/));
  });

  test('prepare makes named and anonymous volumes and -v host dirs; refuses duplicates and a missing --mount source', async () => {
    const hostDir = path.join(dir, 'made', 'here');
    const out = await vs.prepare('c1', [
      { type: 'volume', source: 'named', target: '/n', readonly: false },
      { type: 'volume', source: '', target: '/a', readonly: false, anonymous: true },
      { type: 'bind', source: hostDir, target: '/h', readonly: true, createHostPath: true },
    ]);
    assert.equal(out[0].source, 'named');
    assert.match(out[1].source, /^[0-9a-f]{64}$/);
    assert.ok(ANONYMOUS_LABEL in vs.get(out[1].source).labels);
    assert.equal(fs.statSync(hostDir).isDirectory(), true);
    // Held by the create until its record lands.
    await assert.rejects(vs.remove('named'), kind('Conflict', /^remove named: volume is in use - \[c1\]$/));
    vs.settled('c1');
    await vs.remove('named');
    await assert.rejects(vs.prepare('c2', [{ type: 'bind', source: path.join(dir, 'nope'), target: '/x', readonly: false }]),
      kind('InvalidArgument', /bind source path does not exist/));
    await assert.rejects(vs.prepare('c3', [{ type: 'tmpfs', source: '', target: '/x', readonly: false }, { type: 'tmpfs', source: '', target: '/x', readonly: false }]),
      kind('InvalidArgument', /^Duplicate mount point: \/x$/));
  });

  test('a failed prepare removes the anonymous volumes it made', async () => {
    await assert.rejects(vs.prepare('c1', [
      { type: 'volume', source: '', target: '/a', readonly: false, anonymous: true },
      { type: 'bind', source: path.join(dir, 'nope'), target: '/b', readonly: false },
    ]));
    assert.deepEqual(vs.list(), []);
  });

  test('a tmpfs volume is mounted by its first user and unmounted by its last, across a restart', async () => {
    await vs.create({ name: 'tv', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
    const m: MountSpec[] = [{ type: 'volume', source: 'tv', target: '/x', readonly: false, noCopy: true }];
    const data = vs.mountpoint('tv');
    const oci = await vs.mount('c1', m, path.join(dir, 'root'));
    assert.deepEqual(oci, [{ destination: '/x', type: 'bind', source: data, options: ['rbind', 'rprivate'] }]);
    assert.deepEqual(host.mounts.get(data), { source: 'tmpfs', fstype: 'tmpfs', flags: 0, data: 'size=1m' });
    await vs.mount('c2', m, path.join(dir, 'root'));
    assert.equal(host.callsOf('mount').length, 1);
    await vs.unmount('c1', m);
    assert.ok(host.mounts.has(data));
    await vs.unmount('c1', m); // twice is harmless
    assert.ok(host.mounts.has(data));

    // The daemon restarts: c2 is recorded as holding the mount; it died meanwhile.
    const again = make();
    await again.init();
    assert.deepEqual(again.get('tv').mountedBy, ['c2']);
    await again.reconcile((id) => id !== 'c2');
    assert.equal(host.mounts.has(data), false);
    assert.deepEqual(again.get('tv').mountedBy, []);
    assert.deepEqual(events.filter((e) => e.includes('mount')), ['volume mount tv', 'volume mount tv', 'volume unmount tv']);
  });

  test('mounts come out parents first; binds and tmpfs with Docker\'s options', async () => {
    const hostDir = path.join(dir, 'h');
    fs.mkdirSync(hostDir);
    const oci = await vs.mount('c1', [
      { type: 'bind', source: hostDir, target: '/a/b/c', readonly: true, propagation: 'rslave' },
      { type: 'tmpfs', source: '', target: '/a', readonly: false, tmpfsOptions: ['size=1m', 'exec'] },
      { type: 'bind', source: hostDir, target: '/a/b', readonly: false, nonRecursive: true },
    ], path.join(dir, 'root'));
    assert.deepEqual(oci, [
      { destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'exec'] },
      { destination: '/a/b', type: 'bind', source: hostDir, options: ['bind', 'rprivate'] },
      { destination: '/a/b/c', type: 'bind', source: hostDir, options: ['rbind', 'rslave', 'ro'] },
    ]);
  });

  test('release removes anonymous volumes no one else uses, never named ones', async () => {
    const out = await vs.prepare('c1', [
      { type: 'volume', source: 'named', target: '/n', readonly: false },
      { type: 'volume', source: '', target: '/a', readonly: false, anonymous: true },
    ]);
    vs.settled('c1');
    const anon = out[1].source;
    users.set(anon, ['c2']);
    await vs.release('c1', out, { removeAnonymous: true });
    assert.deepEqual(vs.list().map((v) => v.name).sort(), [anon, 'named'].sort());
    users.clear();
    await vs.release('c1', out, { removeAnonymous: false });
    assert.equal(vs.list().length, 2);
    await vs.release('c1', out, { removeAnonymous: true });
    assert.deepEqual(vs.list().map((v) => v.name), ['named']);
    assert.ok(events.includes(`volume destroy ${anon}`));
  });

  test('remove and prune spare volumes in use; prune reports the bytes it freed', async () => {
    await vs.create({ name: 'used' });
    await vs.create({ name: 'free' });
    fs.writeFileSync(path.join(vs.mountpoint('free'), 'f'), Buffer.alloc(1234));
    fs.mkdirSync(path.join(vs.mountpoint('free'), 'd'));
    fs.writeFileSync(path.join(vs.mountpoint('free'), 'd', 'g'), Buffer.alloc(10));
    fs.linkSync(path.join(vs.mountpoint('free'), 'f'), path.join(vs.mountpoint('free'), 'hard'));
    users.set('used', ['c9']);
    await assert.rejects(vs.remove('used', { force: true }), kind('Conflict', /volume is in use - \[c9\]/));
    assert.deepEqual(await vs.usage('free'), { size: 1244, refCount: 0 });
    assert.deepEqual(await vs.prune(() => true), { names: ['free'], reclaimed: 1244 });
    assert.deepEqual(vs.list().map((v) => v.name), ['used']);
    await assert.rejects(vs.remove('free'), kind('NotFound', /^get free: no such volume$/));
    await vs.remove('free', { force: true });
  });

  test('init drops a volume directory without a record', async () => {
    fs.mkdirSync(path.join(dir, 'volumes', 'half', '_data'), { recursive: true });
    const again = make();
    await again.init();
    assert.equal(fs.existsSync(path.join(dir, 'volumes', 'half')), false);
  });
});
