// commit's pure helpers (engine/containers/commit.ts): Docker's merge of
// the request's run config with the container's, and the child image config.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { childImageConfig, mergeCommitConfig } from '../../../../src/engine/containers/commit';
import type { DockerConfig as ContainerConfig } from '../../../../src/server/containers/meta';
import type { ImageConfig } from '../../../../src/engine/images/types';

const sha = (s: string | Buffer) => 'sha256:' + createHash('sha256').update(s).digest('hex');

describe('commit config', () => {
  const container = {
    Hostname: 'abc', Domainname: '', User: 'nobody', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
    OpenStdin: false, StdinOnce: false, Env: ['PATH=/bin', 'A=1'], Cmd: ['sh', '-c', 'echo hi'], Image: 'busybox', WorkingDir: '/w',
    Entrypoint: null, Labels: { l: '1' }, ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGINT',
  } as ContainerConfig;

  test('an empty request keeps the container config (Docker merge)', () => {
    assert.deepEqual(mergeCommitConfig({}, container), {
      User: 'nobody', ExposedPorts: { '80/tcp': {} }, Env: ['PATH=/bin', 'A=1'], Labels: { l: '1' }, Cmd: ['sh', '-c', 'echo hi'],
      WorkingDir: '/w', StopSignal: 'SIGINT', Entrypoint: null,
    });
  });

  test('request values win; env, labels and ports merge by key', () => {
    const m = mergeCommitConfig({ Env: ['A=2', 'B=3'], Labels: { k: 'v' }, ExposedPorts: { '443/tcp': {} }, Cmd: ['echo', 'x'], User: 'root' }, container);
    assert.deepEqual(m.Env, ['A=2', 'B=3', 'PATH=/bin']);
    assert.deepEqual(m.Labels, { l: '1', k: 'v' });
    assert.deepEqual(m.ExposedPorts, { '80/tcp': {}, '443/tcp': {} });
    assert.deepEqual(m.Cmd, ['echo', 'x']);
    assert.equal(m.User, 'root');
  });

  test('an entrypoint in the request drops the container command', () => {
    const m = mergeCommitConfig({ Entrypoint: ['/bin/app'] }, container);
    assert.deepEqual(m.Entrypoint, ['/bin/app']);
    assert.equal(m.Cmd, undefined);
  });

  test('childImageConfig appends a layer and a history entry', () => {
    const parent: ImageConfig = {
      architecture: 'arm64', os: 'linux', variant: 'v8', created: 'old', author: 'someone', comment: 'old comment',
      config: { Cmd: ['old'] }, rootfs: { type: 'layers', diff_ids: [sha('base')] }, history: [{ created: 'old', created_by: 'ADD' }],
    };
    const c = childImageConfig(parent, { config: { Cmd: ['new'] }, containerConfig: container, containerID: 'cid', created: 'now', createdBy: 'sh -c echo hi', author: 'me', comment: 'msg', diffID: sha('diff') });
    assert.equal(c.architecture, 'arm64');
    assert.equal(c.variant, 'v8');
    assert.equal(c.created, 'now');
    assert.equal(c.author, 'me');
    assert.equal(c.comment, 'msg');
    assert.deepEqual(c.config, { Cmd: ['new'] });
    assert.equal(c.container_config, container);
    assert.deepEqual(c.rootfs.diff_ids, [sha('base'), sha('diff')]);
    assert.deepEqual(c.history, [{ created: 'old', created_by: 'ADD' }, { created: 'now', created_by: 'sh -c echo hi', author: 'me', comment: 'msg' }]);
    // The parent's own author and comment are not inherited.
    const plain = childImageConfig(parent, { config: {}, containerConfig: container, containerID: 'cid', created: 'now', createdBy: 'x' });
    assert.equal(plain.author, undefined);
    assert.equal(plain.comment, undefined);
    assert.deepEqual(plain.rootfs.diff_ids, [sha('base')]);
    assert.deepEqual(plain.history![1], { created: 'now', created_by: 'x', empty_layer: true });
  });
});
