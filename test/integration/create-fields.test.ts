// The create body's fields through the real docker CLI: each family berth
// does not apply yet is refused with a message naming the field and nothing
// is created; the fields it applies are proved from inside the container.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tarStream from 'tar-stream';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

describe('create fields', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const containerDirs = () => fs.readdirSync(path.join(d.dataRoot, 'containers')).length;

  async function assertNothingCreated(what: string): Promise<void> {
    const ps = await docker(d, 'ps', '-a', '-q');
    assert.equal(ps.stdout.trim(), '', `${what}: a container was created`);
    assert.equal(containerDirs(), 0, `${what}: a container directory was left`);
  }

  describe('refused families', () => {
    const cases: [string, string[], RegExp][] = [
      ['volume plugins', ['--volume-driver', 'flocker', '-v', 'v:/x'], /HostConfig\.VolumeDriver "flocker" is not supported yet/],
      ['image mounts', ['--mount', 'type=image,source=busybox,target=/x'], /HostConfig\.Mounts\.Type "image" is not supported yet/],
      ['real-time cpu', ['--cpu-rt-runtime', '1000'], /HostConfig\.CpuRealtimeRuntime is not supported yet/],
      ['an AppArmor profile', ['--security-opt', 'apparmor=docker-default'], /HostConfig\.SecurityOpt "apparmor=docker-default" is not supported: berth loads no AppArmor profiles/],
      ['a healthcheck interval under 1ms', ['--health-cmd', 'true', '--health-interval', '500us'], /Interval in Healthcheck cannot be less than 1ms/],
      ['a restart policy with a count it cannot have', ['--restart', 'always:2'], /invalid restart policy: maximum retry count can only be used with 'on-failure'/],
      ['an unknown log driver', ['--log-driver', 'bogus'], /logger: no log driver named 'bogus' is registered/],
      ['a log driver berth lacks', ['--log-driver', 'syslog'], /berth does not implement the syslog log driver yet/],
      ['an unknown log option', ['--log-opt', 'max-bytes=1m'], /unknown log opt 'max-bytes' for json-file log driver/],
    ];
    for (const [what, flags, message] of cases) {
      it(`refuses ${what} (${flags.join(' ')}) and creates nothing`, async () => {
        for (const verb of ['run', 'create']) {
          const r = await docker(d, verb, ...flags, 'busybox', 'true');
          assert.equal(r.code, verb === 'run' ? 125 : 1, `${verb}: ${r.stdout}${r.stderr}`);
          assert.match(r.stderr, message, verb);
          await assertNothingCreated(`${verb} ${what}`);
        }
      });
    }

    it('takes a body repeating the query\'s name as its echo (dockerode), and refuses one that differs', async () => {
      const same = await api(d, 'POST', '/containers/create?name=echoed', JSON.stringify({ Image: 'busybox', Cmd: ['true'], name: 'echoed' }));
      assert.equal(same.status, 201, same.body);
      await docker(d, 'rm', 'echoed');
      const other = await api(d, 'POST', '/containers/create?name=one', JSON.stringify({ Image: 'busybox', Cmd: ['true'], name: 'two' }));
      assert.equal(other.status, 400, other.body);
      assert.match(JSON.parse(other.body).message, /unknown field Config\.name/);
      await assertNothingCreated('a body name that differs');
    });

    it('rejects malformed values with 400 naming the field, over the raw API', async () => {
      const cases: [object, RegExp][] = [
        [{ HostConfig: { RestartPolicy: { Name: 'bogus' } } }, /invalid restart policy: unknown policy 'bogus'/],
        [{ HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }, /can't create 'AutoRemove' container with restart policy/],
        [{ StopSignal: 'SIGBOGUS' }, /Config\.StopSignal "SIGBOGUS"/],
        [{ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } }, /HostConfig\.PortBindings host port "99999"/],
        [{ HostConfig: { ShmSize: -1 } }, /SHM size can not be less than 0/],
        [{ HostConfig: { CpusetCpus: '99' } }, /Requested CPUs are not available - requested 99/],
        [{ HostConfig: { KernelMemory: 1 << 20 } }, /unknown field HostConfig\.KernelMemory/],
        [{ HostConfig: { Tmpfs: { 'relative/path': '' } } }, /HostConfig\.Tmpfs mount point "relative\/path"/],
        [{ Healthcheck: { Test: 5 } }, /Config\.Healthcheck\.Test/],
      ];
      for (const [body, re] of cases) {
        const r = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], ...body }));
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
        assert.match(JSON.parse(r.body).message, re);
      }
      await assertNothingCreated('malformed values');
    });
  });

  describe('applied fields, seen from inside', () => {
    const readlink = async (args: string[], link: string) => {
      const r = await docker(d, 'run', '--rm', ...args, 'busybox', 'readlink', link);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };

    it('--pid host, --ipc host and --uts host share the host\'s namespaces; the defaults do not', async () => {
      for (const [flag, ns] of [['--pid', 'pid'], ['--ipc', 'ipc'], ['--uts', 'uts']]) {
        const host = fs.readlinkSync(`/proc/self/ns/${ns}`);
        assert.equal(await readlink([`${flag}=host`], `/proc/self/ns/${ns}`), host, flag);
        assert.notEqual(await readlink([], `/proc/self/ns/${ns}`), host, `${flag} default`);
      }
      const r = await docker(d, 'run', '--rm', '--uts=host', 'busybox', 'hostname');
      assert.equal(r.stdout.trim(), fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    });

    it('--network, --pid and --ipc container:<name> join a running container\'s namespaces', async () => {
      const r = await docker(d, 'run', '-d', '--name', 'pod', '--hostname', 'podhost', 'busybox', 'sleep', '100');
      assert.equal(r.code, 0, r.stderr);
      try {
        const pid = (await docker(d, 'inspect', '-f', '{{.State.Pid}}', 'pod')).stdout.trim();
        for (const [flag, ns] of [['--network', 'net'], ['--pid', 'pid'], ['--ipc', 'ipc']]) {
          const theirs = fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
          assert.equal(await readlink([`${flag}=container:pod`], `/proc/self/ns/${ns}`), theirs, flag);
        }
        // In the pod's PID namespace its sleep is pid 1; in its network namespace the files are its own.
        const ps = await docker(d, 'run', '--rm', '--pid=container:pod', 'busybox', 'cat', '/proc/1/cmdline');
        assert.equal(ps.stdout, 'sleep\0' + '100\0');
        const h = await docker(d, 'run', '--rm', '--network=container:pod', 'busybox', 'cat', '/etc/hostname');
        assert.equal(h.stdout.trim(), 'podhost');
        const joined = await docker(d, 'create', '--network=container:pod', 'busybox', 'true');
        assert.equal(joined.code, 0, joined.stderr);
        const insp = await docker(d, 'inspect', '-f', '{{.HostConfig.NetworkMode}} {{.HostsPath}}', joined.stdout.trim());
        const pod = (await docker(d, 'inspect', '-f', '{{.Id}} {{.HostsPath}}', 'pod')).stdout.trim().split(' ');
        assert.equal(insp.stdout.trim(), `container:${pod[0]} ${pod[1]}`);
        await docker(d, 'rm', joined.stdout.trim());
      } finally {
        await docker(d, 'rm', '-f', 'pod');
      }
    });

    it('joining a container that is not running fails at start; an unknown one at create', async () => {
      const c = await docker(d, 'create', '--name', 'idle', 'busybox', 'true');
      assert.equal(c.code, 0, c.stderr);
      try {
        const r = await docker(d, 'run', '--rm', '--pid=container:idle', 'busybox', 'true');
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /cannot join container idle: it is not running/);
        const u = await docker(d, 'create', '--network=container:nosuch', 'busybox', 'true');
        assert.notEqual(u.code, 0);
        assert.match(u.stderr, /cannot join container nosuch: No such container: nosuch/);
        assert.doesNotMatch(u.stderr, /Unable to find image/); // not taken for a missing image
      } finally {
        await docker(d, 'rm', '-f', 'idle');
      }
      await assertNothingCreated('join');
    });

    it('sets the domain name', async () => {
      const r = await docker(d, 'run', '--rm', '--domainname', 'example.org', 'busybox', 'cat', '/proc/sys/kernel/domainname');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'example.org');
    });

    it('hands annotations to the runtime', async () => {
      const r = await docker(d, 'run', '-d', '--annotation', 'org.example.team=infra', 'busybox', 'sleep', '100');
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      try {
        const spec = JSON.parse(fs.readFileSync(path.join(d.execRoot, 'c', id, 'config.json'), 'utf8'));
        assert.equal(spec.annotations['org.example.team'], 'infra');
        const insp = await docker(d, 'inspect', '-f', '{{json .HostConfig.Annotations}}', id);
        assert.equal(insp.stdout.trim(), '{"org.example.team":"infra"}');
      } finally {
        await docker(d, 'rm', '-f', id);
      }
    });

    it('replaces the masked and read-only paths when asked to (raw API)', async () => {
      const show = 'stat -c "%n %F" /proc/keys /proc/timer_list; grep -c " /proc/sys proc ro," /proc/mounts';
      const out = async (hc: object) => {
        const cr = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', show], HostConfig: hc }));
        assert.equal(cr.status, 201, cr.body);
        const id = JSON.parse(cr.body).Id;
        try {
          assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
          await api(d, 'POST', `/containers/${id}/wait`);
          return (await docker(d, 'logs', id)).stdout;
        } finally {
          await docker(d, 'rm', '-f', id);
        }
      };
      // Masked paths are /dev/null bound over the file.
      assert.equal(await out({}), '/proc/keys character special file\n/proc/timer_list character special file\n1\n');
      assert.equal(await out({ MaskedPaths: ['/proc/timer_list'], ReadonlyPaths: [] }), '/proc/keys regular empty file\n/proc/timer_list character special file\n0\n');
    });

    it('warns, as dockerd does, when the image was made for another platform', async () => {
      // busybox saved, its config rewritten for arm64, loaded back under another name.
      const file = path.join(d.base, 'bb.tar');
      const saved = await docker(d, 'save', '-o', file, 'busybox');
      assert.equal(saved.code, 0, saved.stderr);
      const entries = new Map<string, Buffer>();
      const extract = tarStream.extract();
      await new Promise<void>((resolve, reject) => {
        extract.on('entry', (h, stream, next) => {
          const chunks: Buffer[] = [];
          stream.on('data', (c) => chunks.push(c as Buffer));
          stream.on('end', () => { if (h.type === 'file') entries.set(h.name, Buffer.concat(chunks)); next(); });
        });
        extract.on('finish', resolve);
        extract.on('error', reject);
        extract.end(fs.readFileSync(file));
      });
      const manifest = JSON.parse(entries.get('manifest.json')!.toString())[0];
      const config = JSON.parse(entries.get(manifest.Config)!.toString());
      config.architecture = 'arm64';
      const configBytes = Buffer.from(JSON.stringify(config));
      const configName = `blobs/sha256/${createHash('sha256').update(configBytes).digest('hex')}`;
      const pack = tarStream.pack();
      pack.entry({ name: configName }, configBytes);
      pack.entry({ name: manifest.Layers[0] }, entries.get(manifest.Layers[0])!);
      pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: configName, RepoTags: ['armbox:latest'], Layers: manifest.Layers }]));
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      const load = await api(d, 'POST', '/images/load?quiet=1', Buffer.concat(chunks), { 'Content-Type': 'application/x-tar' });
      assert.equal(load.status, 200, load.body);
      const r = await docker(d, 'create', '--name', 'armc', 'armbox', 'true');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /WARNING: The requested image's platform \(linux\/arm64\) does not match the detected host platform \(linux\/amd64\)/);
      const plain = await docker(d, 'create', 'busybox', 'true');
      assert.equal(plain.stderr, '');
      await docker(d, 'rm', 'armc', plain.stdout.trim());
      await docker(d, 'rmi', 'armbox');
    });

    it('keeps the metadata fields and shows them in inspect (raw API)', async () => {
      const cr = await api(d, 'POST', '/containers/create', JSON.stringify({
        Image: 'busybox', Cmd: ['true'], Shell: ['/bin/ash', '-c'], OnBuild: ['RUN true'], ExposedPorts: { '8080/tcp': {} }, StopTimeout: 3,
        Healthcheck: { Test: ['NONE'] }, Labels: { team: 'a' },
      }));
      assert.equal(cr.status, 201, cr.body);
      const id = JSON.parse(cr.body).Id;
      try {
        const c = JSON.parse((await api(d, 'GET', `/containers/${id}/json`)).body).Config;
        assert.deepEqual([c.Shell, c.OnBuild, c.ExposedPorts, c.StopTimeout, c.Labels, c.Healthcheck], [['/bin/ash', '-c'], ['RUN true'], { '8080/tcp': {} }, 3, { team: 'a' }, { Test: ['NONE'] }]);
        const ps = await docker(d, 'ps', '-a', '--filter', 'label=team=a', '-q', '--no-trunc');
        assert.equal(ps.stdout.trim(), id);
      } finally {
        await docker(d, 'rm', '-f', id);
      }
    });

    it('NetworkDisabled gives a namespace with loopback only', async () => {
      const cr = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['cat', '/proc/net/dev'], NetworkDisabled: true, HostConfig: { NetworkMode: 'host' } }));
      assert.equal(cr.status, 201, cr.body);
      const id = JSON.parse(cr.body).Id;
      try {
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        await api(d, 'POST', `/containers/${id}/wait`);
        const devs = (await docker(d, 'logs', id)).stdout.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);
        assert.deepEqual(devs, ['lo']);
      } finally {
        await docker(d, 'rm', '-f', id);
      }
    });
  });
});
