import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../src/errors';
import type { Descriptor, Index } from '../../../src/oci/descriptor';
import { MEDIA_TYPES } from '../../../src/oci/mediatypes';
import { hostPlatform, normalizePlatform, selectPlatform } from '../../../src/oci/platform';

let n = 0;
const entry = (os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest: 'sha256:' + (++n).toString(16).padStart(64, '0'),
  size: 100,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});
const index = (...manifests: Descriptor[]): Index => ({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });

test('exact os/architecture match', () => {
  const amd = entry('linux', 'amd64');
  const arm = entry('linux', 'arm64', 'v8');
  const idx = index(arm, amd);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }), amd);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm64' }), arm);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm64', variant: 'v8' }), arm);
});

test('aliases normalize: x86_64, aarch64, armhf', () => {
  const amd = entry('linux', 'amd64');
  const arm64 = entry('linux', 'arm64');
  const armv7 = entry('linux', 'arm', 'v7');
  const idx = index(amd, arm64, armv7);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'x86_64' }), amd);
  assert.equal(selectPlatform(idx, { os: 'Linux', architecture: 'aarch64' }), arm64);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'armhf' }), armv7);
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), { os: 'linux', architecture: 'arm64', variant: '' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
});

test('exact variant wins; arm v7 falls back to v6, never up to v8', () => {
  const v6 = entry('linux', 'arm', 'v6');
  const v7 = entry('linux', 'arm', 'v7');
  const v8 = entry('linux', 'arm', 'v8');
  assert.equal(selectPlatform(index(v6, v7, v8), { os: 'linux', architecture: 'arm', variant: 'v7' }), v7);
  assert.equal(selectPlatform(index(v6, v8), { os: 'linux', architecture: 'arm', variant: 'v7' }), v6);
  assert.throws(() => selectPlatform(index(v8), { os: 'linux', architecture: 'arm', variant: 'v7' }), /no matching manifest for linux\/arm\/v7.*available: linux\/arm\/v8/);
});

test('amd64 microarchitecture levels: v3 runs v2 and plain amd64', () => {
  const plain = entry('linux', 'amd64');
  const v2 = entry('linux', 'amd64', 'v2');
  assert.equal(selectPlatform(index(plain, v2), { os: 'linux', architecture: 'amd64', variant: 'v3' }), v2);
  assert.equal(selectPlatform(index(plain), { os: 'linux', architecture: 'amd64', variant: 'v3' }), plain);
});

test('no variant asked: any variant of the architecture', () => {
  const v8 = entry('linux', 'arm', 'v8');
  assert.equal(selectPlatform(index(v8), { os: 'linux', architecture: 'arm' }), v8);
});

test('attestation entries and entries without platform are skipped', () => {
  const att = entry('unknown', 'unknown');
  const bare: Descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: 'sha256:' + 'f'.repeat(64), size: 1 };
  const amd = entry('linux', 'amd64');
  assert.equal(selectPlatform(index(att, bare, amd), { os: 'linux', architecture: 'amd64' }), amd);
});

test('NotFound lists what is available', () => {
  const idx = index(entry('linux', 'arm64', 'v8'), entry('linux', 'arm', 'v7'), entry('windows', 'amd64'), entry('unknown', 'unknown'));
  assert.throws(
    () => selectPlatform(idx, { os: 'linux', architecture: 's390x' }),
    (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.kind, 'NotFound');
      assert.match(err.message, /no matching manifest for linux\/s390x in the manifest list entries \(available: linux\/arm64\/v8, linux\/arm\/v7, windows\/amd64\)/);
      return true;
    },
  );
  assert.throws(() => selectPlatform(index(), { os: 'linux', architecture: 'amd64' }), /names no platforms/);
});

test('defaults to the host platform', () => {
  const host = hostPlatform();
  assert.equal(host.os, 'linux');
  const mine = entry('linux', host.architecture, host.variant);
  const other = entry('linux', host.architecture === 'amd64' ? 'arm64' : 'amd64');
  assert.equal(selectPlatform(index(other, mine)), mine);
});
