import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolateString } from '../../../src/compose/interpolate';
import { parseDotenv } from '../../../src/compose/dotenv';
import { loadProject, projectToYaml, type LoadOptions } from '../../../src/compose/load';
import { ComposeError } from '../../../src/compose/errors';

// A project in a virtual directory: file name → text.
function load(files: Record<string, string>, opts: Partial<LoadOptions> = {}) {
  const fsMap = new Map(Object.entries(files).map(([k, v]) => [k.startsWith('/') ? k : `/p/app/${k}`, v]));
  return loadProject({
    cwd: '/p/app',
    env: {},
    readFile: (f) => fsMap.get(f),
    exists: (f) => fsMap.has(f),
    ...opts,
  });
}

function fails(fn: () => unknown, path: string, re?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ComposeError, String(e));
    assert.equal(e.path, path, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

describe('interpolation', () => {
  const env: Record<string, string> = { A: 'a', E: '' };
  const look = (n: string) => env[n];
  it('substitutes the spec forms', () => {
    assert.equal(interpolateString('$A ${A} x$A-y', look), 'a a xa-y');
    assert.equal(interpolateString('${U:-def} ${E:-def} ${E-def} ${U-def}', look), 'def def  def');
    assert.equal(interpolateString('${A:+alt} ${E:+alt} ${E+alt} ${U+alt}', look), 'alt  alt ');
    assert.equal(interpolateString('${U:-${A}-${V:-w}}', look), 'a-w');
    assert.equal(interpolateString('$$A $${A} $', look), '$A ${A} $');
  });
  it('fails on required variables with the key path', () => {
    assert.throws(() => interpolateString('${U:?need U}', look, 'services.web.image'), /services.web.image: required variable U is missing a value: need U/);
    assert.throws(() => interpolateString('${E:?}', look), /required variable E/);
    assert.equal(interpolateString('${E?x}', look), '');
    assert.throws(() => interpolateString('${A', look), /unterminated/);
    assert.throws(() => interpolateString('${A!}', look), /invalid interpolation/);
  });
});

describe('.env files', () => {
  it('reads comments, quotes, export, and interpolates', () => {
    const d = parseDotenv('# c\nexport A=1\nB="x\\ny $A"\nC=\'lit $A\'\nD=v # comment\nE\n F = sp \n', '.env', (n) => (n === 'E' ? 'fromenv' : undefined));
    assert.deepEqual(d, { A: '1', B: 'x\ny 1', C: 'lit $A', D: 'v', E: 'fromenv', F: 'sp' });
  });
});

describe('loadProject', () => {
  it('interpolates from .env with the process environment winning, and $$', () => {
    const p = load({
      'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG}"\n    command: echo $$HOME ${MSG:-hi}\n    environment:\n      - X=${X}\n',
      '.env': 'TAG=1.36\nX=fromdotenv\nMSG=dot\n',
    }, { env: { X: 'fromenv' } });
    assert.equal(p.name, 'app');
    assert.equal(p.services.web.image, 'busybox:1.36');
    assert.deepEqual(p.services.web.command, ['echo', '$HOME', 'dot']);
    assert.deepEqual(p.services.web.environment, { X: 'fromenv' });
  });

  it('reads --env-file instead of .env', () => {
    const p = load({
      'compose.yaml': 'services:\n  web:\n    image: ${IMG}\n',
      '.env': 'IMG=fromdotenv\n',
      'other.env': 'IMG=fromother\n',
    }, { envFiles: ['other.env'] });
    assert.equal(p.services.web.image, 'fromother');
    assert.throws(() => load({ 'compose.yaml': 'services: {}\n' }, { envFiles: ['nope.env'] }), /couldn't find env file/);
  });

  it('finds compose.yaml and its override, and takes the name from the file, -p or COMPOSE_PROJECT_NAME', () => {
    const files = {
      'compose.yaml': 'name: named\nservices:\n  web:\n    image: busybox\n',
      'compose.override.yaml': 'services:\n  web:\n    environment: {A: "1"}\n',
    };
    const p = load(files);
    assert.equal(p.name, 'named');
    assert.deepEqual(p.config_files, ['/p/app/compose.yaml', '/p/app/compose.override.yaml']);
    assert.deepEqual(p.services.web.environment, { A: '1' });
    assert.equal(load(files, { projectName: 'other' }).name, 'other');
    assert.equal(load(files, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).name, 'fromenv');
    assert.throws(() => load(files, { projectName: 'Bad Name' }), /invalid project name/);
  });

  it('merges several -f files by the spec rules', () => {
    const p = load({
      'a.yml': `
services:
  web:
    image: busybox
    command: ["a", "b"]
    environment: [A=1, B=2]
    labels: {l1: x}
    ports: ["8080:80"]
    expose: ["1"]
    volumes: ["data:/data", "./src:/src"]
    healthcheck: {test: ["CMD", "a"], interval: 5s}
    depends_on: [db]
    networks: {front: {aliases: [w]}}
    dns: [1.1.1.1]
  db:
    image: busybox
networks: {front: {}}
volumes: {data: {}}
`,
      'b.yml': `
services:
  web:
    command: c
    environment: {B: "3", C: "4"}
    labels: [l2=y]
    ports: ["9090:90"]
    expose: ["1", "2"]
    volumes: [{type: volume, source: other, target: /data}]
    healthcheck: {timeout: 2s}
    depends_on: {db: {condition: service_healthy}}
    networks: {front: {ipv4_address: 10.0.0.5}}
    dns: !override [8.8.8.8]
volumes: {other: {}}
`,
    }, { files: ['a.yml', 'b.yml'] });
    const w = p.services.web;
    assert.deepEqual(w.command, ['c']);
    assert.deepEqual(w.environment, { A: '1', B: '3', C: '4' });
    assert.deepEqual(w.labels, { l1: 'x', l2: 'y' });
    assert.deepEqual(w.ports.map((x) => `${x.published}:${x.target}`), ['8080:80', '9090:90']);
    assert.deepEqual(w.expose, ['1', '2']);
    assert.deepEqual(w.volumes.map((v) => `${v.source}:${v.target}`), ['other:/data', '/p/app/src:/src']);
    assert.deepEqual(w.healthcheck, { test: ['CMD', 'a'], interval: '5s', timeout: '2s' });
    assert.equal(w.depends_on.db.condition, 'service_healthy');
    assert.deepEqual(w.networks, { front: { aliases: ['w'], ipv4_address: '10.0.0.5' } });
    assert.deepEqual(w.dns, ['8.8.8.8']);
    assert.equal(p.networks.front.name, 'app_front');
    assert.equal(p.volumes.other.name, 'app_other');
  });

  it('drops a key with !reset', () => {
    const p = load({
      'a.yml': 'services:\n  web:\n    image: busybox\n    ports: ["80"]\n    environment: {A: "1"}\n',
      'b.yml': 'services:\n  web:\n    ports: !reset []\n    environment: !reset {}\n',
    }, { files: ['a.yml', 'b.yml'] });
    assert.deepEqual(p.services.web.ports, []);
    assert.deepEqual(p.services.web.environment, {});
  });

  it('normalises the short syntaxes', () => {
    const p = load({
      'compose.yaml': `
services:
  web:
    image: busybox
    ports: ["80", "8080:80/udp", "127.0.0.1:9000-9001:9000-9001", "[::1]:81:81", 82, {target: 83, published: "8083"}]
    volumes: ["/anon", "data:/data:ro,nocopy", "./rel:/rel:ro", "~/h:/h"]
    tmpfs: /run
    environment: [A=1, B, C=]
    entrypoint: ["/bin/sh", "-c"]
    command: 'echo "a b" c\\ d'
    healthcheck: {test: "curl x"}
    stop_grace_period: 1m30s
    mem_limit: 64m
    extra_hosts: ["h:1.2.3.4", "g=5.6.7.8"]
volumes: {data: {}}
`,
    }, { env: { HOME: '/home/u' } });
    const w = p.services.web;
    assert.deepEqual(w.ports, [
      { mode: 'ingress', target: 80, protocol: 'tcp' },
      { mode: 'ingress', target: 80, published: '8080', protocol: 'udp' },
      { mode: 'ingress', target: 9000, published: '9000', protocol: 'tcp', host_ip: '127.0.0.1' },
      { mode: 'ingress', target: 9001, published: '9001', protocol: 'tcp', host_ip: '127.0.0.1' },
      { mode: 'ingress', target: 81, published: '81', protocol: 'tcp', host_ip: '::1' },
      { mode: 'ingress', target: 82, protocol: 'tcp' },
      { mode: 'ingress', target: 83, published: '8083', protocol: 'tcp' },
    ]);
    assert.deepEqual(w.volumes, [
      { type: 'volume', target: '/anon' },
      { type: 'volume', source: 'data', target: '/data', read_only: true, volume: { nocopy: true } },
      { type: 'bind', source: '/p/app/rel', target: '/rel', read_only: true, bind: { create_host_path: true } },
      { type: 'bind', source: '/home/u/h', target: '/h', bind: { create_host_path: true } },
    ]);
    assert.deepEqual(w.tmpfs, ['/run']);
    assert.deepEqual(w.environment, { A: '1', B: null, C: '' });
    assert.deepEqual(w.command, ['echo', 'a b', 'c d']);
    assert.deepEqual(w.healthcheck?.test, ['CMD-SHELL', 'curl x']);
    assert.equal(w.mem_limit, 64 * 1024 * 1024);
    assert.deepEqual(w.extra_hosts, { h: '1.2.3.4', g: '5.6.7.8' });
    assert.deepEqual(w.networks, { default: null });
    assert.equal(p.networks.default.name, 'app_default');
    assert.deepEqual(w.depends_on, {});
  });

  it('reads env_file under environment', () => {
    const p = load({
      'compose.yaml': 'services:\n  web:\n    image: busybox\n    env_file: [a.env, {path: missing.env, required: false}]\n    environment: {B: over}\n',
      'a.env': 'A=1\nB=2\n',
    });
    assert.deepEqual(p.services.web.environment, { A: '1', B: 'over' });
    fails(() => load({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    env_file: nope.env\n' }), 'services.web.env_file[0]', /not found/);
  });

  it('resolves extends, in the file and from another file', () => {
    const p = load({
      'compose.yaml': `
services:
  base:
    image: busybox
    environment: {A: "1"}
    ports: ["80"]
  web:
    extends: base
    environment: {B: "2"}
  other:
    extends: {file: common/common.yml, service: c}
    command: ["x"]
`,
      'common/common.yml': 'services:\n  c:\n    image: alpine\n    build: ./ctx\n    volumes: ["./d:/d"]\n',
    });
    assert.equal(p.services.web.image, 'busybox');
    assert.deepEqual(p.services.web.environment, { A: '1', B: '2' });
    assert.equal(p.services.web.ports.length, 1);
    assert.equal(p.services.other.image, 'alpine');
    assert.equal(p.services.other.build?.context, '/p/app/common/ctx');
    assert.equal(p.services.other.volumes[0].source, '/p/app/common/d');
    assert.deepEqual(p.services.other.command, ['x']);
    fails(() => load({ 'compose.yaml': 'services:\n  a: {image: x, extends: b}\n  b: {image: x, extends: a}\n' }), 'services.a.extends', /circular/);
    fails(() => load({ 'compose.yaml': 'services:\n  a: {image: x, extends: nope}\n' }), 'services.a.extends', /not found/);
  });

  it('includes other projects with their own directories and .env', () => {
    const p = load({
      'compose.yaml': 'include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n',
      'sub/compose.yaml': 'services:\n  db:\n    image: "db:${V}"\n    volumes: ["./data:/data"]\n',
      'sub/.env': 'V=7\n',
    });
    assert.equal(p.services.db.image, 'db:7');
    assert.equal(p.services.db.volumes[0].source, '/p/app/sub/data');
    fails(() => load({
      'compose.yaml': 'include: [sub.yaml]\nservices:\n  db: {image: other}\n',
      'sub.yaml': 'services:\n  db: {image: db}\n',
    }), 'services.db', /conflicts/);
  });

  it('leaves out services of profiles that are not enabled', () => {
    const files = { 'compose.yaml': 'services:\n  web: {image: busybox}\n  debug: {image: busybox, profiles: [dbg]}\n' };
    assert.deepEqual(Object.keys(load(files).services), ['web']);
    assert.deepEqual(Object.keys(load(files).disabled), ['debug']);
    assert.deepEqual(Object.keys(load(files, { profiles: ['dbg'] }).services), ['web', 'debug']);
    assert.deepEqual(Object.keys(load(files, { env: { COMPOSE_PROFILES: 'dbg' } }).services), ['web', 'debug']);
    fails(() => load({ 'compose.yaml': 'services:\n  web: {image: x, depends_on: [debug]}\n  debug: {image: x, profiles: [dbg]}\n' }), 'services.web.depends_on', /disabled/);
  });

  it('refuses bad files with the path to the bad key', () => {
    const svc = (body: string) => ({ 'compose.yaml': `services:\n  web:\n    image: busybox\n${body}` });
    fails(() => load(svc('    ports: ["80", "x:y:z:w"]\n')), 'services.web.ports[1]', /too many colons/);
    fails(() => load(svc('    ports: ["80", "abc"]\n')), 'services.web.ports[1]', /invalid port/);
    fails(() => load(svc('    porst: ["80"]\n')), 'services.web.porst', /additional property porst is not allowed/);
    fails(() => load(svc('    devices: ["/dev/x"]\n')), 'services.web.devices', /not supported by berth compose/);
    fails(() => load(svc('    volumes: ["data:rel"]\n')), 'services.web.volumes[0]', /absolute/);
    fails(() => load(svc('    volumes: ["data:/d"]\n')), 'services.web.volumes[0]', /undefined volume data/);
    fails(() => load(svc('    depends_on: {db: {condition: started}}\n')), 'services.web.depends_on.db.condition');
    fails(() => load(svc('    depends_on: [db]\n')), 'services.web.depends_on', /undefined service "db"/);
    assert.deepEqual(Object.keys(load(svc('    depends_on: {db: {condition: service_started, required: false}}\n')).services), ['web']);
    fails(() => load(svc('    networks: [back]\n')), 'services.web.networks.back', /undefined network/);
    fails(() => load(svc('    healthcheck: {interval: 5 parsecs}\n')), 'services.web.healthcheck.interval', /invalid duration/);
    fails(() => load(svc('    restart: sometimes\n')), 'services.web.restart');
    fails(() => load(svc('    environment: 5\n')), 'services.web.environment');
    fails(() => load(svc('    deploy: {resources: {limits: {memory: lots}}}\n')), 'services.web.deploy.resources.limits.memory');
    fails(() => load({ 'compose.yaml': 'services:\n  web: {build: .}\n  db: {}\n' }), 'services.db', /neither an image nor a build/);
    fails(() => load({ 'compose.yaml': 'servics: {}\n' }), 'servics', /additional property/);
    fails(() => load({ 'compose.yaml': 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n' }), 'services.a.depends_on', /cycle/);
    fails(() => load({ 'compose.yaml': 'services:\n  web:\n    image: ${NOPE:?set NOPE}\n' }), 'services.web.image', /set NOPE/);
    assert.throws(() => load({ 'compose.yaml': 'services:\n  web: [\n' }), /compose.yaml/);
  });

  it('prints the resolved model', () => {
    const p = load({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n' });
    const y = projectToYaml(p);
    assert.match(y, /^name: app\nservices:\n {2}web:\n/);
    assert.match(y, /published: "8080"/);
    assert.match(y, /networks:\n {2}default:\n {4}name: app_default/);
  });
});
