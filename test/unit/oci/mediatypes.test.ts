// Media types: what is a manifest, an index, a layer, and how it is compressed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANIFEST_ACCEPT, MEDIA_TYPES, baseMediaType, isIndexType, isManifestType, layerCompression } from '../../../src/oci/mediatypes';

test('media types', () => {
  assert.equal(baseMediaType('application/vnd.oci.image.index.v1+json; charset=utf-8'), MEDIA_TYPES.ociIndex);
  assert.ok(isManifestType(MEDIA_TYPES.dockerManifest) && isManifestType(MEDIA_TYPES.ociManifest));
  assert.ok(isIndexType(MEDIA_TYPES.dockerManifestList) && isIndexType(MEDIA_TYPES.ociIndex));
  assert.ok(!isManifestType(MEDIA_TYPES.ociIndex) && !isIndexType(MEDIA_TYPES.ociConfig));
  for (const t of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest]) {
    assert.ok(MANIFEST_ACCEPT.includes(t));
  }
  assert.deepEqual(layerCompression(MEDIA_TYPES.ociLayerTar), { compression: 'none', sniff: false });
  assert.deepEqual(layerCompression(MEDIA_TYPES.ociLayerGzip), { compression: 'gzip', sniff: false });
  assert.deepEqual(layerCompression(MEDIA_TYPES.ociLayerZstd), { compression: 'zstd', sniff: false });
  assert.deepEqual(layerCompression(MEDIA_TYPES.ociLayerNondistributableZstd), { compression: 'zstd', sniff: false });
  assert.deepEqual(layerCompression(MEDIA_TYPES.dockerLayerGzip), { compression: 'gzip', sniff: true });
  assert.deepEqual(layerCompression(MEDIA_TYPES.dockerForeignLayerGzip), { compression: 'gzip', sniff: true });
  assert.equal(layerCompression(MEDIA_TYPES.ociConfig), undefined);
  assert.equal(layerCompression('application/x-bogus'), undefined);
});
