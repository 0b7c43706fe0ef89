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
  // docker passes -e values through a Go map (for its proxy settings), and
  // -v values too, so their order is random.
  const sorted = (v: unknown) => ((where === 'body.Env' || where === 'body.HostConfig.Binds') && Array.isArray(v) ? [...v].sort() : v);
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
        // docker parses --device by the server's OS.
        res.setHeader('Ostype', 'linux');
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
    ['--init', ['--init']],
    ['--init=false', ['--init=false']],
    ['seccomp=unconfined', ['--security-opt', 'seccomp=unconfined']],
    ['a seccomp profile file', ['--security-opt', 'seccomp=@/seccomp.json']],
    ['annotations', ['--annotation', 'a=b', '--annotation', 'c', '--annotation', 'd=']],
    ['a name', ['--name', 'web']],
    ['namespaces of the host', ['--pid', 'host', '--ipc', 'host', '--uts', 'host', '--userns', 'host', '--cgroupns', 'private']],
    ['namespaces of another container', ['--network', 'container:pod', '--pid', 'container:pod', '--ipc', 'container:pod']],
    ['a log driver', ['--log-driver', 'local']],
    ['log options', ['--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '--log-opt', 'compress']],
    ['a cid file', ['--cidfile', '@/cid']],
    ['published ports', ['-p', '80', '-p', '8080:80', '-p', '127.0.0.1:9000:90/udp', '-p', '[::1]:53:53/udp', '-p', '7000-7002:8000-8002', '-p', '5000-5010:22', '-p', '::1:6000:60/sctp', '-p', '127.0.0.1::70', '-p', '8080:80']],
    ['published ports, long syntax, -P and --expose', ['-p', 'target=80,published=8081,protocol=udp', '-p', 'target=81', '-P', '--expose', '80/udp', '--expose', '90-91']],
    ['-v binds and anonymous volumes', ['-v', '/data', '-v', '/srv:/srv:ro', '-v', 'named:/named:nocopy', '-v', './rel:/rel', '-v', '/h:/c:rw,z', '-v', '/data', '-v', '~/x:/x']],
    ['--mount bind', ['--mount', 'type=bind,source=/src,target=/dst,readonly,bind-propagation=rslave']],
    ['--mount volume', ['--mount', 'type=volume,src=vol,dst=/v,volume-nocopy,volume-label=a=b,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-subpath=sub']],
    ['--mount tmpfs', ['--mount', 'type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770', '--mount', 'target=/anon', '--mount', 'type=bind,src=.,dst=/here,ro=true,bind-recursive=disabled']],
    ['--mount quoted', ['--mount', '"type=bind","source=/a,b",target=/c', '--mount', 'type=bind,source=/x,target=/y,readonly,bind-recursive=readonly,bind-propagation=rprivate']],
    ['--tmpfs', ['--tmpfs', '/run', '--tmpfs', '/tmp:rw,size=64m,mode=1777', '--tmpfs', '/run:noexec']],
    ['--volumes-from and --volume-driver', ['--volumes-from', 'a', '--volumes-from', 'b:ro', '--volume-driver', 'local']],
    ['dns and hosts', ['--dns', '8.8.8.8', '--dns', ' 0:0:0:0:0:0:0:1 ', '--dns-search', 'example.com.', '--dns-search', '.', '--dns-option', 'ndots:2', '--dns-opt', 'rotate', '--add-host', 'a:1.2.3.4', '--add-host', 'b=::1', '--add-host', 'c:[fe80::1]', '--add-host', 'gw:host-gateway', '--add-host', 'd=0:0::1']],
    ['user network with alias, ip, mac, link', ['--network', 'mynet', '--network-alias', 'web', '--net-alias', 'www', '--ip', '172.30.0.9', '--ip6', '2001:db8::9', '--mac-address', '02:42:ac:11:00:02', '--link', 'db:database', '--link', 'cache', '--link-local-ip', '169.254.1.1']],
    ['legacy links and a mac on the default network', ['--link', 'db:database', '--mac-address', '02:42:ac:11:00:03']],
    ['network long syntax', ['--network', 'name=front,alias=Web,ip=10.1.0.5,driver-opt=com.x=Y,gw-priority=5', '--network', 'back']],
    ['two networks', ['--network', 'a', '--network', 'b', '--network-alias', 'x']],
    ['host name with a bridge network', ['--hostname', 'web', '--network', 'bridge', '--ip', '172.17.0.9']],
    ['resource limits', [
      '-m', '64m', '--memory-swap', '128m', '--memory-reservation', '32m', '--memory-swappiness', '10', '--oom-kill-disable', '--oom-score-adj', '100',
      '--cpus', '1.5', '-c', '512', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '20', '--blkio-weight', '300',
      '--blkio-weight-device', '/dev/vda:200', '--device-read-bps', '/dev/vda:1mb', '--device-write-bps', '/dev/sda:2k', '--device-read-iops', '/dev/vda:10',
      '--device-write-iops', '/dev/vda:100', '--ulimit', 'nofile=100:200', '--ulimit', 'nproc=50', '--shm-size', '16m', '--cgroup-parent', 'batch', '--cgroupns', 'host',
    ]],
    ['cpu period and quota, unlimited pids and swap', ['--cpu-period', '50000', '--cpu-quota', '25000', '--pids-limit', '-1', '-m', '8m', '--memory-swap', '-1']],
    ['a zero pids limit', ['--pids-limit', '0']],
    ['capabilities, in order', ['--cap-add', 'sys_time', '--cap-add', 'CHOWN', '--cap-add', 'sys_time', '--cap-drop', 'net_raw', '--cap-drop', 'KILL']],
    ['capabilities', ['--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'mknod', '--cap-drop', 'net_admin']],
    ['all capabilities', ['--cap-add', 'ALL', '--cap-add', 'chown', '--cap-drop', 'all']],
    ['privileged, groups, sysctls', ['--privileged', '--group-add', 'audio', '--group-add', '1234', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1']],
    ['devices', ['--device', '/dev/loop0', '--device', '/dev/loop1:/dev/xl1', '--device', '/dev/loop2:r', '--device', '/dev/loop3:/dev/xl3:rw', '--device-cgroup-rule', 'b 7:* rwm']],
    ['systempaths=unconfined', ['--security-opt', 'systempaths=unconfined']],
    ['security options', ['--security-opt', 'no-new-privileges', '--security-opt', 'no-new-privileges:false', '--security-opt', 'label=disable', '--security-opt', 'seccomp=unconfined']],
    ['a healthcheck', ['--health-cmd', 'test -f /tmp/ok || exit 1', '--health-interval', '1s', '--health-timeout', '500ms', '--health-retries', '2', '--health-start-period', '1m', '--health-start-interval', '2s']],
    ['healthcheck settings without a command', ['--health-interval', '1m30s']],
    ['--no-healthcheck', ['--no-healthcheck']],
    ['restart on-failure with a count', ['--restart', 'on-failure:3']],
    ['restart always, and a policy the daemon judges', ['--restart', 'always']],
    ['restart unless-stopped with --rm=false', ['--restart', 'unless-stopped', '--rm=false']],
    ['an empty restart policy with --rm', ['--restart=', '--rm']],
    ['restart always:2 (the daemon refuses the count)', ['--restart', 'always:2']],
    ['zero values of flags berth refuses otherwise', ['--privileged=false', '--memory', '0', '--restart', 'no', '--memory-swappiness', '-1', '-t=false', '--init=false']],
  ];

  // Bad values: docker's message and exit status, before any request.
  const errorCases: string[][] = [
    ['--no-healthcheck', '--health-cmd', 'true'],
    ['--no-healthcheck', '--health-retries', '1'],
    ['--health-interval', '-1s'],
    ['--health-retries', '-1'],
    ['--health-start-interval', '-5ms'],
    ['-p', '8080:abc'],
    ['-p', 'abc:80'],
    ['-p', '1.2.3:80:80'],
    ['-p', '80/xyz'],
    ['-p', '8000-8001:80-82'],
    ['-p', '8080:'],
    ['-p', 'target=80,bogus'],
    ['--expose', '70000'],
    ['-v', ''],
    ['-v', '/a::/b'],
    ['-v', '/a:/b:ro:x'],
    ['--mount', 'type=bind,source=/a'],
    ['--mount', 'type=bind,target=/a,volume-nocopy'],
    ['--mount', 'type=volume,target=/a,tmpfs-size=1m'],
    ['--mount', 'type=tmpfs,target=/a,tmpfs-size=lots'],
    ['--mount', 'type=tmpfs,target=/a,tmpfs-mode=999'],
    ['--mount', 'target=/a,bogus=1'],
    ['--mount', 'target=/a,rw'],
    ['--mount', 'type=bind,target=/a,readonly=maybe'],
    ['--mount', 'type=bind,src=/a,target=/b,bind-recursive=readonly'],
    ['--mount', 'type=bind,src=/a,target=/b,bind-recursive=sometimes'],
    ['--mount', 'type=,target=/a'],
    ['--add-host', 'nohost'],
    ['--add-host', 'h:notanip'],
    ['--add-host', ':1.2.3.4'],
    ['--dns', '8.8.8'],
    ['--dns-search', '-bad-'],
    ['--link', 'a:b:c'],
    ['--mac-address', 'zz:zz'],
    ['--network', 'name=x,bogus=y'],
    ['--network', 'alias=x'],
    ['--network', 'a', '--network', 'host'],
    ['--network', 'a', '--network', 'a'],
    ['--network-alias', 'x'],
    ['--network', 'bridge', '--network-alias', 'x'],
    ['--network', 'host', '--link', 'a:b', '--network', 'name=host,alias=y'],
    ['--network', 'name=n,alias=a', '--network-alias', 'b'],
    ['--network', 'name=n,mac-address=xx', '--mac-address', '02:42:ac:11:00:02'],
    ['--restart', ':3'],
    ['--restart', 'on-failure:x'],
    ['--restart', 'on-failure:1.5'],
    ['--rm', '--restart', 'always'],
    ['--rm', '--restart', 'on-failure:2'],
  ];
  for (const flags of errorCases) {
    it(`refuses ${flags.join(' ')} as docker does`, async () => {
      const args = ['create', ...flags, 'busybox'];
      created = [];
      const theirs = await new Promise<{ code: number; err: string }>((resolve) => {
        execFile('docker', args, { env: { ...env, DOCKER_HOST: `unix://${sock}` } }, (err, _out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, err: stderr }));
      });
      const ours = await berth(`unix://${sock}`, args, { env });
      assert.equal(created.length, 0, 'a request was sent');
      assert.equal(ours.err, theirs.err.replace(/docker/g, 'berth'));
      assert.equal(ours.code, theirs.code);
    });
  }

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
