// Header grammars: WWW-Authenticate, scopes, Link pagination.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isLoopbackRegistry,
  mergeScopes,
  parseNextLink,
  parseWWWAuthenticate,
  registryHost,
} from '../../../../src/engine/registry';

test('WWW-Authenticate: Bearer with realm, service and scope', () => {
  const c = parseWWWAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
  assert.deepEqual(c, [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
});

test('WWW-Authenticate: Basic, unquoted values, case, spaces', () => {
  assert.deepEqual(parseWWWAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseWWWAuthenticate('BASIC Realm=simple , charset="UTF-8"'), [{ scheme: 'basic', params: { realm: 'simple', charset: 'UTF-8' } }]);
});

test('WWW-Authenticate: scope with several actions and an error', () => {
  const [c] = parseWWWAuthenticate('Bearer realm="http://127.0.0.1:1/token",service="s",scope="repository:a/b:pull,push",error="insufficient_scope"');
  assert.equal(c.params.scope, 'repository:a/b:pull,push');
  assert.equal(c.params.error, 'insufficient_scope');
});

test('WWW-Authenticate: several challenges in one header and in several', () => {
  const c = parseWWWAuthenticate('Basic realm="r1", Bearer realm="https://t/x", service="svc"');
  assert.deepEqual(c.map((x) => x.scheme), ['basic', 'bearer']);
  assert.equal(c[1].params.service, 'svc');
  const d = parseWWWAuthenticate(['Negotiate', 'Bearer realm="https://t/x"']);
  assert.deepEqual(d.map((x) => x.scheme), ['negotiate', 'bearer']);
});

test('WWW-Authenticate: quoted escapes, commas inside quotes, token68', () => {
  const [c] = parseWWWAuthenticate('Bearer realm="https://t/x?a=1,b=2",service="say \\"hi\\""');
  assert.equal(c.params.realm, 'https://t/x?a=1,b=2');
  assert.equal(c.params.service, 'say "hi"');
  const [n] = parseWWWAuthenticate('Negotiate YIIB+w==');
  assert.equal(n.token68, 'YIIB+w==');
  assert.deepEqual(parseWWWAuthenticate(undefined), []);
  assert.deepEqual(parseWWWAuthenticate(''), []);
});

test('scopes merge per resource', () => {
  assert.deepEqual(mergeScopes(['repository:a:pull', 'repository:a:push', 'repository:b:pull']), ['repository:a:pull,push', 'repository:b:pull']);
  assert.deepEqual(mergeScopes(['repository:a:pull repository:c:pull', 'registry:catalog:*']), ['registry:catalog:*', 'repository:a:pull', 'repository:c:pull']);
  assert.deepEqual(mergeScopes([]), []);
});

test('Link: rel="next"', () => {
  assert.equal(parseNextLink('</v2/foo/tags/list?n=2&last=b>; rel="next"'), '/v2/foo/tags/list?n=2&last=b');
  assert.equal(parseNextLink('<https://r/x?last=a,b>; rel="prev", <https://r/y>; rel=next'), 'https://r/y');
  assert.equal(parseNextLink('</x>; rel="prev"'), undefined);
  assert.equal(parseNextLink(undefined), undefined);
});

test('registry host mapping and loopback detection', () => {
  assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('localhost:5000'), 'localhost:5000');
  assert.ok(isLoopbackRegistry('localhost:5000'));
  assert.ok(isLoopbackRegistry('127.0.0.1'));
  assert.ok(isLoopbackRegistry('127.3.2.1:443'));
  assert.ok(isLoopbackRegistry('[::1]:5000'));
  assert.ok(!isLoopbackRegistry('registry.example.com'));
  assert.ok(!isLoopbackRegistry('128.0.0.1:5000'));
});
