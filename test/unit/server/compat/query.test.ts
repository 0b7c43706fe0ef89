// The query-parameter table (src/server/compat/query.ts) and the spec route
// list against the Engine API spec: every parameter the spec defines for a
// route berth serves is classified, and the table names nothing the spec lacks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { EXTRA_ROUTES, QUERY, isDefaultValue, refusedParam } from '../../../../src/server/compat/query';
import { SPEC_ROUTES } from '../../../../src/server/compat/spec-routes';
import { Router } from '../../../../src/server/router';
import { projectRoot } from '../../../../src/util/paths';

interface SpecParam { name: string; in: string }
const spec = parse(fs.readFileSync(path.join(projectRoot(), 'third_party/docker-engine-api/docker-engine-api-1.51.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: SpecParam[] }>>;
};

// "METHOD /path" -> the query parameters the spec defines for it.
const specQuery = new Map<string, string[]>();
for (const [p, ops] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    if (method === 'parameters') continue;
    specQuery.set(`${method.toUpperCase()} ${p}`, (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name));
  }
}

// Registers every route module's routes (each src/server/routes/*.ts export
// named "...Routes") on one router, with a stand-in daemon: registration only
// stores handlers, so nothing of the daemon is used.
function servedRoutes(): string[] {
  const anything: any = new Proxy(function () {}, {
    get: (_t, k) => (k === Symbol.toPrimitive ? () => '' : k === 'then' ? undefined : anything),
    apply: () => anything,
    construct: () => anything,
  });
  const r = new Router();
  const dir = path.join(__dirname, '../../../../src/server/routes');
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.ok(modules.length >= 3, `route modules in ${dir}`);
  for (const f of modules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, f)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) if (name.endsWith('Routes') && typeof fn === 'function') fn(r, anything);
  }
  return r.keys();
}

test('the spec route list is the spec\'s', () => {
  assert.deepEqual([...SPEC_ROUTES].sort(), [...specQuery.keys()].sort());
});

test('every served route is in the spec, or listed with a reason', () => {
  const served = servedRoutes();
  assert.ok(served.includes('GET /containers/json') && served.includes('POST /commit'), served.join(', '));
  for (const key of served) {
    assert.ok(specQuery.has(key) || EXTRA_ROUTES[key], `${key} is served but not in the spec: list it in EXTRA_ROUTES with a reason`);
  }
});

test('every query parameter of every served route is classified', () => {
  for (const key of servedRoutes()) {
    const rules = QUERY[key];
    assert.ok(rules, `${key} is served but has no entry in src/server/compat/query.ts`);
    for (const name of specQuery.get(key) ?? []) {
      assert.ok(rules[name], `query parameter "${name}" of ${key} (in the spec) is not classified in src/server/compat/query.ts`);
    }
  }
});

test('the table names only parameters the spec defines, with reasons where not applied', () => {
  for (const [key, rules] of Object.entries(QUERY)) {
    const known = specQuery.get(key);
    assert.ok(known, `${key} is in the query table but not in the spec`);
    for (const [name, rule] of Object.entries(rules)) {
      assert.ok(known.includes(name), `the table names "${name}" of ${key}, which the spec does not define`);
      if (rule.use !== 'applied') assert.ok(rule.reason.length > 10, `${key} ${name}: a reason`);
    }
  }
});

test('default values of a refused parameter pass; others are refused', () => {
  const q = (s: string) => new URLSearchParams(s);
  for (const v of ['', '0', 'false', '{}']) assert.ok(isDefaultValue(v), v);
  assert.equal(refusedParam('POST /containers/create', q('platform=')), undefined);
  assert.equal(refusedParam('POST /containers/create', q('name=x&platform=linux/arm64')), 'platform');
  assert.equal(refusedParam('DELETE /containers/{id}', q('v=1&force=1')), undefined);
  assert.equal(refusedParam('DELETE /containers/{id}', q('link=1')), 'link');
  assert.equal(refusedParam('DELETE /containers/{id}', q('link=0')), undefined);
  assert.equal(refusedParam('POST /commit', q('container=x&pause=1')), undefined);
  // A repeated parameter is refused when any of its values is not a default.
  assert.equal(refusedParam('DELETE /containers/{id}', q('link=0&link=true')), 'link');
  // platform is applied to pulls, refused for imports.
  assert.equal(refusedParam('POST /images/create', q('fromImage=busybox&platform=linux/amd64')), undefined);
  assert.equal(refusedParam('POST /images/create', q('fromSrc=-&platform=linux/amd64')), 'platform');
});
