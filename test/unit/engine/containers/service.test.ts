// ContainerService through its seams, without root: the real record store
// on a temporary dir, a fake runtime, snapshotter and Host.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { ContainerStore } from '../../../../src/engine/containers/store';
import type { ContainerRecord } from '../../../../src/engine/containers/record';
import { harness, IMAGE, spec, type Harness } from './fakes';

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

const recordFile = (h: Harness, id: string) => path.join(h.dir, 'containers', id, 'config.v2.json');
const onDisk = (h: Harness, id: string): ContainerRecord => JSON.parse(fs.readFileSync(recordFile(h, id), 'utf8'));
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

let h: Harness;

describe('ContainerService', () => {
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.cleanup());

  describe('create', () => {
    test('writes the record last, with the network files, and publishes create', async () => {
      const { id } = await h.service.create(spec({ labels: { team: 'a' } }), { name: 'web', meta: { kept: true } });
      const rec = onDisk(h, id);
      assert.equal(rec.name, '/web');
      assert.equal(rec.spec.hostname, id.slice(0, 12));
      assert.equal(rec.spec.runtime, 'runc'); // the default filled in
      assert.deepEqual(rec.meta, { kept: true });
      assert.equal(rec.state.status, 'created');
      assert.equal(fs.readFileSync(path.join(h.dir, 'containers', id, 'hostname'), 'utf8'), `${id.slice(0, 12)}\n`);
      assert.ok(fs.existsSync(path.join(h.rootfs.containerDir(id), 'diff')));
      assert.deepEqual(h.events.map((e) => [e.type, e.action, e.attributes.name, e.attributes.team]), [['container', 'create', 'web', 'a']]);
    });

    test('refuses what cannot be had, leaving nothing behind', async () => {
      await h.service.create(spec(), { name: 'web' });
      const cases: [Parameters<typeof h.service.create>, string, RegExp][] = [
        [[spec(), { name: 'web' }], 'Conflict', /name "\/web" is already in use/],
        [[spec(), { name: 'bad name' }], 'InvalidArgument', /Invalid container name/],
        [[spec({ image: { id: 'sha256:' + 'c'.repeat(64), ref: 'nope' } })], 'NotFound', /No such image: nope/],
        [[spec({ runtime: 'kata' })], 'InvalidArgument', /unknown or invalid runtime name: kata/],
        [[spec({ stop: { signal: 'SIGBOGUS' } })], 'InvalidArgument', /Invalid signal/],
        [[{ ...spec(), process: { ...spec().process, cwd: 'rel' } }], 'InvalidArgument', /needs to be an absolute path/],
        [[{ ...spec(), process: { ...spec().process, cmd: null } }], 'InvalidArgument', /No command specified/],
        [[spec({ mounts: [{ type: 'bind', source: '/tmp', target: '/x', readonly: false }] })], 'InvalidArgument', /bind mounts are not supported yet \(\/x\)/],
        [[spec({ network: { mode: 'container', container: 'nosuch' } })], 'InvalidArgument', /cannot join container nosuch: No such container/],
      ];
      for (const [args, kind, re] of cases) await assert.rejects(h.service.create(...args), isKind(kind, re), String(re));
      assert.equal(fs.readdirSync(path.join(h.dir, 'containers')).length, 1);
      assert.equal(h.service.list().length, 1);
      // A refused create holds no name.
      await h.service.create(spec(), { name: 'bad-mount-free' });
    });

    test('resolves a container to join to its id', async () => {
      const { id } = await h.service.create(spec(), { name: 'pod' });
      const { id: j } = await h.service.create(spec({ network: { mode: 'container', container: 'pod' }, pid: { mode: 'container', container: id.slice(0, 8) } }));
      const rec = h.service.get(j);
      assert.deepEqual(rec.spec.network, { mode: 'container', container: id });
      assert.deepEqual(rec.spec.pid, { mode: 'container', container: id });
    });
  });

  describe('start and exit', () => {
    test('start builds the OCI spec, runs the process and saves it running', async () => {
      const { id } = await h.service.create(spec({ annotations: { a: 'b' }, domainname: 'ex.org' }), { name: 'web' });
      await h.service.start('web');
      const rec = onDisk(h, id);
      assert.equal(rec.state.status, 'running');
      assert.ok(rec.state.pid > 0);
      const oci = h.runtime.procs.get(id)!.spec;
      assert.deepEqual(oci.process.args, ['sleep', '100']);
      assert.deepEqual(oci.annotations, { a: 'b' });
      assert.deepEqual(oci.linux.sysctl, { 'kernel.domainname': 'ex.org' });
      assert.ok(oci.linux.namespaces.some((n) => n.type === 'network' && !n.path));
      assert.ok(oci.linux.seccomp, 'the default seccomp profile');
      assert.equal(h.host.callsOf('mount').length, 1);
      await assert.rejects(h.service.start(id), isKind('NotModified'));
      assert.deepEqual(h.events.map((e) => e.action), ['create', 'start']);
    });

    test('joined namespaces come from the running container; a stopped one cannot be joined', async () => {
      const { id: pod } = await h.service.create(spec(), { name: 'pod' });
      const { id } = await h.service.create(spec({ network: { mode: 'container', container: 'pod' }, ipc: { mode: 'host' }, uts: { mode: 'container', container: 'pod' } }));
      await assert.rejects(h.service.start(id), isKind('Conflict', /cannot join container pod: it is not running/));
      assert.equal(h.host.callsOf('mount').length, 0, 'nothing mounted for a start that cannot be');
      await h.service.start(pod);
      await h.service.start(id);
      const podPid = h.service.get(pod).state.pid;
      const ns = h.runtime.procs.get(id)!.spec.linux.namespaces;
      assert.deepEqual(ns.find((n) => n.type === 'network'), { type: 'network', path: `/proc/${podPid}/ns/net` });
      assert.deepEqual(ns.find((n) => n.type === 'uts'), { type: 'uts', path: `/proc/${podPid}/ns/uts` });
      assert.equal(ns.find((n) => n.type === 'ipc'), undefined);
      assert.equal(h.runtime.procs.get(id)!.spec.hostname, undefined);
    });

    test('an exit is saved before the runtime forgets the container', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      const order: string[] = [];
      const save = h.store.save.bind(h.store);
      h.store.save = async (rec, sync) => {
        order.push(`save ${rec.state.status}`);
        return save(rec, sync);
      };
      const del = h.runtime.delete.bind(h.runtime);
      h.runtime.delete = async (ref) => {
        order.push('delete');
        return del(ref);
      };
      const wait = h.service.wait(id, 'next-exit');
      h.runtime.exit(id, 7);
      assert.deepEqual(await wait, { StatusCode: 7, Error: null });
      assert.deepEqual(order, ['save exited', 'delete']);
      assert.equal(onDisk(h, id).state.exitCode, 7);
      assert.equal(h.events.at(-1)?.action, 'die');
      assert.equal(h.events.at(-1)?.attributes.exitCode, '7');
    });

    test('a process that exits while its start is finishing dies after its start event', async () => {
      const { id } = await h.service.create(spec());
      // The process exits the moment it starts, while the start's record
      // save is still on its way.
      const start = h.runtime.start.bind(h.runtime);
      h.runtime.start = async (ref) => {
        await start(ref);
        h.runtime.exit(ref.id, 0);
      };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const save = h.store.save.bind(h.store);
      h.store.save = async (rec, sync) => {
        if (rec.state.status === 'running') await gate;
        return save(rec, sync);
      };
      const exited = h.service.wait(id, 'next-exit');
      const started = h.service.start(id);
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      release();
      await started;
      await exited;
      const actions = h.events.filter((e) => e.type === 'container').map((e) => e.action);
      assert.deepEqual(actions.slice(-2), ['start', 'die']);
    });

    test('a start that comes while an exit is being cleaned up waits for it', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      // The exit's runtime delete hangs until let go.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const del = h.runtime.delete.bind(h.runtime);
      h.runtime.delete = async (ref) => {
        await gate;
        return del(ref);
      };
      h.runtime.exit(id, 42);
      while (h.service.get(id).state.status === 'running') await new Promise((r) => setImmediate(r));
      // The state says exited from the cleanup's start, so a `docker wait`
      // that comes now answers at once…
      assert.deepEqual(await h.service.wait(id, 'not-running'), { StatusCode: 42, Error: null });
      // …and the client starts it again while the old run is let go of.
      const started = h.service.start(id);
      let done = false;
      void started.then(() => (done = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(done, false, 'the start waits for the exit\'s cleanup');
      assert.ok(!h.runtime.log.slice(-1)[0]?.startsWith('create'), h.runtime.log.join(','));
      release();
      await started;
      const tail = h.runtime.log.slice(-3);
      assert.deepEqual(tail.map((l) => l.split(' ')[0]), ['delete', 'create', 'start']);
      assert.equal(h.service.get(id).state.status, 'running');
      assert.ok(h.host.mounts.has(path.join(h.rootfs.containerDir(id), 'merged')), 'the new run keeps its mount');
    });

    test('a waiter or log follower that goes away is let go before the container exits', { timeout: 10_000 }, async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      const ac = new AbortController();
      const wait = h.service.wait(id, 'next-exit', ac.signal);
      const follow = h.service.logs(id, { stdout: true, stderr: true, follow: true }, ac.signal);
      const drained = (async () => { for await (const _ of follow) { /* no output */ } })();
      ac.abort();
      assert.deepEqual(await wait, { StatusCode: 0, Error: null });
      await drained;
      assert.equal(h.service.get(id).state.status, 'running');
    });

    test('auto-remove removes the container after it exits', async () => {
      const { id } = await h.service.create(spec({ autoRemove: true }));
      const removed = h.service.wait(id, 'removed');
      await h.service.start(id);
      h.runtime.exit(id, 0);
      await removed;
      // Reported removed once its record is gone; its dirs follow.
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id, 'config.v2.json')), false);
      assert.throws(() => h.service.get(id), isKind('NotFound'));
      await h.service.idle();
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
      assert.equal(fs.existsSync(h.rootfs.containerDir(id)), false);
      assert.deepEqual(h.events.map((e) => e.action), ['create', 'start', 'die', 'destroy']);
    });

    test('auto-remove: the runtime state of the exit goes after the removal is answered (the daemon\'s stop waits for it)', async () => {
      const { id } = await h.service.create(spec({ autoRemove: true }));
      await h.service.start(id);
      let release!: () => void;
      const del = h.runtime.delete.bind(h.runtime);
      h.runtime.delete = async (ref) => {
        await new Promise<void>((r) => { release = r; });
        return del(ref);
      };
      const removed = h.service.wait(id, 'removed');
      h.runtime.exit(id, 0);
      assert.deepEqual(await removed, { StatusCode: 0, Error: null });
      assert.throws(() => h.service.get(id), isKind('NotFound'));
      assert.ok(!h.runtime.log.includes(`delete ${id}`));
      let idle = false;
      const settled = h.service.idle().then(() => { idle = true; });
      await new Promise((r) => setImmediate(r));
      assert.equal(idle, false);
      release();
      await settled;
      assert.ok(h.runtime.log.includes(`delete ${id}`));
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
    });

    test('a --rm container restarted before its auto-removal has the runtime state of its exit deleted before it is created again', async () => {
      const { id } = await h.service.create(spec({ autoRemove: true, stop: { signal: 'SIGTERM', timeout: 5 } }));
      await h.service.start(id);
      await h.service.restart(id);
      const log = h.runtime.log.filter((l) => l.endsWith(id));
      const second = log.lastIndexOf(`create ${id}`);
      assert.ok(second > 0 && log.slice(0, second).includes(`delete ${id}`), log.join(', '));
      assert.equal(h.service.get(id).state.status, 'running');
      // Its next exit removes it.
      const removed = h.service.wait(id, 'removed');
      h.runtime.exit(id, 0);
      await removed;
      await h.service.idle();
      assert.equal(h.runtime.log.filter((l) => l === `delete ${id}`).length, 2);
    });

    test('an orphaned container directory has whatever the runtime kept of it removed at the next start', async () => {
      const { id } = await h.service.create(spec({ autoRemove: true }));
      await h.service.start(id);
      // A removal cut short after its point of no return: the record is
      // gone, the directory and the runtime's state are not.
      fs.rmSync(path.join(h.dir, 'containers', id, 'config.v2.json'));
      const s2 = await h.restart();
      assert.throws(() => s2.get(id), isKind('NotFound'));
      assert.ok(h.runtime.log.includes(`forget ${id}`));
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
    });

    test('an auto-removed container whose removal a daemon stop cut short is removed at the next start', async () => {
      const { id } = await h.service.create(spec({ autoRemove: true }));
      await h.service.start(id);
      // The removal after the exit waits for the container's lock.
      let release!: () => void;
      const held = h.service.withLock(id, () => new Promise<void>((r) => { release = r; }));
      const exited = h.service.wait(id, 'next-exit');
      h.runtime.exit(id, 3);
      await exited;
      // Its exit is not saved: the record still says running.
      assert.equal(onDisk(h, id).state.status, 'running');
      const s2 = await h.restart();
      assert.throws(() => s2.get(id), isKind('NotFound'));
      await s2.idle();
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
      release();
      await held;
    });
  });

  describe('stop, kill and remove', () => {
    test('stop sends the stop signal and waits for the exit', async () => {
      const { id } = await h.service.create(spec({ stop: { signal: 'SIGTERM', timeout: 5 } }));
      await h.service.start(id);
      await h.service.stop(id);
      assert.equal(h.service.get(id).state.status, 'exited');
      assert.equal(h.service.get(id).state.exitCode, 143);
      assert.deepEqual(h.events.map((e) => e.action).slice(2), ['kill', 'die', 'stop']);
    });

    test('a kill that arrives while the start is finishing (the process runs already) waits for it, as dockerd\'s waits for the start\'s lock', async () => {
      const { id } = await h.service.create(spec());
      let returns!: () => void;
      h.runtime.startReturns = new Promise((r) => { returns = r; });
      const started = h.service.start(id);
      while (h.runtime.procs.get(id)?.state !== 'running') await new Promise((r) => setImmediate(r));
      assert.equal(h.service.get(id).state.status, 'created');
      const killed = h.service.kill(id, 'SIGUSR1');
      await new Promise((r) => setImmediate(r));
      assert.ok(!h.runtime.log.some((l) => l.startsWith('kill')), 'not before the start has returned');
      returns();
      await started;
      await killed;
      assert.deepEqual(h.runtime.log.filter((l) => l.startsWith('kill')), [`kill ${h.service.get(id).state.pid} 10`]);
      await h.service.kill(id);
      // A start that fails leaves the kill to dockerd's 409.
      const { id: bad } = await h.service.create(spec());
      let fails!: () => void;
      h.runtime.startReturns = new Promise((_, reject) => { fails = () => reject(new Error('start failed')); });
      const failing = h.service.start(bad).catch(() => {});
      while (h.runtime.procs.get(bad)?.state !== 'running') await new Promise((r) => setImmediate(r));
      const refused = assert.rejects(h.service.kill(bad), isKind('Conflict', /is not running/));
      fails();
      await refused;
      await failing;
      h.runtime.startReturns = undefined;
    });

    test('a process gone without an exit code does not keep stop, kill or remove waiting', async () => {
      for (const op of ['stop', 'kill', 'remove'] as const) {
        const { id } = await h.service.create(spec());
        await h.service.start(id);
        // The shim died with the process: no exit code, no runtime state.
        h.runtime.recordExits = false;
        h.runtime.procs.delete(id);
        if (op === 'stop') await h.service.stop(id, { timeout: 1 });
        else if (op === 'kill') await h.service.kill(id);
        else await h.service.remove(id, { force: true });
        h.runtime.recordExits = true;
        if (op !== 'remove') {
          assert.equal(h.service.get(id).state.status, 'exited', op);
          assert.equal(h.service.get(id).state.exitCode, 255, op);
        } else {
          assert.throws(() => h.service.get(id), isKind('NotFound'));
        }
      }
    });

    test('remove of a running container needs force; removal frees the name', async () => {
      const { id } = await h.service.create(spec(), { name: 'web' });
      await h.service.start(id);
      await assert.rejects(h.service.remove('web', { force: false }), isKind('Conflict', /container is running/));
      await h.service.remove('web', { force: true });
      assert.throws(() => h.service.get(id), isKind('NotFound'));
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
      assert.equal(fs.existsSync(h.rootfs.containerDir(id)), false);
      await h.service.create(spec(), { name: 'web' });
    });

    test('withLock pauses a running container for a commit and resumes it', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      const seen = await h.service.withLock(id, async (c) => c.state.status, { pause: true });
      assert.equal(seen, 'paused');
      assert.equal(h.service.get(id).state.status, 'running');
      assert.deepEqual(h.runtime.log.filter((l) => /^(pause|resume)/.test(l)), [`pause ${id}`, `resume ${id}`]);
    });
  });

  describe('a full disk', () => {
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

    test('an exit that cannot be saved settles in memory and keeps the exit code for a restart', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      h.store.save = async () => { throw enospc(); };
      const wait = h.service.wait(id, 'next-exit');
      h.runtime.exit(id, 7);
      assert.deepEqual(await wait, { StatusCode: 7, Error: null });
      assert.equal(h.service.get(id).state.status, 'exited');
      assert.ok(h.runtime.exits.has(id), 'the runtime keeps the exit code');
      assert.ok(h.logs.some((l) => /error: saving container .*ENOSPC/.test(l)));
      // Space is freed; the daemon restarts and settles the exit from the runtime.
      const s = await h.restart();
      assert.equal(s.get(id).state.status, 'exited');
      assert.equal(s.get(id).state.exitCode, 7);
      assert.equal(onDisk(h, id).state.exitCode, 7);
      assert.equal(h.runtime.exits.has(id), false, 'the runtime leftovers are gone');
    });

    test('a container can be removed, and one that cannot be saved started, on a full disk', async () => {
      const { id } = await h.service.create(spec());
      const { id: other } = await h.service.create(spec());
      h.store.save = async () => { throw enospc(); };
      await h.service.remove(id, { force: true });
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', id)), false);
      // A start whose record cannot be saved fails cleanly: the process is removed.
      await assert.rejects(h.service.start(other), /ENOSPC/);
      assert.equal(h.runtime.procs.has(other), false);
      assert.equal(h.service.get(other).state.status, 'exited');
    });
  });

  describe('restore on start', () => {
    test('an exit recorded while the daemon was down is taken, with its code', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      h.runtime.clearListeners(); // the daemon is dead: nobody hears the exit
      h.runtime.exit(id, 3);
      await tick();
      const s = await h.restart();
      assert.equal(s.get(id).state.status, 'exited');
      assert.equal(s.get(id).state.exitCode, 3);
    });

    test('a container whose process is gone with no exit code is exited (255), not shown running', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      h.runtime.clearListeners();
      h.runtime.procs.delete(id);
      const s = await h.restart();
      assert.equal(s.get(id).state.status, 'exited');
      assert.equal(s.get(id).state.exitCode, 255);
      assert.match(s.get(id).state.error, /shim exited unexpectedly/);
    });

    test('a running container stays running and its later exit is seen', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      const s = await h.restart();
      assert.equal(s.get(id).state.status, 'running');
      const wait = s.wait(id, 'next-exit');
      h.runtime.exit(id, 9);
      assert.equal((await wait).StatusCode, 9);
    });

    test('a container left frozen by an unfinished commit is thawed', async () => {
      const { id } = await h.service.create(spec());
      await h.service.start(id);
      await h.runtime.pause({ id, runtime: 'runc' }, false);
      const s = await h.restart();
      assert.equal(h.runtime.procs.get(id)?.state, 'running');
      assert.equal(s.get(id).state.status, 'running');
    });

    test('a removal past its point of no return finishes; one before it keeps the container', async () => {
      const { id: gone } = await h.service.create(spec());
      const { id: kept } = await h.service.create(spec());
      // The record went (the point of no return), the rest did not.
      fs.rmSync(recordFile(h, gone));
      // A removal marked but cut short before that point.
      const rec = onDisk(h, kept);
      rec.state.status = 'removing';
      fs.writeFileSync(recordFile(h, kept), JSON.stringify(rec));
      const s = await h.restart();
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', gone)), false);
      assert.equal(fs.existsSync(h.rootfs.containerDir(gone)), false);
      // "removing" means the user asked for it: it is finished too.
      assert.throws(() => s.get(kept), isKind('NotFound'));
      assert.equal(fs.existsSync(path.join(h.dir, 'containers', kept)), false);
    });

    test('reads a record of the old, Docker-shaped format', async () => {
      const id = 'd'.repeat(64);
      fs.mkdirSync(path.join(h.dir, 'containers', id), { recursive: true });
      fs.writeFileSync(recordFile(h, id), JSON.stringify({
        Id: id, Name: '/old', Created: '2026-11-01T00:00:00.000Z', Path: 'sh', Args: ['-c', 'exit 4'], Image: IMAGE.id, ImageRef: 'busybox',
        Config: { Hostname: 'dddddddddddd', Env: ['A=1'], Cmd: ['sh', '-c', 'exit 4'], Entrypoint: null, WorkingDir: '', Labels: { l: 'v' }, User: '' },
        HostConfig: { NetworkMode: 'host', AutoRemove: false, Runtime: 'runc', ReadonlyRootfs: true, SecurityOpt: ['seccomp=unconfined'] },
        State: { Status: 'exited', Running: false, Pid: 0, ExitCode: 4, Error: '', StartedAt: '2026-11-01T00:00:01Z', FinishedAt: '2026-11-01T00:00:02Z', OOMKilled: false },
        RestartCount: 0, ConmonPid: 0,
      }));
      const s = await h.restart();
      const c = s.get('old');
      assert.equal(c.state.exitCode, 4);
      assert.deepEqual(c.spec.network, { mode: 'host' });
      assert.equal(c.spec.security.readonlyRootfs, true);
      assert.deepEqual(c.spec.security.seccomp, { mode: 'unconfined' });
      assert.deepEqual((c.meta as any).Config.Labels, { l: 'v' });
      await s.start('old');
      assert.deepEqual(h.runtime.procs.get(id)!.spec.process.args, ['sh', '-c', 'exit 4']);
    });
  });

  test('a record store that cannot save the first record fails create cleanly', async () => {
    const failing = await harness({}, (root) => {
      const st = new ContainerStore(root);
      st.save = async () => { throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }); };
      return st;
    });
    try {
      await assert.rejects(failing.service.create(spec(), { name: 'xx' }), /ENOSPC/);
      assert.deepEqual(fs.readdirSync(path.join(failing.dir, 'containers')), []);
      assert.equal(failing.service.list().length, 0);
    } finally {
      failing.cleanup();
    }
  });

  test('init survives a record it cannot settle and logs it', async () => {
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    h.runtime.clearListeners();
    h.runtime.exit(id, 1);
    await tick();
    const status = h.runtime.status.bind(h.runtime);
    h.runtime.status = async () => { throw new Error('runc state: boom'); };
    const s = await h.restart();
    h.runtime.status = status;
    assert.ok(h.logs.some((l) => /error: restore .*boom/.test(l)));
    assert.equal(s.list().length, 1);
  });
});
