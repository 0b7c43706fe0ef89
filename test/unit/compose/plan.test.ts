import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadProject } from '../../../src/compose/load';
import { createBody, inDependencyOrder, planService, serviceHash, type Existing } from '../../../src/compose/plan';
import { Runner, type Api, type Hooks } from '../../../src/compose/run';

function project(yaml: string, name = 'p') {
  return loadProject({ cwd: '/w', env: {}, projectName: name, readFile: (f) => (f === '/w/compose.yaml' ? yaml : undefined), exists: (f) => f === '/w/compose.yaml' });
}

const APP = `
services:
  db:
    image: db
    volumes: [data:/data, /anon, ./conf:/conf:ro]
    healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 3}
    deploy: {resources: {limits: {memory: 64m, cpus: "0.5"}, reservations: {memory: 32m}}}
    networks: [back]
  api:
    image: api
    depends_on: {db: {condition: service_healthy}}
    networks: {back: {}, front: {aliases: [backend], priority: 10}}
    restart: on-failure:3
    stop_grace_period: 1m30s
    init: true
    user: "1000"
  web:
    image: web
    depends_on: [api]
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    expose: ["7000-7001"]
    secrets: [s]
    networks: [front]
networks: {front: {}, back: {}}
volumes: {data: {}}
secrets: {s: {file: ./s.txt}}
`;

const c = (n: number, hash: string, state = 'running', image = 'img'): Existing => ({
  Id: `id${n}`, Names: [`/p-web-${n}`], State: state, ImageID: image,
  Labels: { 'com.docker.compose.container-number': String(n), 'com.docker.compose.config-hash': hash },
});

describe('createBody', () => {
  it('makes docker compose v2\'s container for a service', () => {
    const p = project(APP);
    const db = createBody(p, p.services.db, { number: 1, hash: 'h' }).body as any;
    assert.equal(db.Image, 'db');
    assert.equal(db.Labels['com.docker.compose.project'], 'p');
    assert.equal(db.Labels['com.docker.compose.service'], 'db');
    assert.equal(db.Labels['com.docker.compose.container-number'], '1');
    assert.equal(db.Labels['com.docker.compose.oneoff'], 'False');
    assert.equal(db.Labels['com.docker.compose.config-hash'], 'h');
    assert.equal(db.Labels['com.docker.compose.project.working_dir'], '/w');
    assert.equal(db.Labels['com.docker.compose.project.config_files'], '/w/compose.yaml');
    assert.deepEqual(db.HostConfig.Mounts, [
      { Type: 'volume', Target: '/data', Source: 'p_data' },
      { Type: 'volume', Target: '/anon' },
      { Type: 'bind', Target: '/conf', ReadOnly: true, Source: '/w/conf', BindOptions: { CreateMountpoint: true } },
    ]);
    assert.deepEqual(db.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, Retries: 3 });
    assert.equal(db.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(db.HostConfig.NanoCpus, 5e8);
    assert.equal(db.HostConfig.MemoryReservation, 32 * 1024 * 1024);
    assert.equal(db.HostConfig.NetworkMode, 'p_back');

    const api = createBody(p, p.services.api, { number: 1, hash: 'h' }).body as any;
    assert.equal(api.Labels['com.docker.compose.depends_on'], 'db:service_healthy:false');
    // The primary network is the one of highest priority.
    assert.equal(api.HostConfig.NetworkMode, 'p_front');
    assert.deepEqual(api.NetworkingConfig.EndpointsConfig, { p_front: { Aliases: ['api', 'backend'] }, p_back: { Aliases: ['api'] } });
    assert.deepEqual(api.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(api.StopTimeout, 90);
    assert.equal(api.HostConfig.Init, true);
    assert.equal(api.User, '1000');

    const { name, body } = createBody(p, p.services.web, { number: 2, hash: 'h' });
    const web = body as any;
    assert.equal(name, 'p-web-2');
    assert.deepEqual(web.HostConfig.PortBindings, {
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
      '9000/udp': [{ HostIp: '', HostPort: '9000' }],
      '9001/udp': [{ HostIp: '', HostPort: '9001' }],
    });
    assert.deepEqual(Object.keys(web.ExposedPorts).sort(), ['7000/tcp', '7001/tcp', '80/tcp', '9000/udp', '9001/udp']);
    assert.deepEqual(web.HostConfig.Mounts, [{ Type: 'bind', Source: '/w/s.txt', Target: '/run/secrets/s', ReadOnly: true }]);
  });
});

describe('planService', () => {
  const p = project('services:\n  web: {image: web, scale: 2}\n');
  const svc = p.services.web;
  it('keeps, starts, recreates, creates and removes', () => {
    assert.deepEqual(planService(svc, [], 'h', 'img', {}).map((a) => `${a.kind}:${'number' in a ? a.number : ''}`), ['create:1', 'create:2']);
    assert.deepEqual(planService(svc, [c(1, 'h'), c(2, 'h', 'exited')], 'h', 'img', {}).map((a) => a.kind), ['keep', 'start']);
    assert.deepEqual(planService(svc, [c(1, 'old'), c(2, 'h')], 'h', 'img', {}).map((a) => a.kind), ['recreate', 'keep']);
    // Another image under the same name recreates too; --no-recreate keeps everything.
    assert.deepEqual(planService(svc, [c(1, 'h', 'running', 'other'), c(2, 'h')], 'h', 'img', {}).map((a) => a.kind), ['recreate', 'keep']);
    assert.deepEqual(planService(svc, [c(1, 'old'), c(2, 'old')], 'h', 'img', { noRecreate: true }).map((a) => a.kind), ['keep', 'keep']);
    assert.deepEqual(planService(svc, [c(1, 'h'), c(2, 'h')], 'h', 'img', { forceRecreate: true }).map((a) => a.kind), ['recreate', 'recreate']);
    // Scaled down: the highest numbers go; a gap is filled.
    assert.deepEqual(planService(svc, [c(1, 'h'), c(2, 'h'), c(3, 'h')], 'h', 'img', {}).map((a) => `${a.kind}:${'number' in a ? a.number : a.container.Id}`), ['keep:1', 'keep:2', 'remove:id3']);
    assert.deepEqual(planService(svc, [c(2, 'h')], 'h', 'img', {}).map((a) => `${a.kind}:${'number' in a ? a.number : ''}`), ['keep:2', 'create:1']);
  });

  it('hashes what changes a container, not its scale', () => {
    const a = project('services:\n  web: {image: web, scale: 2, environment: {A: "1"}}\n').services.web;
    const b = project('services:\n  web: {image: web, scale: 3, environment: {A: "1"}}\n').services.web;
    const c2 = project('services:\n  web: {image: web, scale: 2, environment: {A: "2"}}\n').services.web;
    assert.equal(serviceHash(a), serviceHash(b));
    assert.notEqual(serviceHash(a), serviceHash(c2));
  });
});

describe('inDependencyOrder', () => {
  it('runs dependencies first, in parallel where it can, and the reverse for stopping', async () => {
    const p = project('services:\n  a: {image: x, depends_on: [b, c]}\n  b: {image: x, depends_on: [d]}\n  c: {image: x, depends_on: [d]}\n  d: {image: x}\n');
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const running = inDependencyOrder(p, ['a', 'b', 'c', 'd'], (n) => new Promise<void>((r) => {
      log.push(`start ${n}`);
      gates.set(n, () => {
        log.push(`end ${n}`);
        r();
      });
    }));
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    assert.deepEqual(log, ['start d']);
    gates.get('d')!();
    await tick();
    assert.deepEqual(log.slice(2).sort(), ['start b', 'start c']);
    gates.get('b')!();
    await tick();
    assert.ok(!log.includes('start a'));
    gates.get('c')!();
    await tick();
    gates.get('a')!();
    await running;
    assert.equal(log.at(-2), 'start a');
    const rev: string[] = [];
    await inDependencyOrder(p, ['a', 'b', 'c', 'd'], async (n) => void rev.push(n), true);
    assert.equal(rev[0], 'a');
    assert.equal(rev.at(-1), 'd');
  });
});

// A fake Engine API: containers in memory, health given per inspect call.
class FakeApi implements Api {
  calls: string[] = [];
  containers = new Map<string, { Id: string; Names: string[]; State: string; Labels: Record<string, string>; ImageID: string; health?: string[]; exit?: number }>();
  networks = new Set<string>();
  volumes = new Set<string>();
  health: Record<string, string[]> = {};
  n = 0;
  async get(path: string, query?: Record<string, unknown>): Promise<any> {
    this.calls.push(`GET ${path}`);
    if (path === '/containers/json') {
      const label = (JSON.parse(String(query!.filters)).label as string[]).map((l) => l.split('='));
      return [...this.containers.values()].filter((c) => label.every(([k, v]) => c.Labels[k] === v));
    }
    let m = /^\/containers\/(\w+)\/json$/.exec(path);
    if (m) {
      const c = this.containers.get(m[1])!;
      const seq = this.health[c.Labels['com.docker.compose.service']];
      const h = seq ? (seq.length > 1 ? seq.shift()! : seq[0]) : undefined;
      return { State: { Status: c.State, ExitCode: c.exit ?? 0, Health: h ? { Status: h } : undefined }, Config: {} };
    }
    m = /^\/(networks|volumes)\/(.+)$/.exec(path);
    if (m) {
      if ((m[1] === 'networks' ? this.networks : this.volumes).has(decodeURIComponent(m[2]))) return { Labels: { 'com.docker.compose.project': 'p' } };
      throw Object.assign(new Error('not found'), { status: 404 });
    }
    if (path.startsWith('/images/')) return { Id: 'img' };
    throw new Error(`unexpected GET ${path}`);
  }
  async json(method: string, path: string, opts: { query?: Record<string, any>; body?: any } = {}): Promise<any> {
    this.calls.push(`${method} ${path}${opts.query?.name ? ` ${opts.query.name}` : ''}`);
    if (path === '/networks/create') this.networks.add(opts.body.Name);
    if (path === '/volumes/create') this.volumes.add(opts.body.Name);
    if (path === '/containers/create') {
      const Id = `c${++this.n}`;
      this.containers.set(Id, { Id, Names: [`/${opts.query!.name}`], State: 'created', Labels: opts.body.Labels, ImageID: 'img' });
      return { Id };
    }
    return {};
  }
  async call(method: string, path: string): Promise<number> {
    this.calls.push(`${method} ${path}`);
    const m = /^\/containers\/(\w+)\/start$/.exec(path);
    if (m) this.containers.get(m[1])!.State = 'running';
    return 204;
  }
}

function hooks(log: string[]): Hooks {
  return {
    report: (kind, name, status) => void log.push(`${kind} ${name} ${status}`),
    warn: (t) => void log.push(`warn ${t}`),
    build: async () => undefined,
    pull: async () => undefined,
    sleep: async () => undefined,
  };
}

describe('Runner.up', () => {
  it('creates networks and volumes, then starts db, waits for it to be healthy, then api and web', async () => {
    const p = project(APP);
    const api = new FakeApi();
    api.health.db = ['starting', 'starting', 'healthy'];
    const log: string[] = [];
    await new Runner(api, p, hooks(log)).up(['db', 'api', 'web'], {});
    assert.ok(api.networks.has('p_front') && api.networks.has('p_back') && api.volumes.has('p_data'));
    const starts = log.filter((l) => / (Started|Healthy)$/.test(l));
    assert.deepEqual(starts, ['Container p-db-1 Started', 'Container p-db-1 Healthy', 'Container p-api-1 Started', 'Container p-web-1 Started']);
    // A second up changes nothing.
    const before = api.calls.length;
    const log2: string[] = [];
    await new Runner(api, p, hooks(log2)).up(['db', 'api', 'web'], {});
    assert.ok(!api.calls.slice(before).some((c) => c.startsWith('POST /containers/create') || c.endsWith('/start')), api.calls.slice(before).join('\n'));
  });

  it('fails when a dependency turns unhealthy or does not complete successfully, and starts nothing after it', async () => {
    const p = project(APP);
    const api = new FakeApi();
    api.health.db = ['starting', 'unhealthy'];
    await assert.rejects(new Runner(api, p, hooks([])).up(['db', 'api', 'web'], {}), /dependency failed to start: container p-db-1 is unhealthy/);
    assert.equal([...api.containers.values()].filter((c) => c.State === 'running').length, 1);

    const q = project('services:\n  init: {image: x}\n  app: {image: x, depends_on: {init: {condition: service_completed_successfully}}}\n');
    const api2 = new FakeApi();
    const origCall = api2.call.bind(api2);
    api2.call = async (m, path) => {
      const r = await origCall(m, path);
      const id = /^\/containers\/(\w+)\/start$/.exec(path)?.[1];
      if (id && api2.containers.get(id)!.Labels['com.docker.compose.service'] === 'init') Object.assign(api2.containers.get(id)!, { State: 'exited', exit: 3 });
      return r;
    };
    await assert.rejects(new Runner(api2, q, hooks([])).up(['init', 'app'], {}), /service "init" didn't complete successfully: exit 3/);
  });
});
