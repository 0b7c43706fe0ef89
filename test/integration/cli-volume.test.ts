// berth's volume commands, run/create's -v, --mount, --tmpfs and
// --volumes-from, and system df/prune against a real berthd, next to the
// docker CLI on the same daemon (docker's documented behaviour). Needs the
// daemon side of issue 9 (volumes, df and prune).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { same, ok } from './compare';
import { berth, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

describe('berth volume, -v/--mount and system df/prune, next to docker', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let host: string;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
    fs.writeFileSync(path.join(host, 'hello'), 'from the host\n');
  });
  after(async () => {
    await berth(d, 'rm', '-f', 'holder', 'user');
    await d.stop();
    fs.rmSync(host, { recursive: true, force: true });
  });

  it('creates, lists and inspects volumes as docker does', async () => {
    assert.equal(await ok(d, 'volume', 'create', '--label', 'team=a', 'v1'), 'v1\n');
    assert.equal((await docker(d, 'volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=16m', 'v2')).code, 0);
    const anon = (await ok(d, 'volume', 'create')).trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    for (const args of [
      ['volume', 'ls'],
      ['volume', 'ls', '-q'],
      ['volume', 'ls', '--filter', 'name=v', '--format', '{{.Name}} {{.Driver}} {{.Labels}}'],
      ['volume', 'ls', '--filter', 'label=team=a'],
      ['volume', 'ls', '--filter', 'dangling=true', '-q'],
      ['volume', 'ls', '--format', 'json'],
      ['volume', 'inspect', 'v1', 'v2'],
      ['volume', 'inspect', '--format', '{{.Name}} {{.Mountpoint}} {{json .Options}}', 'v2'],
      ['volume', 'inspect', 'nope'],
    ]) await same(d, args);
    await ok(d, 'volume', 'rm', anon);
  });

  it('keeps data in a named volume across containers', async () => {
    await ok(d, 'run', '--rm', '-v', 'v1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f');
    assert.equal(await ok(d, 'run', '--rm', '--mount', 'type=volume,source=v1,target=/other', 'busybox', 'cat', '/other/f'), 'kept\n');
    assert.equal(await ok(d, 'run', '--rm', '--mount', 'type=volume,src=v1,dst=/ro,readonly', 'busybox', 'sh', '-c', 'cat /ro/f; touch /ro/x 2>/dev/null || echo read-only'), 'kept\nread-only\n');
  });

  it('fills a new named volume from the image (copy-up)', async () => {
    assert.equal(await ok(d, 'run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'true'), '');
    assert.match(await ok(d, 'run', '--rm', '-v', 'etcvol:/mnt', 'busybox', 'ls', '/mnt'), /passwd/);
  });

  it('bind mounts host paths, read-only with :ro', async () => {
    assert.equal(await ok(d, 'run', '--rm', '-v', `${host}:/h`, 'busybox', 'cat', '/h/hello'), 'from the host\n');
    const ro = await berth(d, 'run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'echo x > /h/new');
    assert.notEqual(ro.code, 0);
    assert.ok(!fs.existsSync(path.join(host, 'new')));
    assert.equal(await ok(d, 'run', '--rm', '--mount', `type=bind,source=${host},target=/b`, 'busybox', 'sh', '-c', 'echo w > /b/written && cat /b/hello'), 'from the host\n');
    assert.equal(fs.readFileSync(path.join(host, 'written'), 'utf8'), 'w\n');
    const missing = await same(d, ['run', '--rm', '--mount', `type=bind,source=${host}/absent,target=/b`, 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
  });

  it('mounts tmpfs and volumes from another container', async () => {
    assert.match(await ok(d, 'run', '--rm', '--tmpfs', '/t:size=1m', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts'), /tmpfs \/t tmpfs/);
    assert.match(await ok(d, 'run', '--rm', '--mount', 'type=tmpfs,target=/m,tmpfs-size=1m', 'busybox', 'sh', '-c', 'grep " /m " /proc/mounts'), /tmpfs \/m tmpfs/);
    await ok(d, 'create', '--name', 'holder', '-v', 'v1:/shared', 'busybox', 'true');
    assert.equal(await ok(d, 'run', '--rm', '--volumes-from', 'holder:ro', 'busybox', 'cat', '/shared/f'), 'kept\n');
    await same(d, ['inspect', '--format', '{{json .Mounts}}', 'holder']);
  });

  it('removes anonymous volumes with run --rm', async () => {
    const before = (await ok(d, 'volume', 'ls', '-q')).split('\n').filter(Boolean).length;
    await ok(d, 'run', '--rm', '-v', '/anon', 'busybox', 'true');
    assert.equal((await ok(d, 'volume', 'ls', '-q')).split('\n').filter(Boolean).length, before);
  });

  it('refuses to remove a volume in use, as docker', async () => {
    await same(d, ['volume', 'rm', 'v1']);
    await same(d, ['volume', 'rm', 'nope']);
  });

  it('reports disk usage as docker does', async () => {
    await ok(d, 'run', '-d', '--name', 'user', '-v', 'v1:/data', 'busybox', 'sleep', '1000');
    for (const args of [
      ['system', 'df'],
      ['system', 'df', '-v'],
      ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}'],
      ['system', 'df', '-v', '--format', 'json'],
    ]) await same(d, args);
    const df = await ok(d, 'system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}');
    assert.match(df, /^Local Volumes \d+ 1$/m);
  });

  it('prunes volumes and the system as docker does', async () => {
    await ok(d, 'rm', '-f', 'user', 'holder');
    await ok(d, 'volume', 'create', 'p1');
    const anon = (await ok(d, 'volume', 'create')).trim();
    const pruned = await ok(d, 'volume', 'prune', '-f');
    assert.match(pruned, new RegExp(`^Deleted Volumes:\\n${anon}\\n\\nTotal reclaimed space: `));
    const all = await ok(d, 'volume', 'prune', '-a', '-f');
    assert.match(all, /^Deleted Volumes:\n(.+\n)+\nTotal reclaimed space: /);
    assert.equal(await ok(d, 'volume', 'ls', '-q'), '');
    await same(d, ['volume', 'prune', '-f']);
    await ok(d, 'create', 'busybox', 'true');
    const sys = await ok(d, 'system', 'prune', '-f', '--volumes');
    assert.match(sys, /^Deleted Containers:\n[0-9a-f]{64}\n\n(.|\n)*Total reclaimed space: /);
    await same(d, ['system', 'prune', '-f']);
  });
});
