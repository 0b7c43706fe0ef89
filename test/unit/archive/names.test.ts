import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BadNameError, normalizeName, opaqueName, whiteoutName, whiteoutOf, xattrAllowed } from '../../../src/engine/archive/names';

test('normalizeName gives a clean absolute path inside the layer', () => {
  const cases: Array<[string, string]> = [
    ['etc/passwd', '/etc/passwd'],
    ['./etc/passwd', '/etc/passwd'],
    ['/etc/passwd', '/etc/passwd'],
    ['//etc//passwd', '/etc/passwd'],
    ['etc/./passwd', '/etc/passwd'],
    ['usr/bin/', '/usr/bin'],
    ['./', '/'],
    ['.', '/'],
    ['', '/'],
    ['/', '/'],
    ['..', '/'],
    ['../../../etc/shadow', '/etc/shadow'],
    ['a/b/../../../../c', '/c'],
    ['a/../b', '/b'],
    ['./../x/../../y', '/y'],
    ['.wh..wh..opq', '/.wh..wh..opq'],
    ['résumé/ünï', '/résumé/ünï'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeName(input), want, input);
});

test('normalizeName rejects NUL bytes', () => {
  assert.throws(() => normalizeName('a\0b'), BadNameError);
});

test('whiteoutOf maps whiteout and opaque names', () => {
  assert.equal(whiteoutOf('/etc/passwd'), null);
  assert.equal(whiteoutOf('/etc/x.wh.y'), null);
  assert.equal(whiteoutOf('/a/.wh.b/c'), null); // only the last component counts
  assert.deepEqual(whiteoutOf('/etc/.wh.passwd'), { kind: 'whiteout', target: '/etc/passwd' });
  assert.deepEqual(whiteoutOf('/.wh.etc'), { kind: 'whiteout', target: '/etc' });
  assert.deepEqual(whiteoutOf('/.wh..hidden'), { kind: 'whiteout', target: '/.hidden' });
  assert.deepEqual(whiteoutOf('/var/cache/.wh..wh..opq'), { kind: 'opaque', dir: '/var/cache' });
  assert.deepEqual(whiteoutOf('/.wh..wh..opq'), { kind: 'opaque', dir: '/' });
  assert.deepEqual(whiteoutOf('/.wh..wh.plnk'), { kind: 'meta' });
  assert.deepEqual(whiteoutOf('/a/.wh..wh.aufs'), { kind: 'meta' });
  // Names that would white out the directory itself or its parent.
  assert.throws(() => whiteoutOf('/a/.wh.'), BadNameError);
  assert.throws(() => whiteoutOf('/a/.wh..'), BadNameError);
  assert.throws(() => whiteoutOf('/a/.wh...'), BadNameError);
});

test('whiteout names after normalization never leave the layer', () => {
  assert.deepEqual(whiteoutOf(normalizeName('../../.wh.etc')), { kind: 'whiteout', target: '/etc' });
  assert.deepEqual(whiteoutOf(normalizeName('/../.wh..wh..opq')), { kind: 'opaque', dir: '/' });
});

test('whiteoutName and opaqueName build the tar names', () => {
  assert.equal(whiteoutName('passwd'), '.wh.passwd');
  assert.equal(whiteoutName('etc/passwd'), 'etc/.wh.passwd');
  assert.equal(whiteoutName('a/b/.hidden'), 'a/b/.wh..hidden');
  assert.equal(opaqueName(''), '.wh..wh..opq');
  assert.equal(opaqueName('var/cache'), 'var/cache/.wh..wh..opq');
  // Both directions agree.
  assert.deepEqual(whiteoutOf(normalizeName(whiteoutName('a/b'))), { kind: 'whiteout', target: '/a/b' });
  assert.deepEqual(whiteoutOf(normalizeName(opaqueName('a'))), { kind: 'opaque', dir: '/a' });
});

test('only user.* and security.capability xattrs are allowed', () => {
  for (const ok of ['user.foo', 'user.mime_type', 'security.capability']) assert.ok(xattrAllowed(ok), ok);
  for (const no of ['trusted.overlay.opaque', 'trusted.overlay.redirect', 'trusted.foo', 'security.selinux', 'security.ima', 'system.posix_acl_access', 'user.', 'user', 'capability']) {
    assert.ok(!xattrAllowed(no), no);
  }
});
