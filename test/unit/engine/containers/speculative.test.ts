// The speculative create (service.ts, speculate()): the state machine over
// the fake runtime and host, with a fake clock for its window (no real
// timer decides anything here).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FakeClock } from './fake-clock';
import { harness, spec, type Harness } from './fakes';

const WINDOW = 5000;

// Lets the service's own promises and file writes settle until cond holds;
// event-loop turns, not time.
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never: ${what}`);
}

let h: Harness;
let clock: FakeClock;

// The runtime's calls for one container, without the id.
const calls = (id: string) => h.runtime.log.filter((l) => l.endsWith(` ${id}`)).map((l) => l.split(' ')[0]);
const merged = (id: string) => `${h.rootfs.containerDir(id)}/merged`;
const actions = (id: string) => h.events.filter((e) => e.id === id).map((e) => e.action);

// A created container whose speculative create is ready (its process alive).
async function ready(over: Parameters<typeof spec>[0] = {}, name?: string): Promise<string> {
  const { id } = await h.service.create(spec(over), name ? { name } : {});
  await until(() => calls(id).includes('create'), 'speculative create');
  await until(() => h.logs.some((l) => l.includes(`speculative create of ${id.slice(0, 12)}: ready`)), 'ready');
  const p = h.runtime.procs.get(id);
  assert.ok(p && p.state === 'created');
  h.host.alive.add(p.pid);
  return id;
}

describe('speculative create', () => {
  beforeEach(async () => {
    clock = new FakeClock();
    h = await harness({ clock, speculate: { windowMs: WINDOW } });
  });
  afterEach(() => h.cleanup());

  test('the start uses what the create made: one runtime create, then start; nothing shows before the start', async () => {
    const id = await ready();
    const c = h.service.get(id);
    assert.equal(c.state.status, 'created');
    assert.equal(c.state.pid, 0);
    assert.equal(c.state.startedAt, '');
    assert.deepEqual(actions(id), ['create']);
    assert.ok(h.host.mounts.has(merged(id)), 'root mounted ahead');
    assert.deepEqual(clock.pending(), [WINDOW]);
    await h.service.start(id);
    assert.deepEqual(calls(id), ['create', 'start']);
    assert.equal(h.service.get(id).state.status, 'running');
    assert.equal(h.service.get(id).state.pid, h.runtime.procs.get(id)!.pid);
    assert.deepEqual(actions(id), ['create', 'start']);
    assert.deepEqual(clock.pending(), [], 'the window is called off');
  });

  test('unused for its window, it is undone: runtime deleted, root unmounted, still created; a later start makes it again', async () => {
    const id = await ready();
    clock.advance(WINDOW - 1);
    assert.deepEqual(calls(id), ['create']);
    clock.advance(1);
    await until(() => calls(id).includes('delete'), 'undone');
    await until(() => !h.host.mounts.has(merged(id)), 'unmounted');
    assert.equal(h.runtime.procs.has(id), false);
    assert.equal(h.service.get(id).state.status, 'created');
    assert.deepEqual(actions(id), ['create']);
    await h.service.start(id);
    assert.deepEqual(calls(id), ['create', 'delete', 'create', 'start']);
    assert.equal(h.service.get(id).state.status, 'running');
  });

  test('a process gone before the start is undone and made again by the start', async () => {
    const id = await ready();
    h.host.alive.clear();
    await h.service.start(id);
    assert.deepEqual(calls(id), ['create', 'delete', 'create', 'start']);
    assert.equal(h.service.get(id).state.status, 'running');
  });

  for (const [what, op] of [
    ['remove', (id: string) => h.service.remove(id, { force: false })],
    ['update', (id: string) => h.service.update(id, { memory: 64 << 20 }).then(() => {})],
    ['rename', (id: string) => h.service.rename(id, 'other')],
    ['withLock (cp, commit, export)', (id: string) => h.service.withLock(id, async () => {})],
  ] as const) {
    test(`${what} undoes it first`, async () => {
      const id = await ready({}, 'spec-op');
      await op(id);
      assert.deepEqual(calls(id).slice(0, 2), ['create', 'delete']);
      assert.ok(!h.host.mounts.has(merged(id)));
      assert.equal(h.runtime.procs.has(id), false);
      assert.deepEqual(clock.pending(), []);
      if (what !== 'remove') {
        await h.service.start(id);
        assert.deepEqual(calls(id), ['create', 'delete', 'create', 'start']);
      }
    });
  }

  test("the daemon's stop undoes it; a restarted daemon finds it created and deletes any runtime state", async () => {
    const id = await ready();
    await h.service.shutdown();
    assert.deepEqual(calls(id), ['create', 'delete']);
    assert.ok(!h.host.mounts.has(merged(id)));
    await h.restart();
    assert.equal(h.service.get(id).state.status, 'created');
    await h.service.start(id);
    assert.equal(calls(id).at(-1), 'start');
  });

  test('a daemon gone without its stop (kill -9): the next start deletes what the runtime kept', async () => {
    const id = await ready();
    // As after a kill -9: no stop of its own, the runtime still holds the container created.
    h.service.shutdown = async () => {};
    await h.restart();
    assert.deepEqual(calls(id), ['create', 'delete'], 'deleted by the restore');
    assert.equal(h.runtime.procs.has(id), false);
    assert.equal(h.service.get(id).state.status, 'created');
  });

  test('a start that comes first takes the lock; the speculation then finds it running and does nothing', async () => {
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    await until(() => h.service.get(id).state.status === 'running', 'running');
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls(id), ['create', 'start']);
    assert.deepEqual(clock.pending(), []);
  });

  test('a failed speculation is undone, and the start makes it again', async () => {
    const create = h.runtime.create.bind(h.runtime);
    let failed = false;
    h.runtime.create = async (ref, sp, o) => {
      if (!failed) {
        failed = true;
        throw new Error('runc create failed');
      }
      return create(ref, sp, o);
    };
    const { id } = await h.service.create(spec());
    await until(() => h.logs.some((l) => l.includes(`speculative create of ${id.slice(0, 12)}: runc create failed`)), 'failed');
    assert.ok(!h.host.mounts.has(merged(id)));
    assert.equal(h.service.get(id).state.status, 'created');
    assert.equal(h.service.get(id).state.error, '');
    assert.deepEqual(clock.pending(), []);
    await h.service.start(id);
    assert.equal(h.service.get(id).state.status, 'running');
    assert.deepEqual(actions(id), ['create', 'start']);
  });

  test('not for a container on the bridge or joining another container', async () => {
    const host = await ready({ network: { mode: 'host' } });
    await h.service.start(host);
    const { id } = await h.service.create(spec({ ipc: { mode: 'container', container: host } }));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls(id), []);
    const bridged = await h.service.create(spec({ network: { mode: 'bridge', endpoints: [] } as never }));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls(bridged.id), []);
  });

  test('at most `max` are held at once; one used or undone frees its place', async () => {
    h.cleanup();
    h = await harness({ clock, speculate: { windowMs: WINDOW, max: 1 } });
    const first = await ready();
    const { id: second } = await h.service.create(spec());
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls(second), [], 'not while the first is held');
    await h.service.start(first);
    const third = await ready();
    clock.advance(WINDOW);
    await until(() => calls(third).includes('delete'), 'undone');
    await ready();
  });

  test('off without the option', async () => {
    h.cleanup();
    h = await harness({ clock });
    const { id } = await h.service.create(spec());
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls(id), []);
  });
});
