// The auth wrapper against a fake dispatch: no sockets.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Authenticator } from '../../../../src/engine/registry/auth/auth';
import type { Dispatch, HttpRequest, HttpResponse } from '../../../../src/engine/registry/http/types';

const ORIGIN = 'https://reg.test';

function response(req: HttpRequest, status: number, headers: Record<string, string | string[]> = {}, body = ''): HttpResponse {
  const distinct: Record<string, string[]> = {};
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    distinct[k.toLowerCase()] = Array.isArray(v) ? v : [v];
    flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return { status, headers: flat, headersDistinct: distinct, body: Readable.from([Buffer.from(body)]), url: req.url };
}

const authOf = (req: HttpRequest) => req.headers?.Authorization;

function bearerRegistry(opts: { realm?: string; validToken?: (t: string) => boolean } = {}) {
  const seen: HttpRequest[] = [];
  const tokenReqs: HttpRequest[] = [];
  let n = 0;
  const registry: Dispatch = async (req) => {
    seen.push(req);
    const a = authOf(req);
    if (a?.startsWith('Bearer ') && (opts.validToken ?? (() => true))(a.slice(7))) return response(req, 200);
    return response(req, 401, {
      'WWW-Authenticate': `Bearer realm="${opts.realm ?? 'https://auth.test/token'}",service="reg.test",scope="repository:x:pull"`,
    });
  };
  const tokens: Dispatch = async (req) => {
    tokenReqs.push(req);
    return response(req, 200, { 'content-type': 'application/json' }, JSON.stringify({ token: `t${++n}`, expires_in: 300 }));
  };
  return { registry, tokens, seen, tokenReqs };
}

const get = (path: string, scopes: string[] = ['repository:x:pull']): HttpRequest => ({ method: 'GET', url: new URL(path, ORIGIN), scopes });

test('Basic: answers the challenge, then authorizes up front', async () => {
  const seen: HttpRequest[] = [];
  const registry: Dispatch = async (req) => {
    seen.push(req);
    return authOf(req) === 'Basic ' + Buffer.from('u:p').toString('base64') ? response(req, 200) : response(req, 401, { 'WWW-Authenticate': 'Basic realm="r"' });
  };
  const a = new Authenticator({ creds: { username: 'u', password: 'p' }, origin: () => ORIGIN, tokenDispatch: registry });
  const d = a.wrap(registry);
  assert.equal((await d(get('/v2/'))).status, 200);
  assert.equal(seen.length, 2);
  assert.equal((await d(get('/v2/x/tags/list'))).status, 200);
  assert.equal(seen.length, 3, 'second request authorized without a challenge');
});

test('Basic without credentials, or with wrong ones: the 401 comes back', async () => {
  let count = 0;
  const registry: Dispatch = async (req) => {
    count++;
    return response(req, 401, { 'WWW-Authenticate': 'Basic realm="r"' }, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  };
  const anon = new Authenticator({ origin: () => ORIGIN, tokenDispatch: registry }).wrap(registry);
  assert.equal((await anon(get('/v2/'))).status, 401);
  assert.equal(count, 1);
  const wrong = new Authenticator({ creds: { username: 'u', password: 'bad' }, origin: () => ORIGIN, tokenDispatch: registry }).wrap(registry);
  assert.equal((await wrong(get('/v2/'))).status, 401);
  assert.equal((await wrong(get('/v2/'))).status, 401);
  assert.equal(count, 1 + 2 + 1, 'no loop: one retry with credentials, then sent up front');
});

test('Bearer: token per scope set, cached, with Basic credentials to the realm', async () => {
  const r = bearerRegistry();
  const a = new Authenticator({ creds: { username: 'u', password: 'p' }, origin: () => ORIGIN, tokenDispatch: r.tokens });
  const d = a.wrap(r.registry);
  assert.equal((await d(get('/v2/x/manifests/latest'))).status, 200);
  assert.equal(r.tokenReqs.length, 1);
  const t = r.tokenReqs[0];
  assert.equal(t.url.origin + t.url.pathname, 'https://auth.test/token');
  assert.equal(t.url.searchParams.get('service'), 'reg.test');
  assert.deepEqual(t.url.searchParams.getAll('scope'), ['repository:x:pull']);
  assert.equal(t.url.searchParams.get('account'), 'u');
  assert.equal(authOf(t), 'Basic ' + Buffer.from('u:p').toString('base64'));
  // Same scope: cached, authorized up front.
  await d(get('/v2/x/blobs/sha256:' + 'a'.repeat(64)));
  assert.equal(r.tokenReqs.length, 1);
  assert.equal(r.seen.length, 3);
  // Push and mount scopes: a new token with every scope merged.
  await d({ method: 'POST', url: new URL('/v2/x/blobs/uploads/', ORIGIN), scopes: ['repository:x:pull,push', 'repository:y:pull'] });
  assert.equal(r.tokenReqs.length, 2);
  assert.deepEqual(r.tokenReqs[1].url.searchParams.getAll('scope'), ['repository:x:pull,push', 'repository:y:pull']);
});

test('Bearer: an expired token is renewed; a rejected one is refreshed once', async () => {
  let now = 1_000_000;
  let valid = new Set<string>(['t1']);
  const r = bearerRegistry({ validToken: (t) => valid.has(t) });
  const a = new Authenticator({ origin: () => ORIGIN, tokenDispatch: r.tokens, now: () => now });
  const d = a.wrap(r.registry);
  await d(get('/v2/x/tags/list'));
  assert.equal(r.tokenReqs.length, 1);
  now += 300_000; // expires_in 300 s
  valid = new Set(['t2']);
  assert.equal((await d(get('/v2/x/tags/list'))).status, 200);
  assert.equal(r.tokenReqs.length, 2, 'renewed before use');
  valid = new Set(['t3']); // the registry revoked t2
  assert.equal((await d(get('/v2/x/tags/list'))).status, 200);
  assert.equal(r.tokenReqs.length, 3, 'refreshed after a 401');
  valid = new Set(); // nothing works: one refresh, then the 401
  assert.equal((await d(get('/v2/x/tags/list'))).status, 401);
});

test('Bearer: identity token uses the OAuth2 refresh-token POST', async () => {
  const r = bearerRegistry();
  const a = new Authenticator({ creds: { identitytoken: 'refresh-me' }, origin: () => ORIGIN, tokenDispatch: r.tokens });
  await a.wrap(r.registry)(get('/v2/x/tags/list'));
  const t = r.tokenReqs[0];
  assert.equal(t.method, 'POST');
  const form = new URLSearchParams(t.body!.toString());
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'refresh-me');
  assert.equal(form.get('service'), 'reg.test');
  assert.equal(form.get('scope'), 'repository:x:pull');
  assert.equal(authOf(t), undefined);
});

test('Bearer: a registry token is sent as is', async () => {
  const r = bearerRegistry({ validToken: (t) => t === 'given' });
  const a = new Authenticator({ creds: { registrytoken: 'given' }, origin: () => ORIGIN, tokenDispatch: r.tokens });
  assert.equal((await a.wrap(r.registry)(get('/v2/x/tags/list'))).status, 200);
  assert.equal(r.tokenReqs.length, 0);
});

test('token server errors are Unauthorized with its message', async () => {
  const r = bearerRegistry();
  const tokens: Dispatch = async (req) => response(req, 401, {}, JSON.stringify({ details: 'incorrect username or password' }));
  const a = new Authenticator({ creds: { username: 'u', password: 'p' }, origin: () => ORIGIN, tokenDispatch: tokens });
  await assert.rejects(a.wrap(r.registry)(get('/v2/x/tags/list')), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'Unauthorized');
    assert.match(err.message, /token request to auth.test\/token: unauthorized.*incorrect username or password/);
    return true;
  });
});

test('credentials never go to another origin', async () => {
  const seen: HttpRequest[] = [];
  const registry: Dispatch = async (req) => {
    seen.push(req);
    return req.url.origin === ORIGIN && !authOf(req) ? response(req, 401, { 'WWW-Authenticate': 'Basic realm="r"' }) : response(req, 200);
  };
  const d = new Authenticator({ creds: { username: 'u', password: 'p' }, origin: () => ORIGIN, tokenDispatch: registry }).wrap(registry);
  await d(get('/v2/'));
  await d({ method: 'PUT', url: new URL('https://uploads.elsewhere.test/x'), scopes: ['repository:x:pull,push'] });
  assert.equal(authOf(seen[seen.length - 1]), undefined);
});
