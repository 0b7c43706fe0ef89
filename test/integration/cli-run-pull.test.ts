// berth run pulls an image it does not have, as docker run does ("Unable
// to find image" on stderr, the pull's progress, then the container), and
// honours --pull missing|always|never; against Debian's docker-registry on
// loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { berth, docker, importBusybox, startDaemon, type TestDaemon } from './harness';
import { haveRegistry, startRegistry, type RegistryProcess } from './registry/helpers';

// Outside CI a missing tool skips with its reason; in CI it must not.
const noRegistry = !haveRegistry && !process.env.CI && 'docker-registry is not installed (apt-get install docker-registry)';

// The pull's lines without the digest and ids, which differ per push.
const shape = (s: string) => s.replace(/[0-9a-f]{12,64}/g, 'ID');

describe('berth run pulls a missing image', { skip: noRegistry, timeout: 300_000 }, () => {
  let d: TestDaemon;
  let reg: RegistryProcess;
  let image: string;

  before(async () => {
    [reg, d] = await Promise.all([startRegistry(), startDaemon()]);
    await importBusybox(d, 'busybox');
    image = `${reg.host}/pulled/box:v1`;
    assert.equal((await docker(d, 'tag', 'busybox', image)).code, 0);
    const push = await docker(d, 'push', image);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(d, 'rmi', image)).code, 0);
  });
  after(async () => {
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  it('pulls with the default (--pull missing), then runs; stderr as docker', async () => {
    const b = await berth(d, 'run', '--rm', image, 'echo', 'ran');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, 'ran\n');
    assert.equal((await docker(d, 'rmi', image)).code, 0);
    const k = await docker(d, 'run', '--rm', image, 'echo', 'ran');
    assert.equal(k.code, 0, k.stderr);
    assert.ok(b.stderr.startsWith(`Unable to find image '${image}' locally\n`), b.stderr);
    assert.equal(shape(b.stderr), shape(k.stderr));
    // Present now: no pull, nothing on stderr.
    assert.deepEqual(await berth(d, 'run', '--rm', image, 'echo', 'again'), { code: 0, stdout: 'again\n', stderr: '' });
  });

  it('--pull never fails on a missing image; --pull always pulls a present one; -q hides the pull', async () => {
    assert.equal((await docker(d, 'rmi', image)).code, 0);
    const never = await berth(d, 'run', '--rm', '--pull', 'never', image, 'true');
    const neverK = await docker(d, 'run', '--rm', '--pull', 'never', image, 'true');
    assert.equal(never.code, 125);
    assert.equal(never.code, neverK.code);
    assert.equal(never.stderr.replace(/berth/g, 'docker'), neverK.stderr);

    const quiet = await berth(d, 'run', '--rm', '-q', image, 'echo', 'q');
    assert.deepEqual(quiet, { code: 0, stdout: 'q\n', stderr: '' });
    const always = await berth(d, 'run', '--rm', '--pull', 'always', image, 'echo', 'a');
    const alwaysK = await docker(d, 'run', '--rm', '--pull', 'always', image, 'echo', 'a');
    assert.equal(always.code, 0, always.stderr);
    assert.equal(always.stdout, 'a\n');
    assert.match(always.stderr, /Pulling from pulled\/box/);
    assert.equal(shape(always.stderr), shape(alwaysK.stderr));

    const bad = await berth(d, 'run', '--pull', 'sometimes', image, 'true');
    const badK = await docker(d, 'run', '--pull', 'sometimes', image, 'true');
    assert.equal(bad.code, badK.code);
    assert.equal(bad.stderr.replace(/berth/g, 'docker'), badK.stderr);
  });
});
