// --restart as docker/cli's opts.ParseRestartPolicy reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNoRestart, parseRestartPolicy } from '../../../../src/cli/opts/restart';

test('a name with an optional count; the name is the daemon\'s to judge', () => {
  assert.deepEqual(parseRestartPolicy(''), { Name: '', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('no'), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy('on-failure:'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('always:-1'), { Name: 'always', MaximumRetryCount: -1 });
  assert.deepEqual(parseRestartPolicy('bogus'), { Name: 'bogus', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy(':3'), /^Error: invalid restart policy format: no policy provided before colon$/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /^Error: invalid restart policy format: maximum retry count must be an integer$/);
  assert.throws(() => parseRestartPolicy('on-failure:1:2'), /maximum retry count must be an integer/);
  assert.equal(isNoRestart(parseRestartPolicy('')), true);
  assert.equal(isNoRestart(parseRestartPolicy('no')), true);
  assert.equal(isNoRestart(parseRestartPolicy('always')), false);
});
