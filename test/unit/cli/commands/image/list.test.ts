import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImages, imageRows } from '../../../../../src/cli/commands/image/list';

describe('images table', () => {
  const now = 1_700_000_000_000;
  // Fields the table does not show.
  const unused = { ParentId: '', SharedSize: -1, Labels: {}, Containers: -1 };
  it('shows one row per tag and <none> for dangling images', () => {
    const rows = imageRows([
      { ...unused, Id: 'sha256:' + '1'.repeat(64), RepoTags: ['busybox:latest', 'busybox:1.36', 'docker.io/library/alpine:3'], RepoDigests: [], Created: now / 1000 - 3600, Size: 4260000 },
      { ...unused, Id: 'sha256:' + '2'.repeat(64), RepoTags: [], RepoDigests: [], Created: now / 1000 - 86400 * 3, Size: 0 },
    ]);
    assert.equal(
      formatImages(rows, { trunc: true, now }),
      [
        'REPOSITORY   TAG       IMAGE ID       CREATED             SIZE',
        'busybox      latest    111111111111   About an hour ago   4.26MB',
        'busybox      1.36      111111111111   About an hour ago   4.26MB',
        'alpine       3         111111111111   About an hour ago   4.26MB',
        '<none>       <none>    222222222222   3 days ago          0B',
        '',
      ].join('\n'),
    );
  });
});
