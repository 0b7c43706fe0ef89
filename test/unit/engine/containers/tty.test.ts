// The TTY side of the lifecycle through its seams: the terminal and its
// size in the OCI spec, resize, and attach's stdin rules.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import type { AttachSink } from '../../../../src/engine/containers/io';
import { harness, spec, type Harness } from './fakes';

const isKind = (kind: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind, err.message);
  if (re) assert.match(err.message, re);
  return true;
};
const tick = () => new Promise((r) => setImmediate(r));
const tty = (over: Partial<ReturnType<typeof spec>['process']> = {}) =>
  spec({ process: { ...spec().process, cmd: ['sh'], terminal: true, stdin: true, stdinOnce: true, ...over } });

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.cleanup());

test('a TTY container runs with a terminal, TERM=xterm, its console size, and stdin that outlives a client', async () => {
  const { id } = await h.service.create(tty({ consoleSize: { height: 30, width: 90 } }));
  await h.service.start(id);
  const oci = h.runtime.procs.get(id)!.spec;
  assert.equal(oci.process.terminal, true);
  assert.deepEqual(oci.process.consoleSize, { height: 30, width: 90 });
  assert.ok(oci.process.env.includes('TERM=xterm'));
  assert.deepEqual(h.runtime.createOptions.get(id), { logPath: h.store.files(id).log, name: h.service.get(id).name.slice(1), stdin: true, tty: true, stdinOnce: true });
});

test('a console size without a terminal is not applied', async () => {
  const { id } = await h.service.create(spec({ process: { ...spec().process, consoleSize: { height: 30, width: 90 } } }));
  await h.service.start(id);
  const oci = h.runtime.procs.get(id)!.spec;
  assert.equal(oci.process.terminal, false);
  assert.equal(oci.process.consoleSize, undefined);
  assert.ok(!oci.process.env.some((e) => e.startsWith('TERM=')));
});

test('resize sizes a running TTY container\'s terminal and publishes resize', async () => {
  const { id } = await h.service.create(tty());
  await h.service.start(id);
  await h.service.resize(id.slice(0, 6), { height: 40, width: 100 });
  assert.deepEqual(h.runtime.sizes.get(id), [{ height: 40, width: 100 }]);
  const ev = h.events.find((e) => e.action === 'resize');
  assert.deepEqual([ev?.attributes.height, ev?.attributes.width], ['40', '100']);
});

test('resize: 404 for no such container, 409 when not running, and a no-op success without a terminal (as dockerd)', async () => {
  await assert.rejects(h.service.resize('nosuch', { height: 1, width: 1 }), isKind('NotFound', /No such container: nosuch/));
  const { id } = await h.service.create(tty());
  await assert.rejects(h.service.resize(id, { height: 1, width: 1 }), isKind('Conflict', new RegExp(`container ${id} is not running`)));
  const plain = (await h.service.create(spec())).id;
  await h.service.start(plain);
  await h.service.resize(plain, { height: 1, width: 1 });
  assert.equal(h.runtime.sizes.get(plain), undefined);
});

test('resize of a container that exits meanwhile is a 409, not a fault', async () => {
  const { id } = await h.service.create(tty());
  await h.service.start(id);
  h.runtime.procs.delete(id); // gone, its exit not seen yet
  await assert.rejects(h.service.resize(id, { height: 1, width: 1 }), isKind('Conflict', /is not running/));
});

test('attach: a client\'s stdin reaches the process only when the container keeps stdin open; the detach keys work on a TTY', async () => {
  const ended: string[] = [];
  const sink = (name: string): AttachSink => ({ out: () => true, end: () => ended.push(name) });
  const plain = (await h.service.create(spec())).id;
  await h.service.start(plain);
  const a = await h.service.attach(plain, { stdin: true, stdout: true, stderr: true, stream: true, logs: false }, sink('plain'));
  a.write(Buffer.from('x'));
  await tick();
  assert.deepEqual(h.runtime.streams.at(-1)!.stdin, []);

  const { id } = await h.service.create(tty({ stdinOnce: false }));
  await h.service.start(id);
  const t = await h.service.attach(id, { stdin: true, stdout: true, stderr: true, stream: true, logs: false, detachKeys: Buffer.from('q') }, sink('tty'));
  t.write(Buffer.from('abq'));
  await tick();
  assert.deepEqual(h.runtime.streams.at(-1)!.stdin.map(String), ['ab']);
  assert.deepEqual(ended, ['tty']);
  assert.deepEqual(h.events.filter((e) => e.id === id).map((e) => e.action), ['create', 'start', 'attach', 'detach']);
});

test('attach to a paused container is a 409, as dockerd', async () => {
  const { id } = await h.service.create(tty());
  await h.service.start(id);
  h.service.get(id).state.status = 'paused';
  await assert.rejects(h.service.attach(id, { stdin: false, stdout: true, stderr: true, stream: true, logs: false }, { out: () => true, end: () => {} }),
    isKind('Conflict', /is paused, unpause the container before attach/));
});
