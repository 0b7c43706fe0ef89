// docker history's rows (engine/images/history.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { imageHistory } from '../../../../src/engine/images/history';
import type { ImageConfig } from '../../../../src/engine/images/types';

const sha = (s: string | Buffer) => 'sha256:' + createHash('sha256').update(s).digest('hex');

describe('imageHistory', () => {
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-03T00:00:00Z',
    rootfs: { type: 'layers', diff_ids: [sha('a'), sha('b')] },
    history: [
      { created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs', comment: 'base' },
      { created: '2024-01-02T00:00:00Z', created_by: 'ENV X=1', empty_layer: true },
      { created: '2024-01-03T00:00:00Z', created_by: 'RUN make' },
    ],
  };
  test('newest first; sizes from non-empty layers; id and tags only on top', () => {
    const h = imageHistory('sha256:top', config, [100, 200], ['img:1']);
    assert.deepEqual(h, [
      { Id: 'sha256:top', Created: 1704240000, CreatedBy: 'RUN make', Tags: ['img:1'], Size: 200, Comment: '' },
      { Id: '<missing>', Created: 1704153600, CreatedBy: 'ENV X=1', Tags: null, Size: 0, Comment: '' },
      { Id: '<missing>', Created: 1704067200, CreatedBy: 'ADD rootfs', Tags: null, Size: 100, Comment: 'base' },
    ]);
    assert.equal(imageHistory('sha256:top', config, [100, 200], [])[0].Tags, null);
  });
  test('a config without history shows one entry per layer', () => {
    const h = imageHistory('sha256:x', { ...config, history: undefined }, [5, 6], []);
    assert.deepEqual(h.map((e) => [e.Id, e.Size]), [['sha256:x', 6], ['<missing>', 5]]);
  });
  test('an older entry takes the id and tags of the local image it was built from', () => {
    const h = imageHistory('sha256:top', config, [100, 200], [], (k) => (k === 1 ? { id: 'sha256:base', tags: ['base:1'] } : k === 2 ? { id: 'sha256:step', tags: [] } : undefined));
    assert.deepEqual(h.map((e) => [e.Id, e.Tags]), [['sha256:top', null], ['sha256:step', null], ['sha256:base', ['base:1']]]);
  });
});
