// berth compose against a real berthd: a web + api + db app on two networks
// (db built from a multi-stage Dockerfile with a build arg and target, with
// a named volume; api gated on db's healthcheck; web's port published on
// the host), checked from the host and between services by name; a second
// `up` recreating only the changed service; a file that does not validate
// creating nothing; `down -v --rmi local` leaving nothing behind.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, docker, dockerOk, importBusybox, ROOT, run, startDaemon, type TestDaemon } from './harness';

const FIX = path.join(ROOT, 'test', 'fixtures', 'berth-compose');
const ok = (r: { code: number; stderr: string; stdout: string }, what = '') => assert.equal(r.code, 0, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function httpGet(port: number, p = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 10000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('berth compose', () => {
  let d: TestDaemon;
  let port: number;
  const project = `bc${process.pid}`;
  const compose = (args: string[], env: Record<string, string> = {}) =>
    run(BERTH, ['compose', '-p', project, '-f', path.join(FIX, 'app', 'compose.yaml'), ...args], { ...d.env, WEB_PORT: String(port), ...env }, undefined, 240000);
  const labelled = async (kind: 'ps -a' | 'network ls' | 'volume ls', p = project) => {
    const r = await docker(d, ...kind.split(' '), '-q', '--filter', `label=com.docker.compose.project=${p}`);
    ok(r, kind);
    return r.stdout.trim();
  };
  const inspectState = async (name: string) => JSON.parse(await dockerOk(d, 'inspect', name))[0].State;
  const ids = async () => {
    const out = await dockerOk(d, 'ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}} {{.ID}}');
    return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ')));
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    port = await freePort();
  });
  after(async () => {
    if (d) {
      await compose(['down', '-v', '--rmi', 'local']).catch(() => undefined);
      await d.stop();
    }
  });

  it('refuses a file that does not validate, with the path to the bad key, and creates nothing', async () => {
    const r = await run(BERTH, ['compose', '-p', `${project}bad`, '-f', path.join(FIX, 'bad', 'compose.yaml'), 'up', '-d'], d.env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /services\.web\.ports\[1\]: invalid port "1:2:3:4": too many colons/);
    for (const kind of ['ps -a', 'network ls', 'volume ls'] as const) assert.equal(await labelled(kind, `${project}bad`), '', kind);
  });

  it('prints the resolved model', async () => {
    const r = await compose(['config']);
    ok(r);
    assert.match(r.stdout, new RegExp(`^name: ${project}\\n`));
    assert.match(r.stdout, /API_MSG: api-ok/);
    assert.match(r.stdout, new RegExp(`published: "${port}"`));
    const missing = await run(BERTH, ['compose', '-f', path.join(FIX, 'app', 'compose.yaml'), 'config'], d.env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /services\.web\.ports\[0\]: required variable WEB_PORT is missing a value: WEB_PORT must be set/);
  });

  it('up --wait builds db, starts db before api before web, and the app answers', async () => {
    const r = await compose(['up', '-d', '--wait']);
    ok(r, 'up');
    assert.match(r.stderr, new RegExp(`Network ${project}_front  Created`));
    assert.match(r.stderr, new RegExp(`Volume ${project}_dbdata  Created`));
    assert.match(r.stderr, new RegExp(`Container ${project}-db-1  Healthy`));
    // From the host, through the published port.
    assert.equal((await httpGet(port)).trim(), 'web-ok one');
    // Between services by name and alias: web reaches api as "backend" and "api" on front.
    const web = `${project}-web-1`;
    assert.equal(await dockerOk(d, 'exec', web, 'wget', '-q', '-O', '-', 'http://backend:8000/'), 'api-ok');
    assert.equal(await dockerOk(d, 'exec', web, 'wget', '-q', '-O', '-', 'http://api:8000/'), 'api-ok');
    // api fetched db's greeting as it started: it was started once db was healthy;
    // the greeting comes from the build arg through the multi-stage build, into the volume.
    assert.equal(await dockerOk(d, 'exec', web, 'wget', '-q', '-O', '-', 'http://api:8000/db.txt'), 'hello from db');
    // web is not on db's network.
    const nodb = await docker(d, 'exec', web, 'wget', '-q', '-T', '3', '-O', '-', 'http://db:5432/greeting.txt');
    assert.notEqual(nodb.code, 0);
    // Labels as docker compose writes them.
    const c = JSON.parse(await dockerOk(d, 'inspect', web))[0];
    assert.equal(c.Config.Labels['com.docker.compose.project'], project);
    assert.equal(c.Config.Labels['com.docker.compose.service'], 'web');
    assert.equal(c.Config.Labels['com.docker.compose.container-number'], '1');
    assert.equal(c.Config.Labels['com.docker.compose.oneoff'], 'False');
    assert.match(c.Config.Labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    const api = JSON.parse(await dockerOk(d, 'inspect', `${project}-api-1`))[0];
    assert.equal(api.HostConfig.Init, true);
    assert.deepEqual(Object.keys(api.NetworkSettings.Networks).sort(), [`${project}_back`, `${project}_front`]);
  });

  it('ps and logs show the project', async () => {
    const ps = await compose(['ps']);
    ok(ps);
    const lines = ps.stdout.trim().split('\n');
    assert.match(lines[0], /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.equal(lines.length, 4, ps.stdout);
    assert.match(ps.stdout, new RegExp(`${project}-web-1 .* web .* 127\\.0\\.0\\.1:${port}->80/tcp`));
    const services = await compose(['ps', '--services']);
    assert.deepEqual(services.stdout.trim().split('\n').sort(), ['api', 'db', 'web']);
    const logs = await compose(['logs', '--no-color', 'db', 'api']);
    ok(logs);
    assert.match(logs.stdout, /^db-1 +\| db starting$/m);
    assert.match(logs.stdout, /^api-1 +\| api up$/m);
  });

  it('a second up recreates only what changed', async () => {
    const before = await ids();
    const same = await compose(['up', '-d']);
    ok(same);
    assert.deepEqual(await ids(), before);
    const changed = await compose(['up', '-d', '--wait'], { WEB_MSG: 'two' });
    ok(changed);
    const afterIds = await ids();
    assert.notEqual(afterIds[`${project}-web-1`], before[`${project}-web-1`]);
    assert.equal(afterIds[`${project}-api-1`], before[`${project}-api-1`]);
    assert.equal(afterIds[`${project}-db-1`], before[`${project}-db-1`]);
    assert.equal((await httpGet(port)).trim(), 'web-ok two');
    const forced = await compose(['up', '-d', '--force-recreate', '--no-deps', 'db'], { WEB_MSG: 'two' });
    ok(forced);
    assert.notEqual((await ids())[`${project}-db-1`], before[`${project}-db-1`]);
  });

  it('exec, run --rm, port, top, images, stop/start, restart, scale and rm', async () => {
    const env = { WEB_MSG: 'two' };
    const ex = await compose(['exec', '-T', 'api', 'cat', '/www/index.html'], env);
    ok(ex, 'exec');
    assert.equal(ex.stdout.trim(), 'api-ok');
    const one = await compose(['run', '--rm', '-T', 'api', 'sh', '-c', 'echo run:$API_MSG; wget -q -O - http://db:5432/greeting.txt'], env);
    ok(one, 'run');
    assert.equal(one.stdout.trim(), 'run:api-ok\nhello from db');
    const failed = await compose(['run', '--rm', '-T', '--no-deps', 'web', 'sh', '-c', 'exit 3'], env);
    assert.equal(failed.code, 3, failed.stderr);
    assert.equal((await docker(d, 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.oneoff=True')).stdout.trim(), '');
    const pt = await compose(['port', 'web', '80'], env);
    ok(pt, 'port');
    assert.equal(pt.stdout.trim(), `127.0.0.1:${port}`);
    const top = await compose(['top', 'db'], env);
    ok(top, 'top');
    assert.match(top.stdout, new RegExp(`^${project}-db-1\n`));
    assert.match(top.stdout, /httpd/);
    const images = await compose(['images'], env);
    ok(images, 'images');
    assert.match(images.stdout, new RegExp(`${project}-db-1 +${project}-db +latest`));

    ok(await compose(['stop', 'web'], env), 'stop');
    assert.equal((await inspectState(`${project}-web-1`)).Status, 'exited');
    ok(await compose(['start', '--wait', 'web'], env), 'start');
    assert.equal((await httpGet(port)).trim(), 'web-ok two');
    const beforeRestart = (await inspectState(`${project}-api-1`)).StartedAt;
    ok(await compose(['restart', 'api'], env), 'restart');
    assert.notEqual((await inspectState(`${project}-api-1`)).StartedAt, beforeRestart);

    ok(await compose(['up', '-d', '--scale', 'api=2'], env), 'scale up');
    assert.equal(await dockerOk(d, 'exec', `${project}-api-2`, 'cat', '/www/index.html'), 'api-ok');
    ok(await compose(['up', '-d'], env), 'scale back');
    assert.equal((await docker(d, 'inspect', `${project}-api-2`)).code, 1);

    ok(await compose(['rm', '-f', '-s', 'web'], env), 'rm');
    assert.equal((await docker(d, 'inspect', `${project}-web-1`)).code, 1);
  });

  it('down -v --rmi local leaves no container, network, volume or built image', async () => {
    const r = await compose(['down', '-v', '--rmi', 'local']);
    ok(r);
    for (const kind of ['ps -a', 'network ls', 'volume ls'] as const) assert.equal(await labelled(kind), '', kind);
    const img = await docker(d, 'image', 'inspect', `${project}-db`);
    assert.notEqual(img.code, 0);
  });

  it('docker-compose 1.29 and berth compose see and manage the same projects', async () => {
    const file = path.join(FIX, 'interop', 'compose.yaml');
    const p2 = `${project}io`;
    const berthC = (...args: string[]) => run(BERTH, ['compose', '-p', p2, '-f', file, ...args], d.env, undefined, 120000);
    const dc = (...args: string[]) => run('docker-compose', ['-p', p2, '-f', file, ...args], d.env, undefined, 120000);
    const nothingLeft = async () => {
      for (const kind of ['ps -a', 'network ls', 'volume ls'] as const) assert.equal(await labelled(kind, p2), '', kind);
    };
    // berth compose up, docker-compose ps and down. (docker-compose up needs
    // berthd to take a network's Attachable, which the dcompose branch adds.)
    ok(await berthC('up', '-d'), 'berth compose up');
    const ps = await dc('ps');
    ok(ps, 'docker-compose ps');
    assert.match(ps.stdout, new RegExp(`${p2}-kv-1 .* Up`));
    assert.match(ps.stdout, new RegExp(`${p2}-client-1 .* Up`));
    ok(await dc('down', '-v'), 'docker-compose down');
    await nothingLeft();
    // berth compose up, docker-compose stop, berth compose ps, start, exec and down.
    ok(await berthC('up', '-d'), 'berth compose up again');
    ok(await dc('stop', 'client'), 'docker-compose stop');
    const ps2 = await berthC('ps', '--services');
    ok(ps2, 'berth compose ps');
    assert.deepEqual(ps2.stdout.trim().split('\n'), ['kv']);
    ok(await berthC('start', 'client'), 'berth compose start');
    const ex = await berthC('exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://kv/value');
    ok(ex, 'berth compose exec');
    assert.equal(ex.stdout.trim(), 'stored');
    const ls = await run(BERTH, ['compose', 'ls'], d.env);
    ok(ls, 'berth compose ls');
    assert.match(ls.stdout, new RegExp(`^${p2} +running\\(2\\) +${file}$`, 'm'));
    // down by project name alone: no file, the labels say what is the project's.
    ok(await run(BERTH, ['compose', '-p', p2, 'down', '-v'], d.env), 'berth compose -p down');
    await nothingLeft();
  });
});
