import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { isIndex } from '../../../../src/oci/descriptor';
import { MEDIA_TYPES } from '../../../../src/oci/mediatypes';
import { RegistryError, computeDigest, parseManifest, validateDescriptor } from '../../../../src/engine/registry';

const D1 = 'sha256:' + 'a'.repeat(64);
const D2 = 'sha256:' + 'b'.repeat(64);

const isInvalid = (re: RegExp, code?: string) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  if (code) assert.equal((err as RegistryError).code, code);
  return true;
};

const ociManifest = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: 10 },
  layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: D2, size: 20, annotations: { a: 'b' } }],
  ...over,
});
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

test('parses an OCI image manifest', () => {
  const m = parseManifest(buf(ociManifest()), MEDIA_TYPES.ociManifest);
  assert.equal(isIndex(m), false);
  assert.ok(!isIndex(m));
  assert.equal(m.config.digest, D1);
  assert.equal(m.layers[0].size, 20);
});

test('parses a Docker schema 2 manifest and a manifest list', () => {
  const m = parseManifest(
    buf({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: { mediaType: MEDIA_TYPES.dockerConfig, digest: D1, size: 1 }, layers: [] }),
    MEDIA_TYPES.dockerManifest,
  );
  assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest);
  const l = parseManifest(
    buf({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, digest: D1, size: 5, platform: { architecture: 'amd64', os: 'linux' } }],
    }),
    MEDIA_TYPES.dockerManifestList,
  );
  assert.ok(isIndex(l));
  assert.equal(l.manifests[0].platform?.os, 'linux');
});

test('an OCI document may omit mediaType; the fetched type fills it in', () => {
  const doc = ociManifest();
  delete (doc as Record<string, unknown>).mediaType;
  const m = parseManifest(buf(doc), MEDIA_TYPES.ociManifest + '; charset=utf-8');
  assert.equal(m.mediaType, MEDIA_TYPES.ociManifest);
  const idx = parseManifest(buf({ schemaVersion: 2, manifests: [] }), MEDIA_TYPES.ociIndex);
  assert.ok(isIndex(idx));
});

test('a Docker schema 2 document must name its mediaType', () => {
  const doc = ociManifest({ config: { mediaType: MEDIA_TYPES.dockerConfig, digest: D1, size: 1 } });
  delete (doc as Record<string, unknown>).mediaType;
  assert.throws(() => parseManifest(buf(doc), MEDIA_TYPES.dockerManifest), isInvalid(/mediaType is required/));
});

test('mediaType in the document must match the content type', () => {
  assert.throws(() => parseManifest(buf(ociManifest()), MEDIA_TYPES.dockerManifest), isInvalid(/does not match the content type/, 'ERR_REGISTRY_MEDIA_TYPE_MISMATCH'));
  assert.throws(() => parseManifest(buf(ociManifest()), MEDIA_TYPES.ociIndex), isInvalid(/does not match/));
});

test('an index with layers, or a manifest with manifests, is refused', () => {
  assert.throws(() => parseManifest(buf({ schemaVersion: 2, manifests: [], layers: [] }), MEDIA_TYPES.ociIndex), isInvalid(/index but has config or layers/));
  const doc = ociManifest({ manifests: [] });
  assert.throws(() => parseManifest(buf(doc), MEDIA_TYPES.ociManifest), isInvalid(/has manifests/));
});

test('rejects bad JSON, wrong schemaVersion, schema 1 and unknown types', () => {
  assert.throws(() => parseManifest(Buffer.from('{nope'), MEDIA_TYPES.ociManifest), isInvalid(/not JSON/));
  assert.throws(() => parseManifest(Buffer.from('[]'), MEDIA_TYPES.ociManifest), isInvalid(/JSON object/));
  assert.throws(() => parseManifest(buf(ociManifest({ schemaVersion: 1 })), MEDIA_TYPES.ociManifest), isInvalid(/schemaVersion must be 2/));
  assert.throws(() => parseManifest(buf({ schemaVersion: 1 }), MEDIA_TYPES.dockerManifestV1Signed), isInvalid(/schema 1/, 'ERR_REGISTRY_UNSUPPORTED'));
  assert.throws(() => parseManifest(buf(ociManifest()), 'application/json'), isInvalid(/unsupported manifest media type/));
});

test('field types are checked', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ config: undefined }, /config must be an object/],
    [{ layers: {} }, /layers must be an array/],
    [{ layers: [null] }, /layers\[0\] must be an object/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: -1 } }, /config.size must be a non-negative integer/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: 1.5 } }, /config.size/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: '10' } }, /config.size/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: 2 ** 60 } }, /config.size/],
    [{ config: { mediaType: 'not a type', digest: D1, size: 1 } }, /config.mediaType is not a valid media type/],
    [{ config: { mediaType: 7, digest: D1, size: 1 } }, /config.mediaType/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:abc', size: 1 } }, /invalid config.digest/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:' + 'A'.repeat(64), size: 1 } }, /lower-case hex/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'md5:' + 'a'.repeat(32), size: 1 } }, /unsupported digest algorithm/],
    [{ config: { mediaType: MEDIA_TYPES.ociConfig, digest: '../../etc', size: 1 } }, /invalid config.digest/],
    [{ layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: D2, size: 1, urls: 'http://x' }] }, /urls must be an array of strings/],
    [{ layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: D2, size: 1, annotations: { a: 1 } }] }, /annotations must be a map of strings/],
    [{ annotations: [] }, /annotations must be a map/],
    [{ subject: { digest: D1 } }, /subject.mediaType/],
  ];
  for (const [over, re] of cases) {
    assert.throws(() => parseManifest(buf(ociManifest(over)), MEDIA_TYPES.ociManifest), isInvalid(re), re.source);
  }
});

test('sha512 digests are accepted', () => {
  const m = parseManifest(buf(ociManifest({ config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha512:' + 'c'.repeat(128), size: 3 } })), MEDIA_TYPES.ociManifest);
  assert.ok(!isIndex(m) && m.config.digest.startsWith('sha512:'));
});

test('index platforms are validated', () => {
  const idx = (platform: unknown) => buf({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: D1, size: 1, platform }] });
  assert.throws(() => parseManifest(idx({ os: 'linux' }), MEDIA_TYPES.ociIndex), isInvalid(/platform.architecture/));
  assert.throws(() => parseManifest(idx({ os: 'linux', architecture: 'arm', variant: 7 }), MEDIA_TYPES.ociIndex), isInvalid(/platform.variant must be a string/));
  assert.throws(() => parseManifest(idx({ os: 'windows', architecture: 'amd64', 'os.features': 'x' }), MEDIA_TYPES.ociIndex), isInvalid(/os.features/));
  parseManifest(idx({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1', 'os.features': ['win32k'] }), MEDIA_TYPES.ociIndex);
});

test('embedded data must match the descriptor', () => {
  const data = Buffer.from('{}');
  const ok = { mediaType: MEDIA_TYPES.ociEmpty, digest: computeDigest(data), size: 2, data: data.toString('base64') };
  validateDescriptor(ok);
  assert.throws(() => validateDescriptor({ ...ok, size: 3 }), isInvalid(/data does not match/));
  assert.throws(() => validateDescriptor({ ...ok, data: Buffer.from('[]').toString('base64') }), isInvalid(/data does not match/));
  assert.throws(() => validateDescriptor({ ...ok, data: '***' }), isInvalid(/base64/));
});
