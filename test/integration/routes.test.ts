// The router against a real berthd: refused query parameters, spec routes
// berth lacks, and POST /containers/prune (raw API and `docker container prune`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

const json = (r: { body: string }) => JSON.parse(r.body);

async function create(d: TestDaemon, name: string, labels: Record<string, string> = {}, cmd = ['true']): Promise<string> {
  const r = await api(d, 'POST', `/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox', Cmd: cmd, Labels: labels }));
  assert.equal(r.status, 201, r.body);
  return json(r).Id;
}

async function names(d: TestDaemon): Promise<string[]> {
  const r = await api(d, 'GET', '/containers/json?all=1');
  assert.equal(r.status, 200, r.body);
  return (json(r) as { Names: string[] }[]).map((c) => c.Names[0].slice(1)).sort();
}

describe('routes', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('answers 400 naming a refused query parameter, and accepts its default', async () => {
    let r = await api(d, 'POST', '/containers/create?name=plat&platform=linux/arm64', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    assert.equal(r.status, 400, r.body);
    assert.deepEqual(json(r), { message: 'query parameter "platform" of POST /containers/create is not supported yet' });
    assert.deepEqual(await names(d), [], 'nothing was created');
    r = await api(d, 'POST', '/v1.51/containers/create?name=plat&platform=', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    assert.equal(r.status, 201, r.body);
    r = await api(d, 'DELETE', '/containers/plat?link=1');
    assert.equal(r.status, 400, r.body);
    assert.match(json(r).message, /query parameter "link" of DELETE \/containers\/\{id\} is not supported yet/);
    assert.deepEqual(await names(d), ['plat'], 'link=1 did not remove the container');
    r = await api(d, 'DELETE', '/containers/plat?v=1&link=0');
    assert.equal(r.status, 204, r.body);
    assert.deepEqual(await names(d), []);
  });

  it('answers 404 naming a spec route it does not serve', async () => {
    for (const [method, p, route] of [
      ['GET', '/containers/x/attach/ws', 'GET /containers/{id}/attach/ws'],
      ['GET', '/v1.44/images/search?term=busybox', 'GET /images/search'],
      ['GET', '/plugins', 'GET /plugins'],
      ['PUT', '/volumes/x', 'PUT /volumes/{name}'],
    ]) {
      const r = await api(d, method, p);
      assert.equal(r.status, 404, `${method} ${p}: ${r.body}`);
      assert.deepEqual(json(r), { message: `berth does not implement ${route} yet` });
    }
    let r = await api(d, 'GET', '/no/such/thing');
    assert.equal(r.status, 404);
    assert.deepEqual(json(r), { message: 'page not found' });
    r = await api(d, 'POST', '/containers/json');
    assert.equal(r.status, 404);
    assert.deepEqual(json(r), { message: 'method POST not allowed for /containers/json' });
  });

  it('POST /containers/prune removes stopped containers, with label and until filters', async () => {
    const running = await create(d, 'p-running', {}, ['sleep', '60']);
    assert.equal((await api(d, 'POST', `/containers/${running}/start`)).status, 204);
    const keep = await create(d, 'p-keep', { keep: 'yes' });
    const a = await create(d, 'p-a', { team: 'a' });
    const b = await create(d, 'p-b', { team: 'b' }, ['sh', '-c', 'head -c 50000 /dev/zero > /data']);
    assert.equal((await api(d, 'POST', `/containers/${b}/start`)).status, 204);
    assert.equal(json(await api(d, 'POST', `/containers/${b}/wait`)).StatusCode, 0);

    let r = await api(d, 'POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ bogus: ['x'] })));
    assert.equal(r.status, 400, r.body);
    assert.match(json(r).message, /invalid filter 'bogus'/);

    // until in the past: nothing is old enough.
    r = await api(d, 'POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ until: ['2000-01-01T00:00:00Z'] })));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), { ContainersDeleted: null, SpaceReclaimed: 0 });

    r = await api(d, 'POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ label: ['team=a'] })));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r).ContainersDeleted, [a]);
    assert.deepEqual(await names(d), ['p-b', 'p-keep', 'p-running']);

    // The file b wrote counts in SpaceReclaimed.
    r = await api(d, 'POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ 'label!': ['keep'] })));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r).ContainersDeleted, [b]);
    assert.ok(json(r).SpaceReclaimed >= 50_000, r.body);
    assert.deepEqual(await names(d), ['p-keep', 'p-running']);

    // The docker CLI's prune: everything stopped goes, the running one stays.
    const out = await docker(d, 'container', 'prune', '-f');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(keep));
    assert.match(out.stdout, /Total reclaimed space/);
    assert.deepEqual(await names(d), ['p-running']);
    assert.equal((await api(d, 'DELETE', `/containers/${running}?force=1`)).status, 204);
  });
});
