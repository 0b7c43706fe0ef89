// The archive formats of save and load (engine/images/layout.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import {
  annotatedName,
  archivePath,
  buildSaveDocs,
  linkTarget,
  manifestFromOCI,
  parseDockerManifest,
  parseImageConfig,
  type SaveImage,
} from '../../../../src/engine/images/layout';
import { parseReference } from '../../../../src/oci/reference';

const sha = (s: string | Buffer) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const invalid = (re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  if (re) assert.match(err.message, re);
  return true;
};

describe('archivePath', () => {
  test('cleans harmless forms', () => {
    assert.equal(archivePath('./manifest.json'), 'manifest.json');
    assert.equal(archivePath('blobs//sha256/./abc'), 'blobs/sha256/abc');
    assert.equal(archivePath('dir/'), 'dir');
    assert.equal(archivePath('./'), '');
    assert.equal(archivePath('a..b/..c'), 'a..b/..c'); // dots inside names are fine
  });
  test('refuses ".." segments, absolute names and NUL', () => {
    assert.throws(() => archivePath('../x'), invalid(/"\.\." is not allowed/));
    assert.throws(() => archivePath('a/../../x'), invalid(/not allowed/));
    assert.throws(() => archivePath('a/..'), invalid(/not allowed/));
    assert.throws(() => archivePath('/etc/passwd'), invalid(/absolute/));
    assert.throws(() => archivePath('a\0b'), invalid());
  });
});

describe('linkTarget', () => {
  test('symlinks resolve against their directory, hardlinks against the root', () => {
    assert.equal(linkTarget('b/layer.tar', '../a/layer.tar', 'symlink'), 'a/layer.tar');
    assert.equal(linkTarget('b/layer.tar', 'x.tar', 'symlink'), 'b/x.tar');
    assert.equal(linkTarget('b/layer.tar', 'a/layer.tar', 'link'), 'a/layer.tar');
  });
  test('refuses targets outside the archive', () => {
    assert.throws(() => linkTarget('b/layer.tar', '../../etc/passwd', 'symlink'), invalid(/leaves the archive/));
    assert.throws(() => linkTarget('layer.tar', '/etc/passwd', 'symlink'), invalid(/absolute/));
    assert.throws(() => linkTarget('layer.tar', '../x', 'link'), invalid(/leaves the archive/));
    assert.throws(() => linkTarget('layer.tar', '', 'symlink'), invalid());
  });
});

describe('buildSaveDocs', () => {
  const l1 = { diffID: sha('layer1'), size: 2048 };
  const l2 = { diffID: sha('layer2'), size: 1024 };
  const a: SaveImage = { id: sha('config a'), configSize: 100, layers: [l1], refs: [parseReference('busybox:latest'), parseReference('busybox:1')] };
  const b: SaveImage = { id: sha('config b'), configSize: 200, layers: [l1, l2], refs: [] };

  test('manifest.json, repositories, index.json and OCI manifests', () => {
    const docs = buildSaveDocs([a, b]);
    const manifest = JSON.parse(docs.manifestJSON.toString());
    assert.deepEqual(manifest, [
      { Config: `blobs/sha256/${a.id.slice(7)}`, RepoTags: ['busybox:latest', 'busybox:1'], Layers: [`blobs/sha256/${l1.diffID.slice(7)}`] },
      { Config: `blobs/sha256/${b.id.slice(7)}`, RepoTags: null, Layers: [`blobs/sha256/${l1.diffID.slice(7)}`, `blobs/sha256/${l2.diffID.slice(7)}`] },
    ]);
    assert.deepEqual(JSON.parse(docs.repositories!.toString()), { busybox: { latest: l1.diffID.slice(7), '1': l1.diffID.slice(7) } });
    assert.deepEqual(JSON.parse(docs.ociLayout.toString()), { imageLayoutVersion: '1.0.0' });

    const index = JSON.parse(docs.index.toString());
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    // One descriptor per tag, one without annotations for the untagged image.
    assert.equal(index.manifests.length, 3);
    assert.deepEqual(index.manifests[0].annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
    assert.equal(index.manifests[1].annotations['org.opencontainers.image.ref.name'], '1');
    assert.equal(index.manifests[2].annotations, undefined);

    const [ma, mb] = docs.manifests;
    assert.equal(index.manifests[0].digest, ma.digest);
    assert.equal(ma.digest, sha(ma.data));
    assert.equal(index.manifests[2].digest, mb.digest);
    assert.equal(index.manifests[2].size, mb.data.length);
    const oci = JSON.parse(mb.data.toString());
    assert.equal(oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(oci.config, { mediaType: 'application/vnd.oci.image.config.v1+json', digest: b.id, size: 200 });
    assert.deepEqual(oci.layers, [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l1.diffID, size: 2048 },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l2.diffID, size: 1024 },
    ]);
  });

  test('no repositories file without tags', () => {
    assert.equal(buildSaveDocs([b]).repositories, null);
  });
});

describe('parseDockerManifest', () => {
  test('accepts Docker and legacy layouts, RepoTags null', () => {
    const m = parseDockerManifest(Buffer.from(JSON.stringify([{ Config: 'abc.json', RepoTags: null, Layers: ['./id/layer.tar'] }])));
    assert.deepEqual(m, [{ Config: 'abc.json', RepoTags: [], Layers: ['id/layer.tar'] }]);
  });
  test('refuses escaping or absolute paths and bad shapes', () => {
    const bad = (v: unknown, re: RegExp) => assert.throws(() => parseDockerManifest(Buffer.from(JSON.stringify(v))), invalid(re));
    bad([{ Config: '../../etc/passwd', Layers: [] }], /path in manifest\.json.*not allowed/);
    bad([{ Config: '/etc/passwd', Layers: [] }], /absolute/);
    bad([{ Config: 'c.json', Layers: ['a/../../b'] }], /not allowed/);
    bad([{ Config: 'c.json', Layers: ['.'] }], /invalid path/);
    bad({ Config: 'c.json' }, /expected an array/);
    bad([{ Layers: [] }], /no Config/);
    bad([{ Config: 'c.json', Layers: 'x' }], /Layers/);
    bad([{ Config: 'c.json', RepoTags: [1] }], /RepoTags/);
    assert.throws(() => parseDockerManifest(Buffer.from('{nope')), invalid(/invalid manifest\.json/));
  });
});

describe('parseImageConfig', () => {
  test('needs rootfs.diff_ids of sha256 digests', () => {
    const good = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha('x')] } };
    assert.deepEqual(parseImageConfig(Buffer.from(JSON.stringify(good)), 'c').rootfs.diff_ids, [sha('x')]);
    assert.throws(() => parseImageConfig(Buffer.from('[]'), 'c'), invalid(/expected an object/));
    assert.throws(() => parseImageConfig(Buffer.from('{}'), 'c'), invalid(/diff_ids/));
    assert.throws(() => parseImageConfig(Buffer.from(JSON.stringify({ rootfs: { diff_ids: ['sha256:short'] } })), 'c'), invalid(/diff_ids/));
    assert.throws(() => parseImageConfig(Buffer.from(JSON.stringify({ rootfs: { type: 'other', diff_ids: [] } })), 'c'), invalid(/rootfs type/));
  });
});

describe('OCI index', () => {
  test('annotatedName', () => {
    assert.equal(annotatedName({ 'io.containerd.image.name': 'docker.io/library/busybox:1' })?.tag, '1');
    assert.equal(annotatedName({ 'org.opencontainers.image.ref.name': 'latest' }), undefined);
    assert.equal(annotatedName({ 'org.opencontainers.image.ref.name': 'example.com/app:2' })?.path, 'app');
    assert.equal(annotatedName({ 'io.containerd.image.name': 'Not A Ref' }), undefined);
    assert.equal(annotatedName(undefined), undefined);
  });

  test('manifestFromOCI follows nested indexes to this platform and merges tags', async () => {
    const blobs = new Map<string, Buffer>();
    const put = (v: unknown) => {
      const b = Buffer.from(JSON.stringify(v));
      blobs.set(sha(b), b);
      return { digest: sha(b), size: b.length };
    };
    const cfg = sha('config');
    const amd = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha('l1') }] });
    const arm = put({ schemaVersion: 2, config: { digest: sha('other') }, layers: [] });
    const list = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
      { ...arm, mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: { os: 'linux', architecture: 'arm64' } },
      { ...amd, mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: { os: 'linux', architecture: 'amd64' } },
    ] });
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { ...list, mediaType: 'application/vnd.oci.image.index.v1+json', annotations: { 'io.containerd.image.name': 'docker.io/library/app:1' } },
      { ...amd, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { 'org.opencontainers.image.ref.name': 'localhost:5000/app:2' } },
    ] }));
    const read = async (d: string) => {
      const b = blobs.get(d);
      if (!b) throw new Error(`missing ${d}`);
      return b;
    };
    const out = await manifestFromOCI(index, read, 'amd64');
    assert.deepEqual(out, [{ Config: `blobs/sha256/${cfg.slice(7)}`, Layers: [`blobs/sha256/${sha('l1').slice(7)}`], RepoTags: ['app:1', 'localhost:5000/app:2'] }]);
    await assert.rejects(manifestFromOCI(Buffer.from('{"manifests":[{"digest":"nope"}]}'), read), invalid(/descriptor/));
    await assert.rejects(manifestFromOCI(Buffer.from('{}'), read), invalid(/no manifests/));
  });
});
