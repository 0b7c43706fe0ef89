import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initCommit, parseInitVersion } from '../../../../src/server/routes/system';

test('parseInitVersion reads tini\'s version and git commit as dockerd does', () => {
  assert.deepEqual(parseInitVersion('tini version 0.18.0 - git.fec3683'), { version: '0.18.0', commit: 'fec3683' });
  // Debian's build prints no commit.
  assert.deepEqual(parseInitVersion('tini version 0.19.0'), { version: '0.19.0', commit: '' });
  assert.equal(parseInitVersion('catatonit 0.1.7'), undefined);
});

test('InitCommit: the commit, N/A when the binary could not run, Expected only before API 1.49', () => {
  assert.deepEqual(initCommit({ binary: 'docker-init', version: 'tini version 0.18.0 - git.fec3683' }, '1.51'), { ID: 'fec3683' });
  assert.deepEqual(initCommit({ binary: 'docker-init', version: 'tini version 0.18.0 - git.fec3683' }, '1.41'), { ID: 'fec3683', Expected: 'fec3683' });
  assert.deepEqual(initCommit({ binary: 'docker-init' }, '1.51'), { ID: 'N/A' });
  assert.deepEqual(initCommit({ binary: 'docker-init', version: 'tini version 0.19.0' }, '1.51'), { ID: '' });
});
