// ContainerStore's writes of one record land in the order they were asked
// for: a later save (or the removal) is never overwritten by an earlier
// save still on its way (an fsynced one is slower than one without).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ContainerStore } from '../../../../src/engine/containers/store';
import type { ContainerRecord } from '../../../../src/engine/containers/record';

const rec = (status: string): ContainerRecord => ({ id: 'a'.repeat(64), name: '/x', state: { status } } as unknown as ContainerRecord);

test('saves and the removal of a record land in the order asked', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(root);
    await store.makeDir('a'.repeat(64));
    const file = path.join(root, 'a'.repeat(64), 'config.v2.json');
    const r = rec('running');
    const saves = [store.save(r, true)];
    // The record as it was at each call is what each writes.
    r.state.status = 'exited';
    saves.push(store.save(r, false));
    for (let i = 0; i < 10; i++) saves.push(store.save(rec(`s${i}`), i % 2 === 0));
    await Promise.all(saves);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).state.status, 's9');

    const last = [store.save(rec('late'), true), store.forget('a'.repeat(64), false)];
    await Promise.all(last);
    assert.equal(fs.existsSync(file), false);
    // A failed write does not hold up the next.
    fs.rmSync(path.dirname(file), { recursive: true });
    const failed = store.save(rec('x'), false);
    const again = (async () => {
      await failed.catch(() => {});
      await store.makeDir('a'.repeat(64));
      await store.save(rec('again'), false);
    })();
    await assert.rejects(failed);
    await again;
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).state.status, 'again');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
