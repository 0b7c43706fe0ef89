// Restart policies through ContainerService: the fake runtime's exits, and a
// fake clock for the back-off (no real timer decides anything here).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import type { ContainerRecord } from '../../../../src/engine/containers/record';
import type { RestartPolicy } from '../../../../src/engine/containers/restart';
import { FakeClock } from './fake-clock';
import { harness, spec, type Harness } from './fakes';

const onDisk = (h: Harness, id: string): ContainerRecord => JSON.parse(fs.readFileSync(path.join(h.dir, 'containers', id, 'config.v2.json'), 'utf8'));

// Lets the service's own promises and its file writes settle until cond
// holds; event-loop turns, not time.
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never: ${what}`);
}

let h: Harness;
let clock: FakeClock;

async function running(policy: RestartPolicy, over: Parameters<typeof spec>[0] = {}): Promise<string> {
  const { id } = await h.service.create(spec({ restart: policy, ...over }));
  await h.service.start(id);
  return id;
}

// The process exits with code; resolves once the exit is handled.
async function exits(id: string, code: number): Promise<void> {
  const w = h.service.wait(id, 'next-exit');
  h.runtime.exit(id, code);
  assert.equal((await w).StatusCode, code);
}

const status = (id: string) => h.service.get(id).state.status;
// Running, and saved so (nothing is left writing when the test ends).
const up = (id: string) => h.service.get(id).state.status === 'running' && onDisk(h, id).state.status === 'running';
const actions = () => h.events.map((e) => e.action).filter((a) => a !== 'create');

describe('restart policies', () => {
  beforeEach(async () => {
    clock = new FakeClock();
    h = await harness({ clock });
  });
  afterEach(() => h.cleanup());

  test('on-failure:2 restarts a failing container twice, with the back-off, then leaves it exited', async () => {
    const id = await running({ name: 'on-failure', maxRetries: 2 });
    const pid0 = h.service.get(id).state.pid;
    await exits(id, 3);
    assert.equal(status(id), 'restarting');
    assert.equal(h.service.get(id).restartCount, 1);
    assert.equal(h.service.get(id).state.exitCode, 3);
    assert.equal(h.service.get(id).state.pid, 0);
    assert.deepEqual(clock.pending(), [100]);
    const saved = onDisk(h, id);
    assert.equal(saved.state.status, 'restarting');
    assert.equal(saved.restartAt, new Date(clock.now() + 100).toISOString());

    clock.advance(99);
    assert.equal(status(id), 'restarting');
    clock.advance(1);
    await until(() => up(id), 'restarted');
    assert.notEqual(h.service.get(id).state.pid, pid0);
    assert.equal(h.service.get(id).restartAt, undefined);

    await exits(id, 3);
    assert.deepEqual(clock.pending(), [200], 'doubled');
    clock.advance(200);
    await until(() => up(id), 'restarted again');
    await exits(id, 3);
    assert.equal(status(id), 'exited');
    assert.equal(h.service.get(id).restartCount, 2);
    assert.deepEqual(clock.pending(), []);
    assert.deepEqual(actions(), ['start', 'die', 'start', 'die', 'start', 'die']);
    // A start by hand counts again from 0.
    await h.service.start(id);
    assert.equal(h.service.get(id).restartCount, 0);
  });

  test('on-failure leaves a clean exit alone; no policy restarts nothing', async () => {
    const a = await running({ name: 'on-failure' });
    await exits(a, 0);
    assert.equal(status(a), 'exited');
    const b = await running({ name: 'no' });
    await exits(b, 1);
    assert.equal(status(b), 'exited');
    assert.deepEqual(clock.pending(), []);
  });

  test('always restarts a clean exit; a run of 10 s starts the back-off over', async () => {
    const id = await running({ name: 'always' });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await exits(id, 0);
      delays.push(clock.pending()[0]);
      clock.advance(delays.at(-1)!);
      await until(() => up(id), 'restarted');
    }
    assert.deepEqual(delays, [100, 200, 400]);
    // It ran long enough (as its start time says).
    h.service.get(id).state.startedAt = new Date(Date.now() - 11_000).toISOString();
    await exits(id, 0);
    assert.deepEqual(clock.pending(), [100]);
    assert.equal(h.service.get(id).restartCount, 4);
  });

  test('a container stopped by hand is not restarted, and is marked so on disk until started again', async () => {
    const id = await running({ name: 'always' });
    await h.service.stop(id);
    assert.equal(status(id), 'exited');
    assert.deepEqual(clock.pending(), []);
    assert.equal(onDisk(h, id).manuallyStopped, true);
    await h.service.start(id);
    assert.equal(onDisk(h, id).manuallyStopped, undefined);
    await h.service.kill(id);
    assert.equal(status(id), 'exited');
    assert.deepEqual(clock.pending(), []);
  });

  test('a signal not meant to end it marks it stopped by hand without calling the restart off', async () => {
    const a = await running({ name: 'always' }, { stop: { signal: 'SIGINT' } });
    const b = await running({ name: 'unless-stopped' }, { stop: { signal: 'SIGINT' } });
    await h.service.kill(a, 'SIGHUP');
    await h.service.kill(b, 'SIGHUP');
    assert.equal(h.service.get(a).manuallyStopped, true);
    await exits(a, 1);
    await exits(b, 1);
    assert.equal(status(a), 'restarting');
    assert.equal(status(b), 'exited');
  });

  test('stop, kill and rm -f of a restarting container call the pending restart off', async () => {
    const a = await running({ name: 'always' });
    const b = await running({ name: 'always' });
    const c = await running({ name: 'always' });
    for (const id of [a, b, c]) await exits(id, 1);
    assert.deepEqual(clock.pending(), [100, 100, 100]);

    // wait (not-running) counts restarting as running, as dockerd does.
    let waited = false;
    const w = h.service.wait(a, 'not-running').then((r) => { waited = true; return r; });
    await new Promise((r) => setImmediate(r));
    assert.equal(waited, false);
    h.events.length = 0;
    await h.service.stop(a);
    assert.deepEqual((await w), { StatusCode: 1, Error: null });
    assert.equal(status(a), 'exited');
    assert.equal(onDisk(h, a).state.status, 'exited');
    assert.equal(onDisk(h, a).manuallyStopped, true);
    assert.deepEqual(actions(), ['stop']);

    await h.service.kill(b);
    assert.equal(status(b), 'exited');
    assert.deepEqual(actions(), ['stop'], 'no kill event: there was no process');

    await assert.rejects(h.service.remove(c, { force: false }), (err: unknown) => err instanceof BerthError && err.kind === 'Conflict' && /container is restarting: stop the container/.test(err.message));
    await h.service.remove(c, { force: true });
    assert.throws(() => h.service.get(c));

    assert.deepEqual(clock.pending(), []);
    clock.advance(60_000);
    assert.equal(status(a), 'exited');
    assert.equal(status(b), 'exited');
    assert.ok(!actions().includes('start'));
  });

  test('start of a restarting container is not modified; restart starts it at once, counting from 0', async () => {
    const id = await running({ name: 'always' });
    await exits(id, 1);
    await assert.rejects(h.service.start(id), (err: unknown) => err instanceof BerthError && err.kind === 'NotModified');
    await assert.rejects(h.service.pause(id), /is restarting, wait until the container is running/);
    await assert.rejects(h.service.attach(id, { stdin: false, stdout: true, stderr: true, stream: true, logs: false }, { out() {}, end() {} } as never), /is restarting, wait until the container is running/);
    await h.service.restart(id);
    assert.equal(status(id), 'running');
    assert.equal(h.service.get(id).restartCount, 0);
    assert.deepEqual(clock.pending(), []);
  });

  test('next-exit resolves at each exit a policy restarts from', async () => {
    const id = await running({ name: 'always' });
    const w = h.service.wait(id, 'next-exit');
    h.runtime.exit(id, 5);
    assert.equal((await w).StatusCode, 5);
    assert.equal(status(id), 'restarting');
  });

  test('a restart that cannot start leaves it exited and tells its waiters', async () => {
    const id = await running({ name: 'always' });
    await exits(id, 1);
    const w = h.service.wait(id, 'not-running');
    const create = h.runtime.create.bind(h.runtime);
    h.runtime.create = async () => { throw new Error('runc create failed: boom'); };
    clock.advance(100);
    await w;
    assert.equal(status(id), 'exited');
    assert.match(h.service.get(id).state.error, /boom/);
    h.runtime.create = create;
    // Refused before anything runs: exited too.
    await h.service.start(id);
    await exits(id, 1);
    h.service.get(id).spec.image.id = 'sha256:' + 'f'.repeat(64);
    const w2 = h.service.wait(id, 'not-running');
    clock.advance(100);
    await w2;
    assert.equal(status(id), 'exited');
    assert.match(h.service.get(id).state.error, /not found/);
  });

  test('update sets the policy for the next exit; --rm and a policy do not go together', async () => {
    const id = await running({ name: 'no' });
    await h.service.update(id, {}, undefined, { name: 'on-failure', maxRetries: 1 });
    assert.deepEqual(onDisk(h, id).spec.restart, { name: 'on-failure', maxRetries: 1 });
    await exits(id, 2);
    assert.equal(status(id), 'restarting');
    await assert.rejects(h.service.create(spec({ autoRemove: true, restart: { name: 'always' } })), /can't create 'AutoRemove' container with restart policy/);
    const { id: rm } = await h.service.create(spec({ autoRemove: true, restart: { name: 'no' } }));
    await assert.rejects(h.service.update(rm, {}, undefined, { name: 'always' }), /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    await h.service.update(rm, {}, undefined, { name: 'no' });
  });

  describe('across a daemon restart', () => {
    test('an exit while the daemon was down is restarted by its policy, counted', async () => {
      const a = await running({ name: 'always' });
      const b = await running({ name: 'on-failure' });
      const c = await running({ name: 'on-failure' });
      h.runtime.clearListeners(); // the daemon is down
      h.runtime.exit(a, 0);
      h.runtime.exit(b, 1);
      h.runtime.exit(c, 0);
      const s = await h.restart();
      await until(() => s.get(a).state.status === 'restarting' && s.get(b).state.status === 'restarting', 'restore');
      assert.equal(s.get(c).state.status, 'exited');
      clock.advance(100);
      await until(() => up(a) && up(b), 'restarted');
      assert.equal(s.get(a).restartCount, 1);
      assert.equal(s.get(b).restartCount, 1);
    });

    test('a pending restart survives the daemon and runs when due', async () => {
      const id = await running({ name: 'always' });
      await exits(id, 1);
      clock.advance(60);
      const s = await h.restart();
      assert.equal(s.get(id).state.status, 'restarting');
      assert.deepEqual(clock.pending(), [40]);
      clock.advance(40);
      await until(() => up(id), 'restarted');
      assert.equal(s.get(id).restartCount, 1);
    });

    test('always comes back after a stop by hand, unless-stopped does not; both when they exited on their own', async () => {
      const always = await running({ name: 'always' });
      const unless = await running({ name: 'unless-stopped' });
      const unlessExited = await running({ name: 'unless-stopped' });
      const never = (await h.service.create(spec({ restart: { name: 'always' } }))).id;
      await h.service.stop(always);
      await h.service.stop(unless);
      await h.service.kill(unlessExited);
      // Started by hand, and stopped by the policy's last exit.
      await h.service.start(unlessExited);
      await h.service.update(unlessExited, {}, undefined, { name: 'no' });
      await exits(unlessExited, 0);
      await h.service.update(unlessExited, {}, undefined, { name: 'unless-stopped' });
      const s = await h.restart();
      assert.equal(s.get(always).state.status, 'running');
      assert.equal(s.get(always).restartCount, 0);
      assert.equal(s.get(always).manuallyStopped, undefined);
      assert.equal(s.get(unless).state.status, 'exited');
      assert.equal(s.get(unlessExited).state.status, 'running');
      assert.equal(s.get(never).state.status, 'created', 'never started: not started at daemon start');
    });
  });
});
