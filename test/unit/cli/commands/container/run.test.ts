// berth run and create against the fake daemon: flags berth refuses before
// any request, and the client-side flags docker handles itself (--pull,
// --cidfile, -q, -a, -d).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { berth as runBerth } from '../../berth';
import { FakeDaemon } from '../../fake-daemon';

describe('berth run and create', () => {
  let d: FakeDaemon;
  let tmp: string;
  const berth = (args: string[]) => runBerth(d.host, args, { env: { DOCKER_CONFIG: path.join(tmp, 'config') } });
  const creates = () => d.requests.filter((r) => r.url.includes('/containers/create'));
  const pulls = () => d.requests.filter((r) => r.url.includes('/images/create')).map((r) => r.url.replace(/^\/v[\d.]+/, ''));

  before(async () => {
    d = new FakeDaemon();
    await d.listen();
    d.addImage(['busybox:latest']);
    d.registry.set('pullme:latest', { size: 100 });
    d.registry.set('busybox:latest', { size: 100 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-run-'));
  });
  after(async () => {
    await d.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    d.requests.length = 0;
  });

  it('refuses a flag berthd does not apply before creating anything', async () => {
    const r = await berth(['run', '--kernel-memory', '512m', 'busybox', 'true']);
    assert.deepEqual(r, {
      code: 125,
      out: '',
      err: "`--kernel-memory` is not supported by berth yet\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n",
    });
    assert.deepEqual(d.requests, []);
    for (const args of [
      ['run', '--cpu-rt-period=1000', 'busybox'], ['create', '--kernel-memory', '1m', 'busybox'], ['run', '--storage-opt', 'size=1g', 'busybox'], ['run', '--gpus', 'all', 'busybox'],
      ['create', '--platform', 'linux/amd64', 'busybox'],
      ['run', '--isolation', 'hyperv', 'busybox'],
    ]) {
      const flag = args[1].replace(/=.*/, '');
      const res = await berth(args);
      assert.equal(res.code, 125, args.join(' '));
      assert.ok(res.err.startsWith(`\`${flag}\` is not supported by berth yet\n`), res.err);
    }
    assert.deepEqual(d.requests, []);
  });

  it('takes such flags at values that ask for nothing', async () => {
    const r = await berth(['run', '--rm', '--privileged=false', '--memory', '0', '--restart', 'no', '-t=false', '--memory-swappiness=-1', 'busybox', 'echo', 'hi']);
    assert.deepEqual(r, { code: 0, out: 'hi\n', err: '' });
  });

  it('lists every flag in help, marking those berth does not apply', async () => {
    const r = await berth(['run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^ {2}-m, --memory bytes +Memory limit$/m);
    assert.match(r.out, /^ {2}-p, --publish list +Publish a container's port\(s\) to the host$/m);
    assert.match(r.out, /^ {6}--read-only +Mount the container's root filesystem as read only$/m);
    assert.match(r.out, /^ {6}--kernel-memory bytes +Kernel memory limit \(not supported yet\)$/m);
    assert.match(r.out, /^ {6}--memory-swappiness int +Tune container memory swappiness \(0 to 100\) \(default -1\)$/m);
    assert.doesNotMatch(r.out, /--net |--dns-opt |--net-alias /);
  });

  it('attaches only the streams -a names', async () => {
    const r = await berth(['run', '--rm', '-a', 'stdout', 'busybox', 'echo', 'x']);
    assert.equal(r.code, 0);
    assert.match(d.requests.find((q) => q.url.includes('/attach'))!.url, /attach\?stream=1&stdout=1$/);
    const both = await berth(['run', '-d', '-a', 'stdout', 'busybox', 'echo', 'x']);
    assert.deepEqual(both, { code: 1, out: '', err: 'conflicting options: cannot specify both --attach and --detach\n' });
  });

  it('writes --cidfile, and refuses one that exists', async () => {
    const file = path.join(tmp, 'id');
    const r = await berth(['create', '--cidfile', file, 'busybox', 'echo']);
    assert.equal(r.code, 0);
    assert.equal(fs.readFileSync(file, 'utf8'), r.out.trim());
    assert.equal(JSON.parse(creates()[0].body).HostConfig.ContainerIDFile, file);
    d.requests.length = 0;
    const again = await berth(['run', '--cidfile', file, 'busybox', 'echo']);
    assert.equal(again.code, 125);
    assert.equal(again.err, `berth: container ID file found, make sure the other container isn't running or delete ${file}\n\nRun 'berth run --help' for more information\n`);
    assert.deepEqual(creates(), []);
    const failed = path.join(tmp, 'failed');
    assert.equal((await berth(['create', '--pull', 'never', '--cidfile', failed, 'nosuchimage'])).code, 1);
    assert.equal(fs.existsSync(failed), false);
  });

  it('pulls a missing image first, as docker does by default', async () => {
    const r = await berth(['run', '--rm', 'pullme', 'echo', 'pulled']);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'pulled\n');
    assert.equal(r.err, "Unable to find image 'pullme:latest' locally\nPulling from pullme\nStatus: Downloaded newer image for pullme:latest\n");
    assert.deepEqual(pulls(), ['/images/create?fromImage=docker.io%2Flibrary%2Fpullme&tag=latest']);
    assert.equal(creates().length, 2);

    const missing = await berth(['run', 'nosuchimage']);
    assert.equal(missing.code, 125);
    assert.equal(missing.err, "Unable to find image 'nosuchimage:latest' locally\nberth: Error response from daemon: pull access denied for nosuchimage, repository does not exist or may require 'docker login'\n\nRun 'berth run --help' for more information\n");
  });

  it('pulls quietly with -q, always with --pull always, never with --pull never', async () => {
    d.images = d.images.filter((i) => !i.RepoTags?.includes('pullme:latest'));
    const quiet = await berth(['create', '-q', 'pullme']);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.err, '');
    d.requests.length = 0;
    const always = await berth(['create', '--pull', 'always', '-q', 'busybox']);
    assert.equal(always.code, 0);
    assert.deepEqual(pulls(), ['/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest']);
    d.requests.length = 0;
    await berth(['create', '--pull', 'never', 'busybox']);
    assert.deepEqual(pulls(), []);
    const bad = await berth(['run', '--pull', 'sometimes', 'busybox']);
    assert.equal(bad.code, 125);
    assert.equal(bad.err, `berth: invalid pull option: 'sometimes': must be one of "always", "missing" or "never"\n\nRun 'berth run --help' for more information\n`);
  });
});
