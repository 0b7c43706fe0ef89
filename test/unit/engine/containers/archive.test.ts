// ContainerArchives through fakes: which root each operation works in (a
// stopped container's mounted for it, read-only unless it writes, and
// detached after), the lock held for as long as a tar is read, Docker's
// errors, copyUIDGID, and the events.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ContainerArchives } from '../../../../src/engine/containers/archive';
import { initialState, type ContainerRecord, type Status } from '../../../../src/engine/containers/record';
import type { EngineEvent } from '../../../../src/engine/events/bus';
import type { Bind, ExtractOptions, RootTools } from '../../../../src/engine/layers';
import type { ContainerFiles } from '../../../../src/engine/containers/store';
import { goFileMode, type PathStat, type UpperEntry } from '../../../../src/engine/layers/inroot';
import { MNT_DETACH, MS_RDONLY } from '../../../../src/host';
import { BerthError, notFound } from '../../../../src/errors';
import { FakeHost } from '../../host/fake-host';
import { IMAGE, spec } from './fakes';

const STAT: PathStat = { name: 'x', size: 1, mode: 0o644, mtime: '2026-01-01T00:00:00Z', linkTarget: '' };

class FakeTools implements RootTools {
  calls: Array<[string, ...unknown[]]> = [];
  missing = new Set<string>();
  files: Record<string, string> = {};
  entries: UpperEntry[] = [];
  tar = new PassThrough();

  binds: Bind[][] = [];
  async stat(root: string, absPath: string, binds: Bind[] = []): Promise<PathStat> {
    this.calls.push(['stat', root, absPath]);
    this.binds.push(binds);
    if (this.missing.has(absPath)) throw notFound(`${absPath}: no such file`);
    return STAT;
  }
  async pack(root: string, absPath: string) {
    this.calls.push(['pack', root, absPath]);
    if (this.missing.has(absPath)) throw notFound(`${absPath}: no such file`);
    return { stat: STAT, tar: this.tar as Readable };
  }
  async extract(root: string, dest: string, input: Readable, o: ExtractOptions): Promise<void> {
    this.calls.push(['extract', root, dest, o]);
    for await (const _ of input); // eslint-disable-line @typescript-eslint/no-unused-vars
  }
  async readFiles(root: string, paths: string[]): Promise<Record<string, string>> {
    this.calls.push(['readFiles', root, paths]);
    return this.files;
  }
  async *upperEntries(upper: string): AsyncGenerator<UpperEntry> {
    this.calls.push(['upperEntries', upper]);
    yield* this.entries;
  }
}

describe('ContainerArchives', () => {
  let dir: string;
  let host: FakeHost;
  let tools: FakeTools;
  let rec: ContainerRecord;
  let locked: number;
  let events: EngineEvent[];
  let archives: ContainerArchives;
  const merged = () => path.join(dir, 'c', rec.id, 'merged');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));
    host = new FakeHost();
    tools = new FakeTools();
    locked = 0;
    events = [];
    rec = { id: 'f'.repeat(64), name: '/box', created: '', spec: spec(), state: initialState(), restartCount: 0, conmonPid: 0 };
    const lowerDir = path.join(dir, 'layer');
    fs.mkdirSync(path.join(lowerDir, 'etc'), { recursive: true });
    archives = new ContainerArchives({
      host,
      tools,
      snapshots: {
        containerDir: (id) => path.join(dir, 'c', id),
        mounts: (id, chain) => ({ type: 'overlay', source: 'overlay', target: path.join(dir, 'c', id, 'merged'), options: [`lowerdir=${chain}`] }),
        lowers: () => [lowerDir],
      },
      imageChain: (id) => (id === IMAGE.id ? IMAGE.chainID : undefined),
      containers: {
        files: (id) => ({ hosts: `/files/${id}/hosts`, hostname: `/files/${id}/hostname`, resolvConf: `/files/${id}/resolv.conf` }) as ContainerFiles,
        idmapOf: () => undefined,
        mountStoppedRoot: () => assert.fail('not remapped'),
        withLock: async (ref, fn) => {
          if (ref !== 'box' && ref !== rec.id) throw notFound(`No such container: ${ref}`);
          locked++;
          try {
            return await fn(rec);
          } finally {
            locked--;
          }
        },
      },
      events: { publish: (type, action, id, attributes = {}) => events.push({ type, action, id, attributes, time: 0, timeNano: 0n } as unknown as EngineEvent) },
    });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const setStatus = (s: Status) => {
    rec.state.status = s;
  };

  it('works in a running container\'s mounted root without mounting anything', async () => {
    setStatus('running');
    await archives.stat('box', '/etc/../etc/passwd');
    assert.deepEqual(tools.calls, [['stat', merged(), '/etc/passwd']]);
    assert.equal(host.callsOf('mount').length, 0);
    // With the files runc binds in, so cp sees what the container sees.
    assert.deepEqual(tools.binds[0], [
      { source: `/files/${rec.id}/resolv.conf`, destination: '/etc/resolv.conf' },
      { source: `/files/${rec.id}/hostname`, destination: '/etc/hostname' },
      { source: `/files/${rec.id}/hosts`, destination: '/etc/hosts' },
    ]);
    // On another container's network, that one's files.
    rec.spec.network = { mode: 'container', container: 'e'.repeat(64) };
    await archives.stat('box', '/etc/hosts');
    assert.equal(tools.binds[1][2].source, `/files/${'e'.repeat(64)}/hosts`);
  });

  it('mounts a stopped container\'s root read-only to read it and detaches it after', async () => {
    setStatus('exited');
    await archives.stat('box', 'etc/passwd');
    const [mount] = host.callsOf('mount');
    assert.equal(mount.args[1], merged());
    assert.equal(mount.args[3], MS_RDONLY);
    assert.deepEqual(host.callsOf('umount').map((c) => c.args), [[merged(), MNT_DETACH]]);
    assert.equal(host.mounts.size, 0);
  });

  it('mounts it writable to extract into it', async () => {
    setStatus('created');
    await archives.put('box', '/tmp', Readable.from([Buffer.alloc(1024)]));
    assert.equal(host.callsOf('mount')[0].args[3], 0);
    assert.equal(tools.calls.length, 1);
    assert.deepEqual(tools.calls[0].slice(0, 3), ['extract', merged(), '/tmp']);
    assert.equal((tools.calls[0][3] as ExtractOptions).binds?.length, 3);
    assert.equal(host.mounts.size, 0);
    assert.deepEqual(events.map((e) => e.action), ['extract-to-dir']);
  });

  it('holds the lock (and the mount) until the tar is read', async () => {
    setStatus('exited');
    const { stat, tar } = await archives.get('box', '/etc');
    assert.deepEqual(stat, STAT);
    assert.equal(locked, 1);
    assert.equal(host.mounts.size, 1);
    tar.resume();
    tools.tar.end();
    await new Promise((r) => tar.once('close', r));
    await new Promise((r) => setImmediate(r));
    assert.equal(locked, 0);
    assert.equal(host.mounts.size, 0);
    assert.deepEqual(events.map((e) => [e.action, e.attributes.name]), [['archive-path', 'box']]);
  });

  it('says a missing path in Docker\'s words, and lets go of everything', async () => {
    setStatus('exited');
    tools.missing.add('/no/such');
    await assert.rejects(archives.get('box', '/no/such'), (err: BerthError) => err.kind === 'NotFound' && err.message === 'Could not find the file /no/such in container box');
    await assert.rejects(archives.stat('box', '/no/such'), /Could not find the file \/no\/such in container box/);
    assert.equal(locked, 0);
    assert.equal(host.mounts.size, 0);
  });

  it('refuses an empty path and a NUL byte before touching the container', async () => {
    await assert.rejects(archives.stat('box', ''), (err: BerthError) => err.kind === 'InvalidArgument' && /path cannot be empty/.test(err.message));
    await assert.rejects(archives.get('box', '/etc\0x'), (err: BerthError) => err.kind === 'InvalidArgument' && /NUL/.test(err.message));
    assert.deepEqual(tools.calls, []);
  });

  it('refuses writes to a read-only root after finding the directory, as dockerd does', async () => {
    rec.spec.security.readonlyRootfs = true;
    setStatus('running');
    await assert.rejects(archives.put('box', '/tmp', Readable.from([])), (err: BerthError) => err.kind === 'InvalidArgument' && err.message === 'container rootfs is marked read-only');
    tools.missing.add('/gone');
    await assert.rejects(archives.put('box', '/gone', Readable.from([])), (err: BerthError) => err.kind === 'NotFound');
    assert.equal(tools.calls.some((c) => c[0] === 'extract'), false);
  });

  it('binds the container\'s volumes and host binds after its files, parents first, and checks the read-only flag of the mount a path is in', async () => {
    const withVolumes = new ContainerArchives({ ...(archives as any).d, volumeDir: (name: string) => `/volumes/${name}/_data` });
    rec.spec.mounts = [
      { type: 'volume', source: 'inner', target: '/data/in', readonly: true },
      { type: 'bind', source: '/host/dir', target: '/data', readonly: false },
      { type: 'tmpfs', source: '', target: '/run', readonly: false },
    ];
    rec.spec.security.readonlyRootfs = true;
    setStatus('running');
    await withVolumes.stat('box', '/data/in/x');
    assert.deepEqual(tools.binds[0].slice(3), [
      { source: '/host/dir', destination: '/data' },
      { source: '/volumes/inner/_data', destination: '/data/in' },
    ]);
    await assert.rejects(withVolumes.put('box', '/data/in/sub', Readable.from([])), (err: BerthError) => err.kind === 'InvalidArgument' && err.message === 'mounted volume is marked read-only');
    // A writable mount inside a read-only root takes the write.
    await withVolumes.put('box', '/data/x', Readable.from([]));
    assert.equal(tools.calls.filter((c) => c[0] === 'extract').length, 1);
    await assert.rejects(withVolumes.put('box', '/datax', Readable.from([])), (err: BerthError) => err.message === 'container rootfs is marked read-only');
  });

  it('with copyUIDGID, gives files the container user\'s ids from its own passwd and group', async () => {
    setStatus('running');
    rec.spec.process.user = 'app:staff';
    tools.files = { '/etc/passwd': 'app:x:1000:1000::/home/app:/bin/sh\n', '/etc/group': 'staff:x:50:\n' };
    await archives.put('box', '/tmp', Readable.from([]), { copyUIDGID: true, noOverwriteDirNonDir: true });
    assert.deepEqual(tools.calls.map((c) => c[0]), ['readFiles', 'extract']);
    assert.deepEqual({ ...(tools.calls[1][3] as ExtractOptions), binds: undefined }, { noOverwriteDirNonDir: true, chown: { uid: 1000, gid: 50 }, binds: undefined });
    // Without a user, the tar's owners are kept (dockerd's defaults).
    rec.spec.process.user = '';
    tools.calls = [];
    await archives.put('box', '/tmp', Readable.from([]), { copyUIDGID: true });
    assert.deepEqual(tools.calls.map((c) => c[0]), ['extract']);
    assert.equal((tools.calls[0][3] as ExtractOptions).chown, undefined);
  });

  it('refuses a container being removed', async () => {
    setStatus('removing');
    await assert.rejects(archives.stat('box', '/'), (err: BerthError) => err.kind === 'Conflict');
    await assert.rejects(archives.changes('box'), (err: BerthError) => err.kind === 'Conflict');
  });

  it('computes changes against the init layer, then the image\'s layers', async () => {
    setStatus('exited');
    const cdir = path.join(dir, 'c', rec.id);
    fs.mkdirSync(path.join(cdir, 'diff'), { recursive: true });
    fs.mkdirSync(path.join(cdir, 'init/etc'), { recursive: true });
    fs.writeFileSync(path.join(cdir, 'init/etc/hosts'), '');
    const file = (p: string): UpperEntry => ({ path: p, dir: false, size: 0, mode: 0o644, mtimeNs: '1', whiteout: false, opaque: false });
    tools.entries = [
      { path: '/etc', dir: true, size: 1, mode: goFileMode(0o040755), mtimeNs: '1', whiteout: false, opaque: false },
      file('/etc/hosts'),
      file('/etc/new'),
    ];
    const changes = await archives.changes('box');
    assert.deepEqual(changes, [
      { path: '/etc', kind: 'modified' },
      { path: '/etc/hosts', kind: 'modified' },
      { path: '/etc/new', kind: 'added' },
    ]);
    assert.deepEqual(tools.calls, [['upperEntries', path.join(cdir, 'diff')]]);
    assert.equal(host.callsOf('mount').length, 0);
  });
});
