// The create request berth sends for run/create flags is the docker CLI's:
// both create a container through the same recording server, and every
// field berth sends must be docker's, while docker's other fields must be
// zero values (which ask for nothing). Skipped when `docker` is not on PATH.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth } from './berth';

const haveDocker = spawnSync('docker', ['--version']).status === 0;

interface Created {
  query: Record<string, string>;
  body: Record<string, unknown>;
}

// Maps whose keys are the content: empty is zero, {"x": {}} is not.
const MAPS = new Set(['EndpointsConfig', 'ExposedPorts', 'Labels', 'Annotations', 'Volumes']);

// Zero values, and the values docker sends for "not set".
function isZero(v: unknown, key = ''): boolean {
  if (v === null || v === '' || v === 0 || v === false) return true;
  if (key === 'MemorySwappiness' && v === -1) return true;
  if (Array.isArray(v)) return v.every((x) => x === 0) && (key === 'ConsoleSize' || v.length === 0);
  if (typeof v === 'object') {
    if (key === 'RestartPolicy') return (v as { Name?: string }).Name === 'no';
    if (MAPS.has(key)) return Object.keys(v as object).length === 0;
    return Object.entries(v as object).every(([k, x]) => isZero(x, k));
  }
  return false;
}

// What docker sent that berth did not, less zero values; and fields where
// berth differs. A map must have docker's keys.
function compare(docker: unknown, ours: unknown, where: string, problems: string[]): void {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(ours) && isObject(docker)) {
    const map = MAPS.has(where.split('.').pop()!);
    for (const k of new Set([...Object.keys(docker), ...Object.keys(ours)])) {
      if (!(k in ours)) {
        if (map || !isZero(docker[k], k)) problems.push(`${where}.${k}: berth sends nothing, docker ${JSON.stringify(docker[k])}`);
      } else if (!(k in docker)) {
        problems.push(`${where}.${k}: docker sends nothing, berth ${JSON.stringify(ours[k])}`);
      } else {
        compare(docker[k], ours[k], `${where}.${k}`, problems);
      }
    }
    return;
  }
  // docker passes -e values through a Go map (for its proxy settings), so
  // their order is random.
  const sorted = (v: unknown) => (where === 'body.Env' && Array.isArray(v) ? [...v].sort() : v);
  try {
    assert.deepStrictEqual(sorted(ours), sorted(docker));
  } catch {
    problems.push(`${where}: berth ${JSON.stringify(ours)}, docker ${JSON.stringify(docker)}`);
  }
}

describe('run and create send what the docker CLI sends', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  let dir: string;
  let sock: string;
  let server: http.Server;
  let created: Created[] = [];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-create-compat-'));
    sock = path.join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        res.setHeader('Api-Version', '1.51');
        res.setHeader('Content-Type', 'application/json');
        if (url.pathname === '/_ping') return res.end('OK');
        if (url.pathname.endsWith('/containers/create')) {
          created.push({ query: Object.fromEntries(url.searchParams), body: JSON.parse(body) });
          res.writeHead(201);
          return res.end(JSON.stringify({ Id: 'c'.repeat(64), Warnings: [] }));
        }
        res.writeHead(404);
        res.end(JSON.stringify({ message: `not here: ${url.pathname}` }));
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    fs.writeFileSync(path.join(dir, 'env'), '# env\nFROM_FILE=1\nPASSED\nUNSET_IN_ENV\nSPACED= a b \n');
    fs.writeFileSync(path.join(dir, 'labels'), 'l1=v1\nBARE\nl2=a=b\n');
    fs.writeFileSync(path.join(dir, 'seccomp.json'), '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [\n    { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" }\n  ]\n}\n');
    env = { PATH: process.env.PATH, DOCKER_CONFIG: path.join(dir, 'config'), PASSED: 'from-env', BARE: 'x' };
  });

  after(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const docker = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile('docker', args, { env: { ...env, DOCKER_HOST: `unix://${sock}` } }, (err, _out, stderr) => (err ? reject(new Error(`docker ${args.join(' ')}: ${stderr}`)) : resolve()));
    });

  const cases: [string, string[]][] = [
    ['no flags', []],
    ['a command', ['busybox', 'sh', '-c', 'echo "hi there"']],
    ['environment', ['-e', 'A=1', '-e', 'PASSED', '-e', 'UNSET_HERE', '--env-file', '@/env']],
    ['labels', ['-l', 'a=b', '-l', 'c', '--label-file', '@/labels', '-l', 'l1=over']],
    ['host name, domain, user, workdir', ['-h', 'box', '--domainname', 'example.org', '-u', '1000:1000', '-w', '/tmp']],
    ['an empty entrypoint', ['--entrypoint', '']],
    ['an entrypoint', ['--entrypoint', '/bin/sh']],
    ['stop signal and timeout', ['--stop-signal', 'SIGUSR1', '--stop-timeout', '0']],
    ['exposed ports', ['--expose', '80', '--expose', '1000-1002/udp', '--expose', '53/']],
    ['-i', ['-i']],
    ['-a', ['-a', 'stdin', '-a', 'STDOUT']],
    ['-i -a stderr', ['-i', '-a', 'stderr']],
    ['--network none', ['--network', 'none']],
    ['--net host', ['--net', 'host']],
    ['--network=bridge', ['--network=bridge']],
    ['--network default', ['--network', 'default']],
    ['--rm --read-only --runtime', ['--rm', '--read-only', '--runtime', 'runc']],
    ['seccomp=unconfined', ['--security-opt', 'seccomp=unconfined']],
    ['a seccomp profile file', ['--security-opt', 'seccomp=@/seccomp.json']],
    ['annotations', ['--annotation', 'a=b', '--annotation', 'c', '--annotation', 'd=']],
    ['a name', ['--name', 'web']],
    ['namespaces of the host', ['--pid', 'host', '--ipc', 'host', '--uts', 'host', '--userns', 'host', '--cgroupns', 'private']],
    ['namespaces of another container', ['--network', 'container:pod', '--pid', 'container:pod', '--ipc', 'container:pod']],
    ['a log driver', ['--log-driver', 'local']],
    ['log options', ['--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '--log-opt', 'compress']],
    ['a cid file', ['--cidfile', '@/cid']],
    ['zero values of flags berth refuses otherwise', ['--privileged=false', '--memory', '0', '--restart', 'no', '--memory-swappiness', '-1', '-t=false', '--init=false']],
  ];

  for (const [what, flags] of cases) {
    it(what, async () => {
      const args = flags.map((a) => a.replace('@/', `${dir}/`));
      if (!args.includes('busybox')) args.push('busybox');
      const cid = path.join(dir, 'cid');
      created = [];
      fs.rmSync(cid, { force: true });
      await docker(['create', ...args]);
      fs.rmSync(cid, { force: true });
      const r = await berth(`unix://${sock}`, ['create', ...args], { env });
      assert.equal(r.code, 0, r.err);
      assert.equal(created.length, 2);
      const [theirs, ours] = created;
      assert.deepEqual(ours.query, theirs.query);
      const problems: string[] = [];
      compare(theirs.body, ours.body, 'body', problems);
      assert.deepEqual(problems, []);
    });
  }
});
