import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { opaqueName, whiteoutName, xattrAllowed } from '../../../../src/engine/layers/names';

test('whiteoutName and opaqueName build the tar names', () => {
  assert.equal(whiteoutName('passwd'), '.wh.passwd');
  assert.equal(whiteoutName('etc/passwd'), 'etc/.wh.passwd');
  assert.equal(whiteoutName('a/b/.hidden'), 'a/b/.wh..hidden');
  assert.equal(opaqueName(''), '.wh..wh..opq');
  assert.equal(opaqueName('var/cache'), 'var/cache/.wh..wh..opq');
});

test('only user.* and security.capability xattrs are allowed', () => {
  for (const ok of ['user.foo', 'user.mime_type', 'security.capability']) assert.ok(xattrAllowed(ok), ok);
  for (const no of ['trusted.overlay.opaque', 'trusted.overlay.redirect', 'trusted.foo', 'security.selinux', 'security.ima', 'system.posix_acl_access', 'user.', 'user', 'capability']) {
    assert.ok(!xattrAllowed(no), no);
  }
});
