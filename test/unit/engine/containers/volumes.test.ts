// The container lifecycle's calls into the Volumes seam: prepare at create
// (with --volumes-from resolved), mount at start, unmount at exit, release
// at removal with or without the anonymous volumes.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { MountSpec } from '../../../../src/engine/containers/spec';
import type { OciMount } from '../../../../src/engine/runtime/spec';
import type { Volumes } from '../../../../src/engine/volumes/volumes';
import { harness, spec, type Harness } from './fakes';

class RecordingVolumes implements Volumes {
  calls: string[] = [];
  async prepare(id: string, mounts: MountSpec[]): Promise<MountSpec[]> {
    this.calls.push(`prepare ${id.slice(0, 4)} ${mounts.map((m) => `${m.source || '-'}:${m.target}${m.readonly ? ':ro' : ''}`).join(' ')}`);
    return mounts.map((m) => (m.anonymous && !m.source ? { ...m, source: `anon${m.target.replace(/\//g, '-')}` } : m));
  }
  settled(id: string): void {
    this.calls.push(`settled ${id.slice(0, 4)}`);
  }
  async mount(id: string, mounts: MountSpec[]): Promise<OciMount[]> {
    this.calls.push(`mount ${id.slice(0, 4)}`);
    return mounts.map((m) => ({ destination: m.target, type: 'bind', source: m.source, options: ['rbind'] }));
  }
  async unmount(id: string): Promise<void> {
    this.calls.push(`unmount ${id.slice(0, 4)}`);
  }
  async release(id: string, _m: MountSpec[], o: { removeAnonymous: boolean }): Promise<void> {
    this.calls.push(`release ${id.slice(0, 4)} ${o.removeAnonymous}`);
  }
}

describe('ContainerService and its volumes', () => {
  let h: Harness;
  let vols: RecordingVolumes;
  beforeEach(async () => {
    vols = new RecordingVolumes();
    h = await harness({}, undefined, vols);
  });
  afterEach(() => h.cleanup());

  test('create prepares and keeps the mounts; start mounts; exit unmounts; rm -v releases the anonymous ones', async () => {
    const { id } = await h.service.create(spec({ mounts: [{ type: 'volume', source: '', target: '/data', readonly: false, anonymous: true }] }));
    const s = id.slice(0, 4);
    assert.equal(h.service.get(id).spec.mounts[0].source, 'anon-data');
    await h.service.start(id);
    assert.deepEqual(h.runtime.log.filter((l) => l.startsWith('create')).length, 1);
    const exited = h.service.wait(id, 'next-exit');
    h.runtime.exit(id, 0);
    await exited;
    await h.service.remove(id, { force: false, volumes: true });
    assert.deepEqual(vols.calls, [`prepare ${s} -:/data`, `settled ${s}`, `mount ${s}`, `unmount ${s}`, `release ${s} true`]);
  });

  test('--volumes-from takes the other container\'s volumes and binds, read-only when asked; its own mounts win', async () => {
    const { id: src } = await h.service.create(spec({ mounts: [
      { type: 'volume', source: 'shared', target: '/s', readonly: false },
      { type: 'bind', source: '/host', target: '/h', readonly: false },
      { type: 'tmpfs', source: '', target: '/t', readonly: false },
    ] }));
    vols.calls = [];
    const { id } = await h.service.create(spec({
      mounts: [{ type: 'bind', source: '/mine', target: '/h', readonly: false }, { type: 'volume', source: '', target: '/s', readonly: false, anonymous: true }],
      volumesFrom: [{ container: src, readonly: true }],
    }));
    assert.equal(vols.calls[0], `prepare ${id.slice(0, 4)} shared:/s:ro /mine:/h`);
    await assert.rejects(h.service.create(spec({ volumesFrom: [{ container: 'nosuch' }] })), /No such container: nosuch/);
  });

  test('a plain rm keeps anonymous volumes; auto-remove drops them', async () => {
    const { id } = await h.service.create(spec());
    await h.service.remove(id, { force: false });
    assert.equal(vols.calls.at(-1), `release ${id.slice(0, 4)} false`);
    const auto = await h.service.create(spec({ autoRemove: true }));
    await h.service.start(auto.id);
    h.runtime.exit(auto.id, 0);
    await h.service.wait(auto.id, 'removed');
    assert.equal(vols.calls.at(-1), `release ${auto.id.slice(0, 4)} true`);
  });
});
