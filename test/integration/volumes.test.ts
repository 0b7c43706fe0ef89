// Volumes against a real berthd, with the docker CLI and dockerode: named,
// anonymous, bind and tmpfs mounts, copy-up from the image, --volumes-from,
// removal with the container, the /volumes routes and their filters, docker
// cp through a volume, volume events, system df against the bytes on disk,
// and a daemon restart with a tmpfs volume mounted.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

const ok = async (d: TestDaemon, ...args: string[]): Promise<string> => {
  const r = await docker(d, ...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

// Mounts of the kernel's under dir (a volume's _data, mounted at first use).
const mountsUnder = (dir: string): string[] =>
  fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(dir));

describe('volumes', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let volumesDir: string;
  before(async () => {
    d = await startDaemon();
    volumesDir = path.join(d.dataRoot, 'volumes');
    await importBusybox(d);
    // An image with a VOLUME holding files of other owners and modes.
    await ok(d, 'run', '--name', 'mk', 'busybox', 'sh', '-c',
      'mkdir -p /srv/app/sub && echo data > /srv/app/x && chown 1000:2000 /srv/app/x && chmod 640 /srv/app/x && chown 33:44 /srv/app && chmod 750 /srv/app && ln -s /etc/passwd /srv/app/link');
    await ok(d, 'commit', '-c', 'VOLUME /srv/app', 'mk', 'withvol');
    await ok(d, 'rm', 'mk');
  });
  after(async () => {
    await d?.stop();
  });

  it('keeps a named volume\'s data after its container is removed', async () => {
    await ok(d, 'run', '--name', 'wr', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f');
    await ok(d, 'rm', '-v', 'wr');
    assert.equal(await ok(d, 'run', '--rm', '-v', 'keep:/data', 'busybox', 'cat', '/data/f'), 'kept');
    const v = JSON.parse(await ok(d, 'volume', 'inspect', 'keep'))[0];
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, path.join(volumesDir, 'keep', '_data'));
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'f'), 'utf8'), 'kept\n');
  });

  it('fills a new volume from the image, keeping owners and modes, and not an existing one', async () => {
    const ls = await ok(d, 'run', '--rm', '-v', 'cu:/srv/app', 'withvol', 'sh', '-c', 'stat -c "%n %u:%g %a" /srv/app /srv/app/x; readlink /srv/app/link');
    assert.deepEqual(ls.split('\n'), ['/srv/app 33:44 750', '/srv/app/x 1000:2000 640', '/etc/passwd']);
    const data = path.join(volumesDir, 'cu', '_data');
    assert.equal(fs.lstatSync(path.join(data, 'link')).isSymbolicLink(), true);
    assert.equal(fs.statSync(path.join(data, 'x')).uid, 1000);
    // A volume with content is not filled again; nocopy leaves a new one empty.
    await ok(d, 'run', '--rm', '-v', 'cu:/srv/app', 'withvol', 'sh', '-c', 'rm /srv/app/x');
    assert.equal(await ok(d, 'run', '--rm', '-v', 'cu:/srv/app', 'withvol', 'ls', '/srv/app'), 'link\nsub');
    assert.equal(await ok(d, 'run', '--rm', '-v', 'nc:/srv/app:nocopy', 'withvol', 'ls', '-A', '/srv/app'), '');
  });

  it('makes the image\'s VOLUME an anonymous volume: removed by run --rm and rm -v, kept by rm', async () => {
    const before = new Set(JSON.parse((await api(d, 'GET', '/volumes')).body).Volumes.map((v: { Name: string }) => v.Name));
    const fresh = async () => JSON.parse((await api(d, 'GET', '/volumes')).body).Volumes.filter((v: { Name: string }) => !before.has(v.Name));

    assert.equal(await ok(d, 'run', '--rm', '-v', '/extra', 'withvol', 'cat', '/srv/app/x'), 'data');
    assert.deepEqual(await fresh(), []);

    await ok(d, 'run', '--name', 'a1', '-v', 'named1:/n', 'withvol', 'true');
    const mounts = JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'a1'));
    const anon = mounts.find((m: { Destination: string }) => m.Destination === '/srv/app');
    assert.equal(anon.Type, 'volume');
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.equal(anon.Source, path.join(volumesDir, anon.Name, '_data'));
    assert.equal(anon.Mode, '');
    assert.equal(anon.RW, true);
    const named = mounts.find((m: { Destination: string }) => m.Destination === '/n');
    assert.deepEqual(named, { Type: 'volume', Name: 'named1', Source: path.join(volumesDir, 'named1', '_data'), Destination: '/n', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    const labels = JSON.parse(await ok(d, 'volume', 'inspect', anon.Name))[0].Labels;
    assert.ok('com.docker.volume.anonymous' in labels);

    await ok(d, 'run', '--name', 'a2', 'withvol', 'true');
    const anon2 = JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'a2'))[0].Name;
    await ok(d, 'rm', 'a2');
    assert.ok((await fresh()).some((v: { Name: string }) => v.Name === anon2), 'plain rm keeps the anonymous volume');
    await ok(d, 'rm', '-v', 'a1');
    const left = (await fresh()).map((v: { Name: string }) => v.Name).sort();
    assert.deepEqual(left, [anon2, 'named1'].sort(), 'rm -v removes the anonymous volume, never the named one');
    await ok(d, 'volume', 'rm', anon2, 'named1');
  });

  it('binds host paths: :ro cannot be written, -v makes a missing dir, --mount refuses one, files bind too', async () => {
    const host = path.join(d.base, 'hostdir');
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'in'), 'from host\n');
    const r = await docker(d, 'run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/in; echo x > /h/new');
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, 'from host\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.equal(fs.existsSync(path.join(host, 'new')), false);

    await ok(d, 'run', '--rm', '--mount', `type=bind,src=${host},dst=/h`, 'busybox', 'sh', '-c', 'echo written > /h/new');
    assert.equal(fs.readFileSync(path.join(host, 'new'), 'utf8'), 'written\n');

    const missing = path.join(d.base, 'made', 'by', 'run');
    await ok(d, 'run', '--rm', '-v', `${missing}:/m`, 'busybox', 'touch', '/m/f');
    assert.equal(fs.existsSync(path.join(missing, 'f')), true);

    const bad = await docker(d, 'run', '--rm', '--mount', `type=bind,src=${d.base}/nope,dst=/x`, 'busybox', 'true');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${d.base}/nope`));

    const file = path.join(d.base, 'one-file');
    fs.writeFileSync(file, 'just a file\n');
    assert.equal(await ok(d, 'run', '--rm', '-v', `${file}:/etc/motd:ro`, 'busybox', 'cat', '/etc/motd'), 'just a file');

    const ins = await ok(d, 'create', '--name', 'b1', '-v', `${host}:/h:ro`, 'busybox', 'true');
    assert.ok(ins);
    assert.deepEqual(JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'b1')), [{ Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' }]);
    await ok(d, 'rm', 'b1');
  });

  it('mounts nested targets parents first, and keeps a link in the image from aiming a mount at the host', async () => {
    assert.equal(await ok(d, 'run', '--rm', '-v', 'inner:/outer/in', '-v', 'outer:/outer', 'busybox', 'sh', '-c', 'echo i > /outer/in/f; echo o > /outer/g; ls /outer'), 'g\nin');
    assert.equal(fs.readFileSync(path.join(volumesDir, 'inner', '_data', 'f'), 'utf8'), 'i\n');
    assert.equal(fs.readFileSync(path.join(volumesDir, 'outer', '_data', 'g'), 'utf8'), 'o\n');
    // An image whose /escape is an absolute link to a host directory.
    const hostSide = path.join(d.base, 'host-side');
    fs.mkdirSync(hostSide);
    await ok(d, 'run', '--name', 'lk', 'busybox', 'ln', '-s', hostSide, '/escape');
    await ok(d, 'commit', 'lk', 'linky');
    await ok(d, 'rm', 'lk');
    await ok(d, 'run', '--rm', '-v', 'esc:/escape/sub', 'linky', 'sh', '-c', 'echo inside > /escape/sub/f');
    assert.deepEqual(fs.readdirSync(hostSide), [], 'nothing was mounted or made on the host side');
    assert.equal(fs.readFileSync(path.join(volumesDir, 'esc', '_data', 'f'), 'utf8'), 'inside\n');
    await ok(d, 'rmi', 'linky');
    await ok(d, 'volume', 'rm', 'inner', 'outer', 'esc');
  });

  it('binds a host directory through a local volume with o=bind', async () => {
    const src = path.join(d.base, 'bind-volume');
    fs.mkdirSync(src);
    await ok(d, 'volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${src}`, 'bv');
    await ok(d, 'run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'echo through > /b/f');
    assert.equal(fs.readFileSync(path.join(src, 'f'), 'utf8'), 'through\n');
    assert.deepEqual(mountsUnder(path.join(volumesDir, 'bv')), []);
    await ok(d, 'volume', 'rm', 'bv');
    assert.equal(fs.readFileSync(path.join(src, 'f'), 'utf8'), 'through\n', 'removing the volume leaves the host directory');
  });

  it('mounts a device volume (-o type=ext4 -o device=…) through mount(2) at first use', async () => {
    const { execFileSync } = await import('node:child_process');
    const img = path.join(d.base, 'dev.img');
    fs.closeSync(fs.openSync(img, 'w'));
    fs.truncateSync(img, 8 << 20);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    const dev = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
    try {
      await ok(d, 'volume', 'create', '-o', 'type=ext4', '-o', `device=${dev}`, '-o', 'o=noatime', 'devv');
      await ok(d, 'run', '--rm', '-v', 'devv:/d', 'busybox', 'sh', '-c', 'echo on-ext4 > /d/f');
      assert.deepEqual(mountsUnder(path.join(volumesDir, 'devv')), []);
      // The data is on the device, not in the volume's directory.
      assert.equal(fs.existsSync(path.join(volumesDir, 'devv', '_data', 'f')), false);
      assert.match(await ok(d, 'run', '--rm', '-v', 'devv:/d', 'busybox', 'sh', '-c', 'cat /d/f; grep " /d " /proc/mounts'), /^on-ext4\n\S+ \/d ext4 rw,noatime/);
      await ok(d, 'volume', 'rm', 'devv');
    } finally {
      execFileSync('losetup', ['-d', dev]);
    }
  });

  it('refuses malformed mounts with dockerd\'s messages', async () => {
    for (const [args, msg] of [
      [['-v', '/a:/b:xx'], /invalid mode: xx/],
      [['-v', 'name:rel'], /invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute/],
      [['-v', '/a:/'], /destination can't be '\/'/],
      [['-v', '/x:/a', '-v', '/y:/a'], /Duplicate mount point: \/a/],
      [['-v', 'bad/name:/a'], /includes invalid characters for a local volume name/],
    ] as [string[], RegExp][]) {
      const r = await docker(d, 'run', '--rm', ...args, 'busybox', 'true');
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, msg);
    }
  });

  it('mounts --tmpfs and tmpfs volumes; a tmpfs volume is mounted while used and unmounted after', async () => {
    assert.match(await ok(d, 'run', '--rm', '--tmpfs', '/t:size=1m,mode=1777', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts; stat -c %a /t'),
      /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k 0 0\n1777$/);
    assert.equal(await ok(d, 'run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=2097152,tmpfs-mode=0700', 'busybox', 'sh', '-c', 'df -k /t | tail -1 | awk \'{print $2}\'; stat -c %a /t'), '2048\n700');

    await ok(d, 'volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=4m', 'tv');
    const data = path.join(volumesDir, 'tv', '_data');
    assert.deepEqual(mountsUnder(data), []);
    await ok(d, 'run', '-d', '--name', 't1', '-v', 'tv:/x', 'busybox', 'sh', '-c', 'echo a > /x/a; sleep 600');
    await ok(d, 'run', '-d', '--name', 't2', '-v', 'tv:/x', 'busybox', 'sleep', '600');
    assert.deepEqual(mountsUnder(data), [data]);
    assert.equal(await ok(d, 'exec', 't2', 'cat', '/x/a'), 'a');
    await ok(d, 'rm', '-f', 't1');
    assert.deepEqual(mountsUnder(data), [data], 'still mounted for t2');
    await ok(d, 'rm', '-f', 't2');
    assert.deepEqual(mountsUnder(data), []);

    const bad = await docker(d, 'volume', 'create', '-o', 'type=tmpfs', 'tv2');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /missing required option: "device"/);
    const bad2 = await docker(d, 'volume', 'create', '-o', 'foo=bar', 'tv2');
    assert.match(bad2.stderr, /invalid option: "foo"/);
    await ok(d, 'volume', 'rm', 'tv');
  });

  it('shares another container\'s volumes with --volumes-from, read-only when asked', async () => {
    await ok(d, 'create', '--name', 'src', '-v', 'shared:/s', '-v', '/anon', 'busybox', 'true');
    assert.equal(await ok(d, 'run', '--rm', '--volumes-from', 'src', 'busybox', 'sh', '-c', 'echo via > /s/f; echo via > /anon/f; cat /s/f'), 'via');
    const r = await docker(d, 'run', '--rm', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'cat /anon/f; touch /s/g');
    assert.equal(r.stdout, 'via\n');
    assert.match(r.stderr, /Read-only file system/);
    // The anonymous volume is src's: a --rm user of it does not remove it.
    const anon = JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'src')).find((m: { Destination: string }) => m.Destination === '/anon').Name;
    assert.ok(fs.existsSync(path.join(volumesDir, anon)));
    await ok(d, 'rm', '-v', 'src');
    assert.equal(fs.existsSync(path.join(volumesDir, anon)), false);
    assert.ok(fs.existsSync(path.join(volumesDir, 'shared')));
  });

  it('refuses to remove a volume in use with 409, lists and prunes with filters', async () => {
    await ok(d, 'volume', 'create', '--label', 'team=a', 'la');
    await ok(d, 'volume', 'create', '--label', 'team=b', 'lb');
    await ok(d, 'create', '--name', 'user', '-v', 'la:/d', 'busybox', 'true');
    const id = await ok(d, 'inspect', '-f', '{{.Id}}', 'user');
    const rm = await api(d, 'DELETE', '/volumes/la');
    assert.equal(rm.status, 409);
    assert.deepEqual(JSON.parse(rm.body), { message: `remove la: volume is in use - [${id}]` });
    assert.equal((await api(d, 'DELETE', '/volumes/la?force=1')).status, 409);
    assert.equal((await api(d, 'DELETE', '/volumes/nosuch')).status, 404);
    assert.equal((await api(d, 'DELETE', '/volumes/nosuch?force=1')).status, 204);

    const names = async (...f: string[]) => (await ok(d, 'volume', 'ls', '-q', ...f.flatMap((x) => ['--filter', x]))).split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('label=team'), ['la', 'lb']);
    assert.deepEqual(await names('label=team=b'), ['lb']);
    assert.ok(!(await names('dangling=true')).includes('la'));
    assert.ok((await names('dangling=true')).includes('lb'));
    assert.deepEqual(await names('dangling=false', 'label=team'), ['la']);
    assert.deepEqual(await names('name=^l[ab]$'), ['la', 'lb']);
    assert.ok((await names('driver=local')).includes('la'));
    const badFilter = await api(d, 'GET', '/volumes?filters=' + encodeURIComponent('{"colour":["red"]}'));
    assert.equal(badFilter.status, 400);

    // Without all, prune takes only anonymous volumes; with it, any unused one.
    await ok(d, 'run', '--name', 'an', '-v', '/x', 'busybox', 'true');
    const anon = JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'an'))[0].Name;
    await ok(d, 'rm', 'an');
    fs.writeFileSync(path.join(volumesDir, anon, '_data', 'blob'), Buffer.alloc(3000));
    const p1 = JSON.parse((await api(d, 'POST', '/volumes/prune')).body);
    assert.deepEqual(p1, { VolumesDeleted: [anon], SpaceReclaimed: 3000 });
    const p2 = JSON.parse((await api(d, 'POST', '/volumes/prune?filters=' + encodeURIComponent('{"all":["true"],"label":["team=b"]}'))).body);
    assert.deepEqual(p2.VolumesDeleted, ['lb']);
    // API 1.41 prunes every unused volume, as dockerd did then.
    await ok(d, 'volume', 'create', 'old-api');
    const p3 = JSON.parse((await api(d, 'POST', '/v1.41/volumes/prune?filters=' + encodeURIComponent('{"label!":["team"]}'))).body);
    assert.ok(p3.VolumesDeleted.includes('old-api'));
    assert.ok(!p3.VolumesDeleted.includes('la'));
    await ok(d, 'rm', 'user');
    assert.match(await ok(d, 'volume', 'prune', '-af'), /la/);
  });

  it('copies into and out of a volume with docker cp (started or not), and refuses a read-only one', async () => {
    await ok(d, 'run', '--name', 'cpc', '-v', 'cpv:/vol', '-v', 'cpro:/ro:ro', 'busybox', 'true');
    const src = path.join(d.base, 'cp-in');
    fs.writeFileSync(src, 'copied in\n');
    await ok(d, 'cp', src, 'cpc:/vol/in');
    assert.equal(fs.readFileSync(path.join(volumesDir, 'cpv', '_data', 'in'), 'utf8'), 'copied in\n');
    fs.writeFileSync(path.join(volumesDir, 'cpv', '_data', 'out'), 'copied out\n');
    const dst = path.join(d.base, 'cp-out');
    await ok(d, 'cp', 'cpc:/vol/out', dst);
    assert.equal(fs.readFileSync(dst, 'utf8'), 'copied out\n');
    const ro = await docker(d, 'cp', src, 'cpc:/ro/in');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /mounted volume is marked read-only/);
    // Neither diff nor export sees the volume's content.
    assert.doesNotMatch(await ok(d, 'diff', 'cpc'), /\/vol\/in/);
    const tarFile = path.join(d.base, 'export.tar');
    await ok(d, 'export', '-o', tarFile, 'cpc');
    const names = (await import('node:child_process')).execFileSync('tar', ['tf', tarFile], { encoding: 'utf8' });
    assert.match(names, /^vol\/$/m, 'the mount point is in the export');
    assert.doesNotMatch(names, /^vol\/(in|out)$/m);
    await ok(d, 'rm', 'cpc');
    // A container never started has no mount point yet: cp makes it and reaches the volume.
    await ok(d, 'create', '--name', 'fresh', '-v', 'cpv:/vol', '-v', `${src}:/etc/in.conf:ro`, 'busybox', 'true');
    await ok(d, 'cp', src, 'fresh:/vol/in2');
    assert.equal(fs.readFileSync(path.join(volumesDir, 'cpv', '_data', 'in2'), 'utf8'), 'copied in\n');
    const dst2 = path.join(d.base, 'cp-out2');
    await ok(d, 'cp', 'fresh:/vol/out', dst2);
    assert.equal(fs.readFileSync(dst2, 'utf8'), 'copied out\n');
    const dst3 = path.join(d.base, 'cp-out3');
    await ok(d, 'cp', 'fresh:/etc/in.conf', dst3);
    assert.equal(fs.readFileSync(dst3, 'utf8'), 'copied in\n');
    await ok(d, 'rm', 'fresh');
  });

  it('copies through a container with many mounts', async () => {
    const flags = Array.from({ length: 20 }, (_, i) => ['-v', `/m${i}`]).flat();
    await ok(d, 'run', '--name', 'many', ...flags, 'busybox', 'sh', '-c', 'echo nineteen > /m19/f');
    const dst = path.join(d.base, 'many-out');
    await ok(d, 'cp', 'many:/m19/f', dst);
    assert.equal(fs.readFileSync(dst, 'utf8'), 'nineteen\n');
    await ok(d, 'rm', '-v', 'many');
  });

  it('reports volumes in system df with the bytes du counts and their users', async () => {
    await ok(d, 'volume', 'create', 'dfv');
    const data = path.join(volumesDir, 'dfv', '_data');
    await ok(d, 'run', '--name', 'dfc', '-v', 'dfv:/d', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/d/a bs=1000 count=70 2>/dev/null; mkdir /d/s; dd if=/dev/zero of=/d/s/b bs=1 count=123 2>/dev/null; ln /d/a /d/hard');
    const du = Number((await import('node:child_process')).execFileSync('du', ['-sb', '--exclude=.', data], { encoding: 'utf8' }).split('\t')[0]);
    const dirs = Number((await import('node:child_process')).execFileSync('sh', ['-c', `find ${data} -type d | wc -l`], { encoding: 'utf8' }).trim());
    const df = JSON.parse((await api(d, 'GET', '/system/df?type=volume')).body);
    const v = df.Volumes.find((x: { Name: string }) => x.Name === 'dfv');
    // du -b counts each directory's own bytes too; dockerd counts files only.
    const dirBytes = Number((await import('node:child_process')).execFileSync('sh', ['-c', `find ${data} -type d -printf '%s\\n' | awk '{s+=$1} END {print s}'`], { encoding: 'utf8' }).trim());
    assert.ok(dirs >= 2);
    assert.equal(v.UsageData.Size, du - dirBytes);
    assert.equal(v.UsageData.Size, 70_123);
    assert.equal(v.UsageData.RefCount, 1);
    assert.equal(df.Images, undefined);
    const all = JSON.parse((await api(d, 'GET', '/system/df')).body);
    assert.deepEqual(all.BuildCache, []);
    assert.ok(all.Containers.some((c: { Names: string[] }) => c.Names[0] === '/dfc'));
    assert.match(await ok(d, 'system', 'df', '-v'), /dfv\s+1\s+70\.12kB/);
    await ok(d, 'rm', 'dfc');
    assert.deepEqual(JSON.parse((await api(d, 'POST', '/volumes/prune?filters=' + encodeURIComponent('{"all":["1"]}'))).body).SpaceReclaimed >= 70_123, true);
    assert.deepEqual(JSON.parse((await api(d, 'POST', '/build/prune')).body), { CachesDeleted: null, SpaceReclaimed: 0 });
  });

  it('reclaims what system prune asks for (containers, volumes, build cache) with the sizes df reported', async () => {
    await ok(d, 'run', '--name', 'pr', '-v', '/pv', 'busybox', 'sh', '-c', 'head -c 40000 /dev/zero > /pv/f; head -c 9000 /dev/zero > /rootfile');
    const anon = JSON.parse(await ok(d, 'inspect', '-f', '{{json .Mounts}}', 'pr'))[0].Name;
    const df = JSON.parse((await api(d, 'GET', '/system/df')).body);
    const c = df.Containers.find((x: { Names: string[] }) => x.Names[0] === '/pr');
    assert.ok(c.SizeRw >= 9000, `SizeRw ${c.SizeRw}`);
    const v = df.Volumes.find((x: { Name: string }) => x.Name === anon);
    assert.deepEqual(v.UsageData, { Size: 40_000, RefCount: 1 });
    // The calls docker system prune --volumes makes, in its order (the networks' is served by the networking side).
    const cp = JSON.parse((await api(d, 'POST', '/containers/prune')).body);
    assert.ok(cp.ContainersDeleted.some((id: string) => c.Id === id));
    assert.ok(cp.SpaceReclaimed >= c.SizeRw);
    const vp = JSON.parse((await api(d, 'POST', '/volumes/prune')).body);
    assert.ok(vp.VolumesDeleted.includes(anon));
    assert.ok(vp.SpaceReclaimed >= 40_000);
    const bp = JSON.parse((await api(d, 'POST', '/build/prune')).body);
    assert.deepEqual(bp, { CachesDeleted: null, SpaceReclaimed: 0 });
    const after = JSON.parse((await api(d, 'GET', '/system/df')).body);
    assert.ok(!after.Volumes.some((x: { Name: string }) => x.Name === anon));
    assert.ok(!after.Containers.some((x: { Names: string[] }) => x.Names[0] === '/pr'));
  });

  it('publishes volume events: create, mount, unmount, destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(d, 'run', '--rm', '-v', 'ev:/e', 'busybox', 'true');
    await ok(d, 'volume', 'rm', 'ev');
    const until = Math.floor(Date.now() / 1000) + 1;
    const out = await ok(d, 'events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--filter', 'volume=ev', '--format', '{{.Action}}');
    assert.deepEqual(out.split('\n'), ['create', 'mount', 'unmount', 'destroy']);
  });

  it('serves dockerode: volume create, inspect, list, remove, and Mounts on create', async () => {
    const client = new Docker({ socketPath: d.socket });
    const created = await client.createVolume({ Name: 'dv', Labels: { via: 'dockerode' } });
    assert.equal(created.name, 'dv');
    // Creating it again returns it, as dockerd does.
    const again = await api(d, 'POST', '/volumes/create', JSON.stringify({ Name: 'dv' }));
    assert.equal(again.status, 201);
    assert.equal(JSON.parse(again.body).Labels.via, 'dockerode');
    const info = await client.getVolume('dv').inspect();
    assert.equal(info.Labels.via, 'dockerode');
    const list = await client.listVolumes({ filters: { label: ['via=dockerode'] } });
    assert.deepEqual(list.Volumes.map((v) => v.Name), ['dv']);
    const c: Docker.Container = await (client.createContainer as (o: object) => Promise<Docker.Container>)({
      Image: 'busybox', Cmd: ['sh', '-c', 'echo m > /m/f; grep " /t " /proc/mounts'],
      HostConfig: { Mounts: [{ Type: 'volume', Source: 'dv', Target: '/m' }, { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20 } }] },
    });
    await c.start();
    assert.equal((await c.wait()).StatusCode, 0);
    const m = (await c.inspect()).Mounts;
    assert.deepEqual(m.map((x: { Type: string }) => x.Type).sort(), ['tmpfs', 'volume']);
    await c.remove({ v: true });
    assert.equal(fs.readFileSync(path.join(volumesDir, 'dv', '_data', 'f'), 'utf8'), 'm\n');
    await client.getVolume('dv').remove();
    await assert.rejects(client.getVolume('dv').inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
    const refused = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }] } }));
    assert.equal(refused.status, 400);
    assert.match(JSON.parse(refused.body).message, /HostConfig\.Mounts\.VolumeOptions\.Subpath/);
  });

  it('keeps volumes and a running container\'s tmpfs volume mount across a daemon restart', async () => {
    await ok(d, 'volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'rt');
    await ok(d, 'volume', 'create', '--label', 'k=v', 'persist');
    await ok(d, 'run', '-d', '--name', 'r1', '-v', 'rt:/x', 'busybox', 'sh', '-c', 'echo alive > /x/f; sleep 600');
    const data = path.join(volumesDir, 'rt', '_data');
    await d.kill9();
    await d.restart();
    assert.equal(JSON.parse(await ok(d, 'volume', 'inspect', 'persist'))[0].Labels.k, 'v');
    assert.deepEqual(mountsUnder(data), [data]);
    assert.equal(await ok(d, 'exec', 'r1', 'cat', '/x/f'), 'alive');
    assert.equal((await api(d, 'DELETE', '/volumes/rt')).status, 409);
    // The container dies while the daemon is down: the restart lets go of the mount.
    const pid = Number(await ok(d, 'inspect', '-f', '{{.State.Pid}}', 'r1'));
    await d.kill9();
    process.kill(pid, 'SIGKILL');
    await d.restart();
    assert.equal(await ok(d, 'inspect', '-f', '{{.State.Status}}', 'r1'), 'exited');
    assert.deepEqual(mountsUnder(data), []);
    await ok(d, 'rm', 'r1');
    await ok(d, 'volume', 'rm', 'rt', 'persist');
    assert.deepEqual(mountsUnder(volumesDir), []);
  });
});
