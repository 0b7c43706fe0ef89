// pause, unpause and rename through the fakes: dockerd's errors, the state
// saved and kept across a restart, signals to a paused container, names
// freed and taken.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { harness, spec, type Harness } from './fakes';

const isKind = (kind: string, re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind, err.message);
  assert.match(err.message, re);
  return true;
};
const onDisk = (h: Harness, id: string) => JSON.parse(fs.readFileSync(path.join(h.dir, 'containers', id, 'config.v2.json'), 'utf8'));

let h: Harness;

describe('pause and unpause', () => {
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.cleanup());

  test('freeze and thaw through the runtime, saved, with events', async () => {
    const { id } = await h.service.create(spec(), { name: 'web' });
    await h.service.start(id);
    await h.service.pause('web');
    assert.equal(h.runtime.procs.get(id)?.state, 'paused');
    assert.equal(h.service.get(id).state.status, 'paused');
    assert.equal(onDisk(h, id).state.status, 'paused');
    await h.service.unpause('web');
    assert.equal(h.runtime.procs.get(id)?.state, 'running');
    assert.equal(onDisk(h, id).state.status, 'running');
    assert.deepEqual(h.events.map((e) => e.action).slice(-2), ['pause', 'unpause']);
  });

  test("dockerd's conflicts: already paused, not paused, not running", async () => {
    const { id } = await h.service.create(spec());
    await assert.rejects(h.service.pause(id), isKind('Conflict', new RegExp(`^container ${id} is not running$`)));
    await assert.rejects(h.service.unpause(id), isKind('Conflict', new RegExp(`^Container ${id} is not paused$`)));
    await h.service.start(id);
    await assert.rejects(h.service.unpause(id), isKind('Conflict', /is not paused/));
    await h.service.pause(id);
    await assert.rejects(h.service.pause(id), isKind('Conflict', new RegExp(`^Container ${id} is already paused$`)));
  });

  test('a container recorded paused stays paused across a restart; one frozen by a commit is thawed', async () => {
    const a = (await h.service.create(spec())).id;
    const b = (await h.service.create(spec())).id;
    await h.service.start(a);
    await h.service.start(b);
    await h.service.pause(a);
    await h.runtime.pause({ id: b, runtime: 'runc' }, false); // recorded running
    const s = await h.restart();
    assert.equal(s.get(a).state.status, 'paused');
    assert.equal(h.runtime.procs.get(a)?.state, 'paused');
    assert.equal(s.get(b).state.status, 'running');
    assert.equal(h.runtime.procs.get(b)?.state, 'running');
  });

  test('kill and stop thaw a paused container after the signal, so it can die', async () => {
    const { id } = await h.service.create(spec());
    await h.service.start(id);
    await h.service.pause(id);
    h.runtime.fatal.clear(); // the process ignores signals until it is thawed
    await h.service.kill(id, 'SIGTERM');
    const i = h.runtime.log.lastIndexOf(`kill ${h.service.get(id).state.pid} 15`);
    assert.ok(i >= 0);
    await new Promise((r) => setImmediate(r));
    assert.ok(h.runtime.log.indexOf(`resume ${id}`) > i, h.runtime.log.join('\n'));
    assert.equal(h.service.get(id).state.status, 'running');
    h.runtime.exit(id, 143);
    await h.service.wait(id, 'not-running');
  });

  test('a signal other than the stop signal leaves a paused container paused', async () => {
    const { id } = await h.service.create(spec({ stop: { signal: 'SIGUSR1' } }));
    await h.service.start(id);
    await h.service.pause(id);
    await h.service.kill(id, 'SIGHUP');
    await new Promise((r) => setImmediate(r));
    assert.ok(!h.runtime.log.includes(`resume ${id}`));
    assert.equal(h.service.get(id).state.status, 'paused');
    await h.service.remove(id, { force: true });
    assert.ok(h.runtime.log.includes(`resume ${id}`), 'SIGKILL thaws');
  });
});

describe('rename', () => {
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.cleanup());

  test('the new name finds it, the old one is free, a restart keeps it, and the event names both', async () => {
    const { id } = await h.service.create(spec(), { name: 'web' });
    await h.service.start(id);
    await h.service.rename('web', 'api');
    assert.equal(h.service.get('api').id, id);
    assert.throws(() => h.service.get('web'), isKind('NotFound', /No such container: web/));
    const other = await h.service.create(spec(), { name: 'web' });
    assert.notEqual(other.id, id);
    const e = h.events.find((x) => x.action === 'rename')!;
    assert.deepEqual([e.attributes.name, e.attributes.oldName], ['api', '/web']);
    const s = await h.restart();
    assert.equal(s.get('api').id, id);
    const wait = s.wait('api', 'next-exit');
    h.runtime.exit(id, 4);
    assert.equal((await wait).StatusCode, 4);
  });

  test("dockerd's errors: a taken name, an invalid one, the same one, an empty one", async () => {
    const a = await h.service.create(spec(), { name: 'aa' });
    await h.service.create(spec(), { name: 'bb' });
    await assert.rejects(h.service.rename('aa', 'bb'), isKind('Conflict', /^Error when allocating new name: Conflict\. The container name "\/bb" is already in use by container/));
    await assert.rejects(h.service.rename('aa', 'no good'), isKind('InvalidArgument', /^Error when allocating new name: Invalid container name \(\/no good\)/));
    await assert.rejects(h.service.rename('aa', '/aa'), isKind('InvalidArgument', /^Renaming a container with the same name as its current name$/));
    await assert.rejects(h.service.rename('aa', ' '), isKind('InvalidArgument', /^Neither old nor new names may be empty$/));
    await assert.rejects(h.service.rename('zz', 'cc'), isKind('NotFound', /No such container: zz/));
    assert.equal(h.service.get('aa').id, a.id);
  });
});
