import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../src/errors';
import { API_VERSION, MIN_API_VERSION } from '../../../src/api/version';
import { Router, type Handler } from '../../../src/server/router';

// Each handler is a distinct function so the test can tell which one matched.
function named(name: string): Handler & { route: string } {
  const h = (() => {}) as unknown as Handler & { route: string };
  h.route = name;
  return h;
}

function router(): Router {
  const r = new Router();
  r.get('/_ping', named('ping GET'));
  r.head('/_ping', named('ping HEAD'));
  r.get('/version', named('version'));
  r.get('/containers/json', named('containers list'));
  r.post('/containers/create', named('containers create'));
  r.get('/containers/:id/json', named('container inspect'));
  r.post('/containers/:id/start', named('container start'));
  r.delete('/containers/:id', named('container delete'));
  r.get('/containers/:id/archive', named('archive GET'));
  r.put('/containers/:id/archive', named('archive PUT'));
  r.get('/images/json', named('images list'));
  r.get('/images/*name/json', named('image inspect'));
  r.post('/images/*name/tag', named('image tag'));
  r.delete('/images/*name', named('image delete'));
  return r;
}

const which = (r: Router, method: string, p: string) => {
  const m = r.match(method, p);
  return { route: (m.handler as unknown as { route: string }).route, params: m.params, version: m.version };
};

const isKind = (kind: string, message?: string | RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, kind);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return true;
};

test('API version constants', () => {
  assert.equal(API_VERSION, '1.51');
  assert.equal(MIN_API_VERSION, '1.24');
});

test('unversioned paths match with the current API version', () => {
  assert.deepEqual(which(router(), 'GET', '/containers/json'), { route: 'containers list', params: {}, version: API_VERSION });
});

test('versioned paths strip the prefix and report the version', () => {
  assert.deepEqual(which(router(), 'GET', '/v1.44/containers/json'), { route: 'containers list', params: {}, version: '1.44' });
  assert.equal(which(router(), 'GET', '/v1.24/_ping').version, '1.24');
  assert.equal(which(router(), 'GET', '/v1.51/_ping').version, '1.51');
});

test('too old a version is InvalidArgument with Docker\'s message', () => {
  assert.throws(
    () => router().match('GET', '/v1.23/containers/json'),
    isKind('InvalidArgument', 'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version'),
  );
  // Minor versions compare as numbers: 1.5 is older than 1.24.
  assert.throws(() => router().match('GET', '/v1.5/_ping'), isKind('InvalidArgument', /client version 1\.5 is too old/));
  assert.throws(() => router().match('GET', '/v0.99/_ping'), isKind('InvalidArgument', /too old/));
});

test('too new a version is InvalidArgument with Docker\'s message', () => {
  assert.throws(
    () => router().match('GET', '/v1.52/containers/json'),
    isKind('InvalidArgument', 'client version 1.52 is too new. Maximum supported API version is 1.51'),
  );
  assert.throws(() => router().match('GET', '/v2.0/_ping'), isKind('InvalidArgument', /too new/));
  // 1.100 is newer than 1.51 even though "100" < "51" as strings.
  assert.throws(() => router().match('GET', '/v1.100/_ping'), isKind('InvalidArgument', /too new/));
});

test(':params capture one segment', () => {
  assert.deepEqual(which(router(), 'GET', '/v1.44/containers/abc123/json'), { route: 'container inspect', params: { id: 'abc123' }, version: '1.44' });
  assert.deepEqual(which(router(), 'POST', '/containers/web/start').params, { id: 'web' });
  assert.deepEqual(which(router(), 'DELETE', '/containers/web').params, { id: 'web' });
});

test('params are percent-decoded', () => {
  assert.deepEqual(which(router(), 'GET', '/containers/my%20name/json').params, { id: 'my name' });
  assert.deepEqual(which(router(), 'GET', '/images/localhost%3A5000%2Fa/json').params, { name: 'localhost:5000/a' });
});

test('"*name" takes one or more segments (image names with slashes)', () => {
  assert.deepEqual(which(router(), 'GET', '/images/busybox/json'), { route: 'image inspect', params: { name: 'busybox' }, version: API_VERSION });
  assert.deepEqual(which(router(), 'GET', '/v1.44/images/localhost:5000/a/b/json').params, { name: 'localhost:5000/a/b' });
  assert.deepEqual(which(router(), 'GET', '/images/busybox:1.36/json').params, { name: 'busybox:1.36' });
  assert.deepEqual(which(router(), 'POST', '/images/registry.example.com/x/y:tag/tag').params, { name: 'registry.example.com/x/y:tag' });
  assert.deepEqual(which(router(), 'DELETE', '/images/localhost:5000/a/b').params, { name: 'localhost:5000/a/b' });
  // The last "json" belongs to the route; earlier ones to the name.
  assert.deepEqual(which(router(), 'GET', '/images/json/json').params, { name: 'json' });
  assert.deepEqual(which(router(), 'GET', '/images/a/json/json').params, { name: 'a/json' });
});

test('a fixed route is not swallowed by the wildcard', () => {
  assert.equal(which(router(), 'GET', '/images/json').route, 'images list');
  assert.equal(which(router(), 'GET', '/v1.44/images/json').route, 'images list');
});

test('the same path routes by method', () => {
  assert.equal(which(router(), 'GET', '/containers/x/archive').route, 'archive GET');
  assert.equal(which(router(), 'PUT', '/containers/x/archive').route, 'archive PUT');
});

test('HEAD falls back to GET, unless a HEAD route exists', () => {
  assert.equal(which(router(), 'HEAD', '/containers/abc/json').route, 'container inspect');
  assert.equal(which(router(), 'HEAD', '/version').route, 'version');
  assert.equal(which(router(), 'HEAD', '/_ping').route, 'ping HEAD');
  assert.equal(which(router(), 'GET', '/_ping').route, 'ping GET');
});

test('trailing and doubled slashes are tolerated', () => {
  assert.equal(which(router(), 'GET', '/containers/json/').route, 'containers list');
  assert.equal(which(router(), 'GET', '//v1.44//containers//json').route, 'containers list');
});

test('unknown paths are NotFound "page not found"', () => {
  assert.throws(() => router().match('GET', '/nope'), isKind('NotFound', 'page not found'));
  assert.throws(() => router().match('GET', '/v1.44/containers'), isKind('NotFound', 'page not found'));
  assert.throws(() => router().match('GET', '/containers/abc/json/extra'), isKind('NotFound', 'page not found'));
  assert.throws(() => router().match('GET', '/'), isKind('NotFound'));
});

test('a known path with the wrong method is NotFound naming the method', () => {
  assert.throws(() => router().match('POST', '/containers/json'), isKind('NotFound', 'method POST not allowed for /containers/json'));
  assert.throws(() => router().match('HEAD', '/containers/create'), isKind('NotFound', /method HEAD not allowed/));
});

test('malformed percent-encoding is InvalidArgument', () => {
  assert.throws(() => router().match('GET', '/containers/%E0%A4%A/json'), isKind('InvalidArgument', /malformed path/));
});

test('a spec route berth does not serve is NotFound naming the route', () => {
  assert.throws(() => router().match('GET', '/containers/abc/top'), isKind('NotFound', 'berth does not implement GET /containers/{id}/top yet'));
  assert.throws(() => router().match('GET', '/v1.44/volumes'), isKind('NotFound', 'berth does not implement GET /volumes yet'));
  assert.throws(() => router().match('POST', '/exec/abc/start'), isKind('NotFound', 'berth does not implement POST /exec/{id}/start yet'));
  // "{name}" spans segments, as image and plugin names do.
  assert.throws(() => router().match('POST', '/images/localhost:5000/a/b/push'), isKind('NotFound', 'berth does not implement POST /images/{name}/push yet'));
});

test('another method\'s route on the same path does not hide a spec route', () => {
  // DELETE /images/*name matches /images/search; DELETE /containers/:id matches /containers/prune.
  assert.throws(() => router().match('GET', '/images/search'), isKind('NotFound', 'berth does not implement GET /images/search yet'));
  assert.throws(() => router().match('POST', '/containers/prune'), isKind('NotFound', 'berth does not implement POST /containers/prune yet'));
  const r = router();
  r.post('/containers/prune', named('containers prune'));
  assert.equal(which(r, 'POST', '/containers/prune').route, 'containers prune');
  assert.equal(which(r, 'DELETE', '/containers/prune').route, 'container delete');
});

test('routes are keyed as the spec names them', () => {
  assert.equal(router().match('GET', '/containers/abc/json').route, 'GET /containers/{id}/json');
  assert.equal(router().match('DELETE', '/images/a/b').route, 'DELETE /images/{name}');
  assert.equal(router().match('GET', '/_ping').route, 'GET /_ping');
});

test('a refused query parameter with a value is InvalidArgument naming it; defaults pass', () => {
  const r = router();
  r.post('/commit', named('commit'));
  r.post('/images/load', named('load'));
  assert.throws(
    () => r.match('POST', '/containers/create', new URLSearchParams('name=x&platform=linux/arm64')),
    isKind('InvalidArgument', 'query parameter "platform" of POST /containers/create is not supported yet'),
  );
  assert.throws(() => r.match('DELETE', '/v1.51/containers/x', new URLSearchParams('link=1')), isKind('InvalidArgument', 'query parameter "link" of DELETE /containers/{id} is not supported yet'));
  assert.throws(() => r.match('POST', '/images/load', new URLSearchParams('quiet=1&platform=linux/arm64')), isKind('InvalidArgument', /"platform" of POST \/images\/load/));
  assert.equal(which(r, 'POST', '/containers/create').route, 'containers create');
  assert.equal(r.match('POST', '/containers/create', new URLSearchParams('platform=')).route, 'POST /containers/create');
  assert.equal(r.match('DELETE', '/containers/x', new URLSearchParams('v=1&force=1&link=0')).route, 'DELETE /containers/{id}');
  assert.equal(r.match('POST', '/commit', new URLSearchParams('pause=1')).route, 'POST /commit'); // applied
  // Parameters the spec does not define are ignored, as dockerd does.
  assert.equal(r.match('GET', '/containers/json', new URLSearchParams('whatever=1')).route, 'GET /containers/json');
});
