// Debian's docker-compose 1.29 (Python, docker-py) drives the apps under
// test/fixtures/compose against berthd unchanged: builds (docker CLI and
// docker-py's classic POST /build, multi-stage), two user networks with
// aliases, a named volume, env files, a published port, a healthcheck-gated
// depends_on, and up -d, ps, logs (-f ends when the service stops), exec,
// run --rm, restart, scale, a second up -d that recreates only what changed,
// down -v. Each app is checked through the network from the host and
// between services, and torn down with nothing left: no container, network
// or volume in berthd, no bridge, veth, mount, shim or iptables rule of its
// own on the host. A config error fails with compose's message and creates
// nothing. Waits poll with deadlines; no sleep is a proof.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, importBusybox, ROOT, run, sleep, startDaemon, type RunResult, type TestDaemon } from './harness';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'compose');

describe('docker-compose 1.29 against berthd', { timeout: 900_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  // docker-compose -f <app>/docker-compose.yml -p <project> ...
  const compose = (app: string, project: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<RunResult> =>
    run('docker-compose', ['--ansi', 'never', '-f', path.join(FIXTURES, app, 'docker-compose.yml'), '-p', project, ...args], { ...d.env, ...env }, undefined, timeoutMs);
  const ok = async (p: Promise<RunResult>, what: string): Promise<string> => {
    const r = await p;
    assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}\n${d.log().slice(-3000)}`);
    return r.stdout;
  };
  const inspect = async (ref: string) => {
    const r = await docker(d, 'inspect', ref);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)[0];
  };
  // The project's containers of a service, by id, as compose labels them.
  const ids = async (project: string, service: string): Promise<string[]> => {
    const r = await docker(d, 'ps', '-a', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  const httpGet = (hostPort: string, p = '/'): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), hostPort.slice(hostPort.lastIndexOf(':') + 1)];
      http.get({ host, port: Number(port), path: p, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
    });
  // Polls f until it returns a value, or fails with what it last threw.
  const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) assert.fail(`${what} not reached: ${last instanceof Error ? last.message : String(last ?? '')}\n${d.log().slice(-3000)}`);
      await sleep(250);
    }
  };

  interface NetFacts {
    bridges: string[];
    subnets: string[];
    ports: string[];
  }
  // The bridges and subnets of the project's networks, for the leak checks.
  const netFacts = async (project: string, ports: string[] = []): Promise<NetFacts> => {
    const r = await docker(d, 'network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`);
    const facts: NetFacts = { bridges: [], subnets: [], ports };
    for (const id of r.stdout.split('\n').filter(Boolean)) {
      const n = await inspect(id);
      assert.equal(n.Attachable, true, 'compose creates its networks attachable, and inspect says so');
      facts.bridges.push(n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
      facts.subnets.push(n.IPAM.Config[0].Subnet);
    }
    return facts;
  };
  // Nothing of the project left in berthd or on the host.
  const assertNothingLeft = async (project: string, facts: NetFacts) => {
    const label = `label=com.docker.compose.project=${project}`;
    assert.equal((await docker(d, 'ps', '-a', '-q', '--filter', label)).stdout.trim(), '', 'no container of the project');
    assert.equal((await docker(d, 'network', 'ls', '-q', '--filter', label)).stdout.trim(), '', 'no network of the project');
    assert.equal((await docker(d, 'volume', 'ls', '-q', '--filter', label)).stdout.trim(), '', 'no volume of the project');
    assert.equal((await docker(d, 'ps', '-a', '-q')).stdout.trim(), '', 'no container at all');
    for (const b of facts.bridges) {
      const r = await run('ip', ['link', 'show', b], process.env);
      assert.notEqual(r.code, 0, `bridge ${b} is gone`);
    }
    const rules = (await run('iptables-save', [], process.env)).stdout.split('\n').filter((l) => l.startsWith('-A'));
    for (const s of facts.subnets) assert.deepEqual(rules.filter((l) => l.includes(s)), [], `no rule for ${s}`);
    for (const b of facts.bridges) assert.deepEqual(rules.filter((l) => l.includes(` ${b} `) || l.endsWith(` ${b}`)), [], `no rule for ${b}`);
    for (const p of facts.ports) assert.deepEqual(rules.filter((l) => new RegExp(`--dports? ${p}\\b`).test(l)), [], `no rule for port ${p}`);
    // Only the default bridge's anchor and the pool of pre-wired namespaces stay.
    const kept = (m: string) => /\/netns\/(anchor|pool)-/.test(m);
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
    assert.deepEqual(mounts.filter((m) => m.startsWith(d.base + '/') && !kept(m)), [], 'no container mounts left');
    const netnsDir = path.join(d.execRoot, 'netns');
    const netns = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [];
    const anchors = netns.filter((n) => n.startsWith('anchor-'));
    assert.ok(anchors.length <= 1, `only the default bridge's anchor: ${anchors.join(' ')}`);
    assert.deepEqual(netns.filter((n) => !kept(`/netns/${n}`)), []);
    const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; }
    });
    assert.deepEqual(procs.filter((c) => c.includes(d.base + '/') && /(^|\/)(conmon|runc|crun|berth-logger)\0/.test(c)), [], 'no shim left');
  };

  it('web-api-db: builds, two networks, a volume, env files, a published port; ps, logs -f, exec, run --rm, restart, scale, recreate only what changed, down -v', async () => {
    const P = 'wad';
    const up = await ok(compose('web-api-db', P, ['up', '-d']), 'up -d');
    void up;

    // ps: three services up, web's port published on 127.0.0.1.
    const ps = await ok(compose('web-api-db', P, ['ps']), 'ps');
    for (const s of ['wad_web_1', 'wad_api_1', 'wad_db_1']) assert.match(ps, new RegExp(`${s} .* Up `), ps);
    const hostPort = (await ok(compose('web-api-db', P, ['port', 'web', '8080']), 'port')).trim();
    assert.match(hostPort, /^127\.0\.0\.1:\d+$/);

    // From the host through the published port: the page the build's ARG wrote.
    const page = await until('web answers on its published port', async () => httpGet(hostPort));
    assert.equal(page.status, 200);
    assert.equal(page.body.trim(), 'hello-from-web');
    // The build's label reached the image (build.labels).
    assert.equal((await inspect('wad_web')).Config.Labels['berth.test'], 'web-api-db');

    // Between services, by service name and by alias, on "front": api's CGI
    // sees its env_file and environment.
    const exec = (svc: string, ...cmd: string[]) => compose('web-api-db', P, ['exec', '-T', svc, ...cmd]);
    const hello = await until('web reaches api by name', async () => {
      const r = await exec('web', 'wget', '-qO-', 'http://api/cgi-bin/hello');
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(hello.trim(), 'api says pong extra');
    assert.equal((await ok(exec('web', 'wget', '-qO-', 'http://api.internal/cgi-bin/hello'), 'alias')).trim(), 'api says pong extra');
    // On "back": api reaches db; web (not on back) cannot resolve it.
    const dbSays = await until('api reaches db', async () => {
      const r = await exec('api', 'sh', '-c', 'nc db 5432 </dev/null');
      return r.code === 0 && r.stdout.includes('started') ? r.stdout : undefined;
    });
    assert.match(dbSays, /^started \d+$/m);
    const cross = await exec('web', 'nslookup', 'db');
    assert.notEqual(cross.code, 0, `web is not on db's network: ${cross.stdout}`);
    // env_file.
    assert.match(await ok(exec('web', 'env'), 'exec env'), /^WEB_MODE=production$/m);

    // logs shows db's output; logs -f follows it and ends when db stops.
    assert.match(await ok(compose('web-api-db', P, ['logs', 'db']), 'logs'), /db_1 +\| db ready/);
    const follow = spawn('docker-compose', ['--ansi', 'never', '-f', path.join(FIXTURES, 'web-api-db', 'docker-compose.yml'), '-p', P, 'logs', '-f', '--no-color', 'db'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (c) => (followed += c));
    const followEnded = new Promise<number | null>((r) => follow.on('close', r));
    try {
      await until('logs -f shows db ready', async () => (followed.includes('db ready') ? true : undefined));
      await ok(compose('web-api-db', P, ['stop', 'db']), 'stop db');
      const code = await Promise.race([followEnded, sleep(60_000).then(() => 'still running')]);
      assert.equal(code, 0, `logs -f ends when db stops:\n${followed}`);
    } finally {
      follow.kill('SIGKILL');
    }
    await ok(compose('web-api-db', P, ['start', 'db']), 'start db');

    // run --rm: a one-off container on db's volume, gone afterwards.
    const oneOff = await ok(compose('web-api-db', P, ['run', '--rm', '-T', 'db', 'cat', '/data/log']), 'run --rm');
    assert.match(oneOff, /^started \d+$/m);
    const started = oneOff.split('\n').filter((l) => l.startsWith('started')).length;
    assert.ok(started >= 2, `db started twice on its volume: ${oneOff}`);
    assert.equal((await docker(d, 'ps', '-a', '-q', '--filter', 'label=com.docker.compose.oneoff=True')).stdout.trim(), '', 'the one-off container is removed');

    // restart: same container, started again.
    const [apiId] = await ids(P, 'api');
    const startedAt = (await inspect(apiId)).State.StartedAt;
    await ok(compose('web-api-db', P, ['restart', 'api']), 'restart');
    const afterRestart = await inspect(apiId);
    assert.equal(afterRestart.State.Running, true);
    assert.notEqual(afterRestart.State.StartedAt, startedAt);

    // scale: three api replicas behind one name.
    await ok(compose('web-api-db', P, ['up', '-d', '--scale', 'api=3']), 'up --scale api=3');
    assert.equal((await ids(P, 'api')).length, 3);
    const addrs = await until('api resolves to three addresses', async () => {
      const r = await exec('web', 'nslookup', 'api');
      const a = [...r.stdout.split('Non-authoritative answer:').slice(1).join('').matchAll(/Address: (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]);
      return new Set(a).size === 3 ? a : undefined;
    });
    assert.equal(new Set(addrs).size, 3);
    await ok(compose('web-api-db', P, ['up', '-d', '--scale', 'api=1']), 'scale back to 1');
    assert.deepEqual(await ids(P, 'api'), [apiId], 'the first replica stays');

    // A second up -d with api's environment changed recreates api only.
    const before = { web: await ids(P, 'web'), api: await ids(P, 'api'), db: await ids(P, 'db') };
    const second = await compose('web-api-db', P, ['up', '-d'], { API_EXTRA: 'changed' });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /Recreating wad_api_1/);
    assert.deepEqual(await ids(P, 'web'), before.web, 'web is kept');
    assert.deepEqual(await ids(P, 'db'), before.db, 'db is kept');
    const newApi = await ids(P, 'api');
    assert.equal(newApi.length, 1);
    assert.notDeepEqual(newApi, before.api, 'api is recreated');
    const changed = await until('the new api answers', async () => {
      const r = await exec('web', 'wget', '-qO-', 'http://api/cgi-bin/hello');
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(changed.trim(), 'api says pong changed');
    // Nothing changed: nothing recreated.
    const third = await compose('web-api-db', P, ['up', '-d'], { API_EXTRA: 'changed' });
    assert.equal(third.code, 0, third.stderr);
    assert.doesNotMatch(third.stderr, /Recreating/);
    assert.deepEqual(await ids(P, 'api'), newApi);

    const facts = await netFacts(P, [hostPort.split(':')[1]]);
    assert.equal(facts.bridges.length, 2, 'two user networks');
    await ok(compose('web-api-db', P, ['down', '-v', '--rmi', 'local']), 'down -v');
    await assertNothingLeft(P, facts);
    assert.equal((await docker(d, 'image', 'inspect', 'wad_web')).code, 1, 'down --rmi local removed the built image');
  });

  it('multistage: a multi-stage build through docker-py\'s POST /build (build args, target, labels), served to the host', async () => {
    const P = 'ms';
    const env = { COMPOSE_DOCKER_CLI_BUILD: '0' };
    await ok(compose('multistage', P, ['build', '--no-cache'], env), 'build');
    // The "unused" stage (RUN false) is not built: the build succeeded.
    const img = await inspect('ms_app');
    assert.equal(img.Config.Labels['berth.test'], 'multistage');
    await ok(compose('multistage', P, ['up', '-d'], env), 'up -d');
    const hostPort = (await ok(compose('multistage', P, ['port', 'app', '8000']), 'port')).trim();
    const page = await until('app answers on its published port', async () => httpGet(hostPort));
    assert.equal(page.body.trim(), 'built-in-stage-one', 'the final stage holds what the builder stage made');
    assert.equal((await httpGet(hostPort, '/health')).body.trim(), 'ok');
    const facts = await netFacts(P, [hostPort.split(':')[1]]);
    await ok(compose('multistage', P, ['down', '-v', '--rmi', 'local']), 'down -v');
    await assertNothingLeft(P, facts);
  });

  it('healthgated: depends_on service_healthy starts app only once db is healthy', async () => {
    const P = 'hg';
    await ok(compose('healthgated', P, ['up', '-d']), 'up -d');
    const [dbId] = await ids(P, 'db');
    const [appId] = await ids(P, 'app');
    const db = await inspect(dbId);
    assert.equal(db.State.Health.Status, 'healthy', 'up -d returned with db healthy');
    const firstHealthy = db.State.Health.Log.find((l: { ExitCode: number }) => l.ExitCode === 0);
    assert.ok(firstHealthy, JSON.stringify(db.State.Health));
    const app = await inspect(appId);
    assert.ok(Date.parse(app.State.StartedAt) >= Date.parse(firstHealthy.End), `app started ${app.State.StartedAt}, db first healthy ${firstHealthy.End}`);
    // app reached db by name once it was up.
    const seen = await until('app has talked to db', async () => {
      const r = await compose('healthgated', P, ['exec', '-T', 'app', 'cat', '/tmp/seen']);
      return r.code === 0 && r.stdout.trim() ? r.stdout : undefined;
    });
    assert.equal(seen.trim(), 'db-ok');
    assert.match(await ok(compose('healthgated', P, ['ps']), 'ps'), /hg_db_1 .* Up \(healthy\)/);
    const facts = await netFacts(P);
    await ok(compose('healthgated', P, ['down', '-v']), 'down -v');
    await assertNothingLeft(P, facts);
  });

  it('bad-config: compose refuses the file with its message and creates nothing', async () => {
    const r = await compose('bad-config', 'bad', ['up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Service "broken" uses an undefined network "nowhere"/);
    await assertNothingLeft('bad', { bridges: [], subnets: [], ports: [] });
    assert.equal((await docker(d, 'network', 'ls', '-q', '--filter', 'type=custom')).stdout.trim(), '');
    assert.equal((await docker(d, 'volume', 'ls', '-q')).stdout.trim(), '');
  });
});
