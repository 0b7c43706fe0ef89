// berth's image and distribution commands (bin/berth) against a real berthd
// and Debian's docker-registry on loopback: save/load, export, commit,
// import --change, history, image prune, images filters and --format,
// ps --format, pull/push, and login/logout with credentials shared with
// the docker CLI through the same config.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, BERTH, busyboxTarFile, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { haveHtpasswd, haveRegistry, htpasswdFile, startRegistry, tmpDir, type RegistryProcess } from './registry/helpers';

const ok = (r: { code: number; stderr: string; stdout: string }, what = '') => assert.equal(r.code, 0, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
// berth and docker run a moment apart, so "5 seconds ago" may read "6 seconds ago" in the second.
// Relative times tick between the berth and the docker call ("Less than a
// second ago", "1 second ago", "Up 2 seconds"), and table columns are as wide
// as their widest cell: times are masked and runs of spaces squeezed.
const sinceless = (out: string) =>
  out
    .replace(/\b(\d+|About a|About an|Less than a) (second|minute|hour)s?( ago)?\b/g, 'N$3')
    .replace(/ {2,}/g, '  ');
// berth and docker, given the same arguments, print the same and exit alike.
async function sameAsDocker(d: TestDaemon, cases: string[][]): Promise<void> {
  for (const args of cases) {
    const b = await berth(d, ...args);
    const k = await docker(d, ...args);
    assert.equal(sinceless(b.stdout), sinceless(k.stdout), args.join(' '));
    assert.equal(b.stderr, k.stderr.replace(/docker/g, 'berth'), args.join(' '));
    assert.equal(b.code, k.code, args.join(' '));
  }
}

const tarNames = (file: string) => execFileSync('tar', ['-tf', file]).toString().split('\n').filter(Boolean);

describe('berth image commands against berthd', () => {
  let d: TestDaemon;
  let tmp: string;

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    tmp = tmpDir('cli-images');
  });

  after(async () => {
    await d?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows history like docker', async () => {
    await sameAsDocker(d, [['history', '-H=false', 'busybox'], ['history', '-q', '--no-trunc', 'busybox'], ['history', '--format', '{{.ID}} {{.CreatedBy}} {{.Size}} {{.Comment}}', 'busybox'], ['image', 'history', 'nosuch']]);
    const h = await berth(d, 'history', 'busybox');
    ok(h);
    assert.match(h.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s+.+ ago\s+.*\d(\.\d+)?[kM]B\s+Imported from -\n$/);
  });

  it('commits a container with author, message and changes, and the new image has its files', async () => {
    ok(await berth(d, 'run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo committed > /hello'));
    const c = await berth(d, 'commit', '-a', 'Ann <ann@example.com>', '-m', 'add hello', '-c', 'ENV GREETING=hi', '-c', 'LABEL team=blue', '-c', 'CMD ["cat", "/hello"]', 'c1', 'hello:v1');
    ok(c);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const r = await berth(d, 'run', '--rm', 'hello:v1');
    assert.deepEqual([r.code, r.stdout], [0, 'committed\n']);
    const i = await berth(d, 'image', 'inspect', '-f', '{{.Id}}|{{.Author}}|{{.Comment}}|{{json .Config.Env}}|{{json .Config.Labels}}', 'hello:v1');
    ok(i);
    const [id, author, comment, env, labels] = i.stdout.trim().split('|');
    assert.equal(id, c.stdout.trim());
    assert.equal(author, 'Ann <ann@example.com>');
    assert.equal(comment, 'add hello');
    assert.ok(JSON.parse(env).includes('GREETING=hi'), env);
    assert.deepEqual(JSON.parse(labels), { team: 'blue' });
    const h = await berth(d, 'history', '--format', '{{.Comment}}', 'hello:v1');
    assert.equal(h.stdout, 'add hello\nImported from -\n');
    // Without a name: a dangling image, as docker prints it.
    const bare = await berth(d, 'commit', '-p=false', 'c1');
    ok(bare);
    assert.match(bare.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const bad = await berth(d, 'commit', 'c1', 'Bad:Name');
    assert.deepEqual([bad.code, bad.stderr], [1, 'invalid reference format: repository name (library/Bad) must be lowercase\n']);
    const none = await berth(d, 'commit', 'nosuch');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error response from daemon: .*nosuch/);
  });

  it('exports a container filesystem to a file or stdout', async () => {
    const file = path.join(tmp, 'c1.tar');
    ok(await berth(d, 'export', '-o', file, 'c1'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const names = tarNames(file);
    assert.ok(names.some((n) => n.replace(/^\.?\/?/, '') === 'hello'), names.slice(0, 20).join(' '));
    assert.ok(names.some((n) => /(^|\/)bin\/busybox$/.test(n)));
    const out = await run('sh', ['-c', `${BERTH} export c1 > ${tmp}/c1-stdout.tar`], d.env);
    ok(out);
    assert.deepEqual(tarNames(`${tmp}/c1-stdout.tar`).sort(), names.sort());
    const missing = await berth(d, 'export', '-o', path.join(tmp, 'nope.tar'), 'nosuch');
    assert.equal(missing.code, 1);
    assert.ok(!fs.existsSync(path.join(tmp, 'nope.tar')), 'no file is left behind on failure');
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.tmp-')), []);
  });

  it('saves and loads images (-o and stdout, -i and stdin)', async () => {
    const file = path.join(tmp, 'saved.tar');
    ok(await berth(d, 'save', '-o', file, 'hello:v1', 'busybox'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const names = tarNames(file);
    assert.ok(names.includes('manifest.json'), names.join(' '));
    const viaStdout = await run('sh', ['-c', `${BERTH} save hello:v1 busybox > ${tmp}/saved2.tar`], d.env);
    ok(viaStdout);
    assert.deepEqual(tarNames(`${tmp}/saved2.tar`).sort(), names.sort());

    ok(await berth(d, 'rmi', 'hello:v1'));
    const l = await berth(d, 'load', '-i', file);
    ok(l);
    assert.match(l.stdout, /Loaded image: hello:v1\n/);
    assert.match(l.stdout, /Loaded image: busybox:latest\n/);
    assert.equal((await berth(d, 'run', '--rm', 'hello:v1')).stdout, 'committed\n');

    ok(await berth(d, 'rmi', 'hello:v1'));
    const l2 = await run(BERTH, ['load'], d.env, fs.readFileSync(file));
    ok(l2);
    assert.match(l2.stdout, /Loaded image: hello:v1\n/);
    // docker's output for the same archive.
    const k = await run('docker', ['load', '-i', file], d.env);
    assert.equal((await berth(d, 'load', '-i', file)).stdout, k.stdout);

    const none = await berth(d, 'load', '-i', path.join(tmp, 'missing.tar'));
    assert.deepEqual([none.code, none.stderr], [1, `open ${path.join(tmp, 'missing.tar')}: no such file or directory\n`]);
    const missing = await berth(d, 'save', '-o', path.join(tmp, 'x.tar'), 'nosuch:1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: /);
    assert.ok(!fs.existsSync(path.join(tmp, 'x.tar')));
  });

  it('imports with --change and --message', async () => {
    const r = await berth(d, 'import', '-c', 'ENV A=b', '-c', 'WORKDIR /tmp', '--change', 'LABEL imported=yes', '-m', 'from a tar', await busyboxTarFile(), 'imp:1');
    ok(r);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const i = await berth(d, 'image', 'inspect', '-f', '{{json .Config.Env}} {{.Config.WorkingDir}} {{.Comment}} {{json .Config.Labels}}', 'imp:1');
    assert.equal(i.stdout, '["A=b"] /tmp from a tar {"imported":"yes"}\n');
  });

  it('filters images and formats them like docker', async () => {
    const cases: string[][] = [
      ['images', '--format', '{{.Repository}}:{{.Tag}}'],
      ['images', '-f', 'dangling=true', '-q'],
      ['images', '-f', 'dangling=false', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'],
      ['images', '-f', 'reference=hel*', '--format', '{{.Repository}}:{{.Tag}}'],
      ['images', '-f', 'label=team=blue', '--format', '{{.Repository}}'],
      ['images', '-f', 'label=imported', '--format', '{{.Repository}}'],
      ['images', '-f', 'before=imp:1', '--format', '{{.Repository}}:{{.Tag}}'],
      ['images', '-f', 'since=busybox', '--format', '{{.Repository}}:{{.Tag}}'],
      ['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}'],
      ['images', '--format', '{{json .}}', 'busybox'],
      ['images', '--digests', '--format', '{{.Repository}} {{.Digest}}'],
      ['images', '-f', 'nosuchfilter=1'],
    ];
    await sameAsDocker(d, cases);
    const hello = await berth(d, 'images', '-f', 'label=team=blue', '--format', '{{.Repository}}:{{.Tag}}');
    assert.equal(hello.stdout, 'hello:v1\n');
  });

  it('formats containers like docker', async () => {
    ok(await berth(d, 'run', '-d', '--name', 'long', '-l', 'app=web', '-l', 'tier=front', 'busybox', 'sleep', '300'));
    const cases: string[][] = [
      ['ps', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.State}} {{.Labels}} {{.Label "app"}}'],
      ['ps', '-a', '--format', 'table {{.Names}}\\t{{.Image}}\\t{{.State}}\\t{{.Label "tier"}}'],
      ['ps', '--format', '{{json .Names}} {{.Labels | json}}'],
      ['ps', '-q', '--format', '{{.Names}}'],
      ['ps', '--format', '{{.Nope}}'],
      ['ps', '-a', '-s'],
      ['ps', '-a', '--size', '--format', '{{.Names}} {{.Size}}'],
    ];
    await sameAsDocker(d, cases);
    ok(await berth(d, 'rm', '-f', 'long'));
  });

  it('shows disk usage like docker (system df)', async () => {
    ok(await berth(d, 'run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'head -c 300000 /dev/zero > /blob; sleep 300'));
    const cases: string[][] = [
      ['system', 'df'],
      ['system', 'df', '-v'],
      ['system', 'df', '--format', 'json'],
      ['system', 'df', '-v', '--format', 'json'],
      ['system', 'df', '--format', '{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}'],
    ];
    try {
      // The file is written once the shell runs: wait for it in the upper dir's size.
      for (let i = 0; !/busy 300kB/.test((await berth(d, 'ps', '-s', '--format', '{{.Names}} {{.Size}}')).stdout); i++) {
        assert.ok(i < 100, 'the container never wrote its file');
        await new Promise((r) => setTimeout(r, 50));
      }
      await sameAsDocker(d, cases);
      const rows = (await berth(d, 'system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}')).stdout.trim().split('\n').map((l) => l.split('|'));
      const images = new Set((await docker(d, 'images', '-a', '--format', '{{.ID}}')).stdout.trim().split('\n')).size;
      assert.equal(rows[0][0], 'Images');
      assert.equal(Number(rows[0][1]), images);
      assert.equal(rows[1][0], 'Containers');
      assert.equal(rows[1][2], '1', 'one running container');
      assert.match(rows[1][3], /^3\d\d(\.\d+)?kB$/, 'its 300 kB file, and whatever else the others wrote');
      assert.deepEqual(rows.slice(2), [['Local Volumes', '0', '0', '0B'], ['Build Cache', '0', '0', '0B']]);
    } finally {
      ok(await berth(d, 'rm', '-f', 'busy'));
    }
  });

  it('prunes dangling images', async () => {
    const dangling = (await berth(d, 'images', '-q', '--no-trunc', '-f', 'dangling=true')).stdout.trim().split('\n').filter(Boolean);
    assert.ok(dangling.length >= 1, 'the bare commit left a dangling image');
    const r = await berth(d, 'image', 'prune', '-f');
    ok(r);
    assert.match(r.stdout, /^Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
    for (const id of dangling) assert.ok(r.stdout.includes(`deleted: ${id}`), id);
    const again = await berth(d, 'image', 'prune', '-f');
    assert.deepEqual([again.code, again.stdout], [0, 'Total reclaimed space: 0B\n']);
    // Without -f it asks, and "no" keeps everything.
    const asked = await run(BERTH, ['image', 'prune', '-a'], d.env, 'n\n');
    assert.deepEqual([asked.code, asked.stdout], [0, 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ']);
    assert.ok((await berth(d, 'images', '-q')).stdout.trim().length > 0);
  });
});

describe('berth pull, push, login and logout against docker-registry', { skip: haveRegistry && haveHtpasswd ? false : 'docker-registry or htpasswd not installed' }, () => {
  let d: TestDaemon;
  let open: RegistryProcess;
  let locked: RegistryProcess;
  let authDir: string;
  const configFile = () => path.join(d.env.DOCKER_CONFIG!, 'config.json');

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    authDir = tmpDir('cli-auth');
    open = await startRegistry();
    locked = await startRegistry({ htpasswd: htpasswdFile(authDir, 'user', 'pass') });
  });

  after(async () => {
    await d?.stop();
    await open?.stop();
    await locked?.stop();
    if (authDir) fs.rmSync(authDir, { recursive: true, force: true });
  });

  it('pushes and pulls without credentials', async () => {
    const ref = `${open.host}/team/bb:v1`;
    ok(await berth(d, 'tag', 'busybox', ref));
    const p = await berth(d, 'push', ref);
    ok(p, 'push');
    assert.match(p.stdout, new RegExp(`^The push refers to repository \\[${open.host}/team/bb\\]\n`));
    assert.match(p.stdout, /\n[0-9a-f]{12}: Pushed\n/);
    assert.match(p.stdout, /\nv1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1];

    // Pushing again: the layer is there.
    const again = await berth(d, 'push', ref);
    assert.match(again.stdout, /: Layer already exists\n/);
    const q = await berth(d, 'push', '-q', ref);
    assert.deepEqual([q.code, q.stdout], [0, `${ref}\n`]);

    ok(await berth(d, 'rmi', ref));
    const pull = await berth(d, 'pull', ref);
    ok(pull, 'pull');
    assert.match(pull.stdout, /^v1: Pulling from team\/bb\n/);
    assert.match(pull.stdout, new RegExp(`\nDigest: ${digest}\n`));
    assert.ok(pull.stdout.endsWith(`\n${ref}\n`), pull.stdout);
    assert.ok(!/Downloading|Extracting/.test(pull.stdout), 'no progress updates off a terminal');
    assert.equal((await berth(d, 'run', '--rm', ref, 'echo', 'pulled')).stdout, 'pulled\n');

    // Default tag, -q, by digest, -a.
    ok(await berth(d, 'tag', 'busybox', `${open.host}/team/bb:latest`));
    ok(await berth(d, 'push', `${open.host}/team/bb`));
    const def = await berth(d, 'pull', `${open.host}/team/bb`);
    ok(def);
    assert.match(def.stdout, /^Using default tag: latest\nlatest: Pulling from team\/bb\n/);
    assert.deepEqual((await berth(d, 'pull', '-q', ref)).stdout, `${ref}\n`);
    const byDigest = await berth(d, 'pull', `${open.host}/team/bb@${digest}`);
    ok(byDigest);
    assert.ok(byDigest.stdout.endsWith(`${open.host}/team/bb@${digest}\n`));
    const all = await berth(d, 'pull', '-a', `${open.host}/team/bb`);
    ok(all);
    assert.ok(all.stdout.endsWith(`\n${open.host}/team/bb\n`), all.stdout);

    // Errors from the stream, and before it, like docker.
    for (const args of [['pull', `${open.host}/team/bb:nope`], ['pull', `${open.host}/nothing/here:1`], ['push', `${open.host}/never/tagged:1`], ['pull', '-a', `${open.host}/team/bb:v1`]]) {
      const b = await berth(d, ...args);
      const k = await docker(d, ...args);
      assert.equal(b.code, 1, args.join(' '));
      assert.deepEqual([b.stdout, b.stderr, b.code], [k.stdout, k.stderr, k.code], args.join(' '));
    }
  });

  it('logs in with basic auth, stores docker-compatible credentials, and uses them', async () => {
    const ref = `${locked.host}/private/bb:v1`;
    ok(await berth(d, 'tag', 'busybox', ref));
    const denied = await berth(d, 'push', ref);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized|authentication required/);

    const bad = await run(BERTH, ['login', '-u', 'user', '--password-stdin', locked.host], d.env, 'wrong\n');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: /);
    assert.ok(!fs.existsSync(configFile()) || !fs.readFileSync(configFile(), 'utf8').includes(locked.host));

    const login = await run(BERTH, ['login', '-u', 'user', '--password-stdin', locked.host], d.env, 'pass\n');
    ok(login, 'login');
    assert.equal(login.stdout, 'Login Succeeded\n');
    assert.match(login.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
    const cfg = JSON.parse(fs.readFileSync(configFile(), 'utf8'));
    assert.deepEqual(cfg.auths[locked.host], { auth: Buffer.from('user:pass').toString('base64') });
    assert.equal(fs.statSync(configFile()).mode & 0o777, 0o600);

    const push = await berth(d, 'push', ref);
    ok(push, 'push with stored credentials');
    ok(await berth(d, 'rmi', ref));
    ok(await berth(d, 'pull', ref), 'pull with stored credentials');

    // The docker CLI uses what berth stored.
    ok(await berth(d, 'rmi', ref));
    const dockerPull = await docker(d, 'pull', ref);
    ok(dockerPull, 'docker pull with berth credentials');
    assert.ok(dockerPull.stdout.endsWith(`${ref}\n`));

    // Logging in again with the stored credentials.
    const stored = await berth(d, 'login', locked.host);
    ok(stored);
    assert.equal(stored.stdout, 'Login Succeeded\n');
    assert.match(stored.stderr, /^Authenticating with existing credentials\.\.\. \[Username: user\]\n/);

    const out = await berth(d, 'logout', locked.host);
    assert.deepEqual([out.code, out.stdout], [0, `Removing login credentials for ${locked.host}\n`]);
    assert.equal(JSON.parse(fs.readFileSync(configFile(), 'utf8')).auths[locked.host], undefined);
    ok(await berth(d, 'rmi', ref));
    const denied2 = await berth(d, 'pull', ref);
    assert.equal(denied2.code, 1);

    // And berth uses what the docker CLI stored.
    ok(await run('docker', ['login', '-u', 'user', '--password-stdin', locked.host], d.env, 'pass'));
    const pull = await berth(d, 'pull', ref);
    ok(pull, 'berth pull with docker credentials');
    ok(await docker(d, 'logout', locked.host));
  });
});
