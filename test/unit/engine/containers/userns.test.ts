// ContainerService with userns-remap, through its seams (fake runtime,
// host, snapshotter): what is refused, how the root is mounted, the spec.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { harness, spec, type Harness } from './fakes';

const REMAP = { uid: 100000, gid: 200000, size: 65536, view: (p: string) => p.replace('/overlay/', '/100000.200000/overlay/') };

const invalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

let h: Harness;

describe('ContainerService with userns-remap', () => {
  beforeEach(async () => {
    h = await harness({ remap: REMAP });
  });
  afterEach(() => h.cleanup());

  test('refuses --privileged, --network host and --pid host without --userns=host, with moby\'s words', async () => {
    const sec = spec().security;
    await assert.rejects(h.service.create(spec({ security: { ...sec, privileged: true } })), invalid(/^privileged mode is incompatible with user namespaces\.  You must run the container in the host namespace when running privileged mode$/));
    await assert.rejects(h.service.create(spec({ network: { mode: 'host' } })), invalid(/cannot share the host's network namespace when user namespaces are enabled/));
    await assert.rejects(h.service.create(spec({ pid: { mode: 'host' } })), invalid(/cannot share the host PID namespace when user namespaces are enabled/));
    await h.service.create(spec({ userns: 'host', network: { mode: 'host' }, pid: { mode: 'host' } }));
  });

  test('a remapped start: the overlay through the view as the remapped root, a user namespace with the map, -w made as it', async () => {
    const { id } = await h.service.create(spec({ process: { ...spec().process, cwd: '/missing/deep' } }), { name: 'remapped' });
    await h.service.start('remapped');
    const [m] = h.host.callsOf('mountAs');
    assert.deepEqual(m.args[0], { uid: 100000, gid: 200000 });
    assert.equal(h.host.callsOf('mount').length, 0);
    const [mk] = h.host.callsOf('mkdirAs');
    assert.deepEqual(mk.args[0], REMAP);
    assert.match(String(mk.args[1]), /\/merged\/missing\/deep$/);
    const s = h.runtime.procs.get(id)!.spec;
    assert.ok(s.linux.namespaces.some((n) => n.type === 'user' && !n.path));
    assert.deepEqual(s.linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
    assert.deepEqual(s.linux.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
    assert.deepEqual(h.service.idmapOf(h.service.get(id)), { uid: 100000, gid: 200000, size: 65536 });
  });

  test('--userns=host: a plain mount, no user namespace, no id map', async () => {
    const { id } = await h.service.create(spec({ userns: 'host' }), { name: 'hostns' });
    await h.service.start('hostns');
    assert.equal(h.host.callsOf('mountAs').length, 0);
    assert.equal(h.host.callsOf('mount').length, 1);
    const s = h.runtime.procs.get(id)!.spec;
    assert.ok(!s.linux.namespaces.some((n) => n.type === 'user'));
    assert.equal(s.linux.uidMappings, undefined);
    assert.equal(h.service.idmapOf(h.service.get(id)), undefined);
  });
});
