// Docker's default security posture, proved from inside containers run by a
// real berthd with the real docker CLI: capabilities (and --cap-add/-drop,
// --privileged), the seccomp filter (default, unconfined, a profile file),
// masked and read-only /proc paths, no_new_privs, --group-add, --sysctl,
// --device and --device-cgroup-rule, and the breakouts of the
// CVE-2024-21626 class (a working directory in /proc/self/fd), an image
// whose /dev/null links to a host path, a USER above 2^31 and --read-only.
// A static probe (security/sys.c, built here with gcc) makes the calls
// busybox cannot.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, docker, importBusybox, ROOT, startDaemon, type TestDaemon } from './harness';

// Docker's 14 default capabilities as /proc/<pid>/status shows them.
const DEFAULT_MASK = '00000000a80425fb';
const held = () => /^CapBnd:\s+(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];

describe('security posture, from inside containers', () => {
  let d: TestDaemon;
  const run = async (...args: string[]) => docker(d, 'run', '--rm', ...args);
  const status = async (field: string, ...flags: string[]) => {
    const r = await run(...flags, 'probe', 'grep', `^${field}:`, '/proc/self/status');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split(':')[1].trim();
  };
  const probe = async (call: string, ...flags: string[]) => {
    const r = await run(...flags, 'probe', '/sys-probe', call);
    return r.stdout.trim() || r.stderr.trim();
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    const bin = path.join(d.base, 'sys-probe');
    execFileSync('gcc', ['-static', '-O1', '-o', bin, path.join(ROOT, 'test/integration/security/sys.c')]);
    // The probe in an image of its own, made with create, cp and commit.
    assert.equal((await docker(d, 'create', '--name', 'mk', 'busybox', 'true')).code, 0);
    assert.equal((await docker(d, 'cp', bin, 'mk:/sys-probe')).code, 0);
    assert.equal((await docker(d, 'commit', 'mk', 'probe')).code, 0);
    await docker(d, 'rm', 'mk');
  });
  after(async () => {
    await d?.stop();
  });

  it('gives Docker\'s 14 capabilities, a seccomp filter and no no_new_privs by default', async () => {
    assert.equal(await status('CapEff'), DEFAULT_MASK);
    assert.equal(await status('CapBnd'), DEFAULT_MASK);
    assert.equal(await status('Seccomp'), '2');
    assert.equal(await status('NoNewPrivs'), '0');
  });

  it('denies mount, unshare, keyctl and kexec_load by default; seccomp is what stops keyctl and kexec_load', async () => {
    assert.equal(await probe('mount'), 'Operation not permitted');
    assert.equal(await probe('unshare-user'), 'Operation not permitted');
    assert.equal(await probe('unshare-mnt'), 'Operation not permitted');
    assert.equal(await probe('keyctl'), 'Operation not permitted');
    assert.equal(await probe('kexec_load'), 'Operation not permitted');
    // Without the filter the kernel answers instead.
    assert.notEqual(await probe('keyctl', '--security-opt', 'seccomp=unconfined'), 'Operation not permitted');
    assert.notEqual(await probe('kexec_load', '--security-opt', 'seccomp=unconfined'), 'Operation not permitted');
    // busybox's own commands fail the same way.
    const m = await run('busybox', 'mount', '-t', 'tmpfs', 'none', '/mnt');
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /not permitted|permission denied/i);
  });

  it('masks /proc/kcore (and the other masked paths) and makes /proc/sysrq-trigger read-only', async () => {
    // This kernel may be built without /proc/kcore; then it must not appear
    // either, and the masked files it has show the same mask.
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts'].filter((p) => fs.existsSync(p));
    assert.ok(masked.length > 0);
    for (const p of masked) {
      const r = await run('busybox', 'sh', '-c', `wc -c < ${p}; stat -c %t:%T ${p}`);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['0', '1:3'], `${p}: the null device bound over it`);
    }
    if (!fs.existsSync('/proc/kcore')) assert.notEqual((await run('busybox', 'test', '-s', '/proc/kcore')).code, 0);
    // /proc/sysrq-trigger is read-only where the kernel has it (this one
    // may be built without it); /proc/sys, read-only by the same list, is
    // checked either way.
    const readonly = ['/proc/sysrq-trigger', '/proc/sys/kernel/shmmni'].filter((p) => fs.existsSync(p));
    assert.ok(readonly.includes('/proc/sys/kernel/shmmni'));
    for (const p of readonly) {
      const w = await run('busybox', 'sh', '-c', `echo 1 > ${p}`);
      assert.notEqual(w.code, 0, p);
      assert.match(w.stderr, /Read-only file system/, p);
    }
    // --security-opt systempaths=unconfined (the CLI sends empty lists) lifts both.
    const open = await run('--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', `head -c1 ${masked[0]} | wc -c; grep " /proc/sys " /proc/mounts || echo none`);
    assert.deepEqual(open.stdout.trim().split('\n'), ['1', 'none']);
    if (!fs.existsSync('/proc/sysrq-trigger')) assert.notEqual((await run('busybox', 'test', '-e', '/proc/sysrq-trigger')).code, 0);
  });

  it('applies --cap-drop then --cap-add, ALL included, and refuses unknown or unheld capabilities', async () => {
    assert.equal(await status('CapEff', '--cap-drop', 'ALL', '--cap-add', 'chown'), '0000000000000001');
    assert.equal(await status('CapBnd', '--cap-drop', 'net_raw', '--cap-drop', 'CAP_MKNOD'), (BigInt(`0x${DEFAULT_MASK}`) & ~((1n << 13n) | (1n << 27n))).toString(16).padStart(16, '0'));
    assert.equal(await status('CapBnd', '--cap-add', 'ALL', '--cap-drop', 'SYS_ADMIN'), (BigInt(`0x${held()}`) & ~(1n << 21n)).toString(16).padStart(16, '0'));
    // With CAP_SYS_ADMIN the default profile opens the mount family too.
    assert.equal(await probe('mount', '--cap-add', 'sys_admin'), 'ok');
    const unknown = await run('--cap-add', 'foo', 'busybox', 'true');
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /unknown capability: "CAP_FOO"/);
    if (!(BigInt(`0x${held()}`) & (1n << 24n))) {
      const unheld = await run('--cap-add', 'SYS_RESOURCE', 'busybox', 'true');
      assert.equal(unheld.code, 125);
      assert.match(unheld.stderr, /cannot add capability CAP_SYS_RESOURCE: berthd does not hold it/);
    }
  });

  it('runs --privileged with every capability berthd holds, no seccomp, nothing masked, /sys writable and the host\'s devices', async () => {
    assert.equal(await status('CapEff', '--privileged'), held());
    assert.equal(await status('Seccomp', '--privileged'), '0');
    const r = await run('--privileged', 'busybox', 'sh', '-c', 'grep " /sys " /proc/mounts; ls /dev/loop0 /dev/loop-control; head -c1 /proc/timer_list | wc -c');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sysfs \/sys sysfs rw,/m);
    assert.match(r.stdout, /^1$/m, 'timer_list is not masked');
    assert.match(r.stdout, /\/dev\/loop-control\n\/dev\/loop0/);
    const id = (await docker(d, 'create', '--privileged', 'busybox', 'true')).stdout.trim();
    assert.equal((await docker(d, 'inspect', '--format', '{{json .HostConfig.Privileged}}', id)).stdout.trim(), 'true');
    await docker(d, 'rm', id);
  });

  it('sets no_new_privs with --security-opt no-new-privileges', async () => {
    assert.equal(await status('NoNewPrivs', '--security-opt', 'no-new-privileges'), '1');
    assert.equal(await status('NoNewPrivs', '--security-opt', 'no-new-privileges:true'), '1');
    assert.equal(await status('NoNewPrivs', '--security-opt', 'no-new-privileges=false'), '0');
    // An exec session gets the container's capabilities and no_new_privs.
    assert.equal((await docker(d, 'run', '-d', '--name', 'nnp', '--cap-drop', 'ALL', '--cap-add', 'KILL', '--security-opt', 'no-new-privileges', 'busybox', 'sleep', '60')).code, 0);
    const e = await docker(d, 'exec', 'nnp', 'grep', '-E', '^(CapEff|NoNewPrivs):', '/proc/self/status');
    assert.deepEqual(e.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1].trim()), ['0000000000000020', '1']);
    await docker(d, 'rm', '-f', 'nnp');
    const bad = await run('--security-opt', 'no-new-privileges=maybe', 'busybox', 'true');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid --security-opt 2: "no-new-privileges=maybe"/);
    const aa = await run('--security-opt', 'apparmor=docker-default', 'busybox', 'true');
    assert.equal(aa.code, 125);
    assert.match(aa.stderr, /apparmor=docker-default.*not supported/);
  });

  it('applies a seccomp profile file in Docker\'s format, its includes by capability too', async () => {
    const file = path.join(d.base, 'no-mkdir.json');
    fs.writeFileSync(file, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        // Only for containers holding CAP_SYS_ADMIN: chmod fails with EACCES.
        { names: ['chmod', 'fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, includes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    }, null, 2));
    const mk = await run('--security-opt', `seccomp=${file}`, 'busybox', 'mkdir', '/x');
    assert.notEqual(mk.code, 0);
    assert.match(mk.stderr, /Operation not permitted/);
    assert.equal((await run('--security-opt', `seccomp=${file}`, 'busybox', 'chmod', '755', '/etc')).code, 0);
    const rm = await run('--security-opt', `seccomp=${file}`, '--cap-add', 'SYS_ADMIN', 'busybox', 'chmod', '755', '/etc');
    assert.match(rm.stderr, /Permission denied/);
    const bad = path.join(d.base, 'bad.json');
    fs.writeFileSync(bad, '{"defaultAction": "SCMP_ACT_NOPE"}');
    const b = await run('--security-opt', `seccomp=${bad}`, 'busybox', 'true');
    assert.equal(b.code, 125);
    assert.match(b.stderr, /Decoding seccomp profile failed: invalid defaultAction "SCMP_ACT_NOPE"/);
  });

  it('adds groups by name (the container\'s /etc/group) and number with --group-add, exec too', async () => {
    const r = await run('--group-add', 'tty', '--group-add', '1234', 'busybox', 'id', '-G');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(' ').sort(), ['0', '1234', '5']);
    const missing = await run('--group-add', 'nosuchgroup', 'busybox', 'true');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Unable to find group nosuchgroup/);
    assert.equal((await docker(d, 'run', '-d', '--name', 'grp', '--group-add', 'daemon', 'busybox', 'sleep', '60')).code, 0);
    const e = await docker(d, 'exec', 'grp', 'id', '-G');
    assert.deepEqual(e.stdout.trim().split(' ').sort(), ['0', '1']);
    await docker(d, 'rm', '-f', 'grp');
  });

  it('sets namespaced sysctls and refuses the others', async () => {
    const r = await run('--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmni=1234', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmni');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n1234\n');
    const cli = await run('--sysctl', 'kernel.panic=1', 'busybox', 'true');
    assert.equal(cli.code, 125);
    assert.match(cli.stderr, /sysctl 'kernel.panic=1' is not allowed/);
    const body = (hc: object) => JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: hc });
    const kernel = await api(d, 'POST', '/containers/create', body({ Sysctls: { 'kernel.panic': '1' } }));
    assert.equal(kernel.status, 400);
    assert.equal(JSON.parse(kernel.body).message, 'sysctl "kernel.panic" is not in a separate kernel namespace');
    const hostNet = await api(d, 'POST', '/containers/create', body({ NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } }));
    assert.equal(hostNet.status, 400);
    assert.match(JSON.parse(hostNet.body).message, /not allowed in the hosts network namespace/);
  });

  it('makes --device nodes with their cgroup rule, and --device-cgroup-rule allows what mknod makes', async () => {
    const dev = await run('--device', '/dev/loop0:/dev/xloop:r', 'busybox', 'sh', '-c', 'stat -c "%t:%T %F" /dev/xloop; dd if=/dev/xloop of=/dev/null count=0 && echo opened');
    assert.equal(dev.code, 0, dev.stderr);
    assert.match(dev.stdout, /^7:0 block special file\nopened\n$/);
    // Made by hand, the node cannot be opened: the device cgroup denies it.
    const denied = await run('probe', 'sh', '-c', 'mknod /dev/l0 b 7 0 && /sys-probe open /dev/l0');
    assert.equal(denied.stdout.trim(), 'Operation not permitted');
    const allowed = await run('--device-cgroup-rule', 'b 7:* rmw', 'probe', 'sh', '-c', 'mknod /dev/l0 b 7 0 && /sys-probe open /dev/l0');
    assert.equal(allowed.stdout.trim(), 'ok');
    // Refused at create; the docker CLI exits 127 on "no such file or directory".
    const missing = await run('--device', '/dev/nosuchdevice', 'busybox', 'true');
    assert.equal(missing.code, 127);
    assert.equal((await docker(d, 'ps', '-aq')).stdout.trim(), '');
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/nosuchdevice": no such file or directory/);
    const rule = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { DeviceCgroupRules: ['x 1:2 rwm'] } }));
    assert.equal(rule.status, 400);
    assert.match(JSON.parse(rule.body).message, /invalid device cgroup rule format: 'x 1:2 rwm'/);
  });

  it('refuses working directories in /proc/self/fd (CVE-2024-21626), given, from an image, through a link or for exec', async () => {
    const given = await run('-w', '/proc/self/fd/7', 'busybox', 'pwd');
    assert.equal(given.code, 125);
    assert.match(given.stderr, /the working directory \/proc\/self\/fd\/7 is refused/);
    assert.match((await run('-w', '/dev/fd/8', 'busybox', 'pwd')).stderr, /is refused/);
    // An image whose WORKDIR is such a path.
    assert.equal((await docker(d, 'create', '--name', 'w1', 'busybox', 'true')).code, 0);
    assert.equal((await docker(d, 'commit', '--change', 'WORKDIR /proc/self/fd/8', 'w1', 'fdwork')).code, 0);
    const img = await run('fdwork', 'pwd');
    assert.equal(img.code, 125);
    assert.match(img.stderr, /the working directory \/proc\/self\/fd\/8 is refused/);
    // An image whose WORKDIR is a link to it.
    const links = path.join(d.base, 'links');
    fs.mkdirSync(links);
    fs.symlinkSync('/proc/self/fd/7', path.join(links, 'work'));
    assert.equal((await docker(d, 'cp', `${links}/work`, 'w1:/work')).code, 0);
    assert.equal((await docker(d, 'commit', '--change', 'WORKDIR /work', 'w1', 'linkwork')).code, 0);
    const linked = await run('linkwork', 'pwd');
    assert.notEqual(linked.code, 0);
    assert.match(linked.stderr, /the working directory \/work is refused: it resolves to \/proc\/self\/fd\/7/);
    // exec -w, in a running container.
    assert.equal((await docker(d, 'run', '-d', '--name', 'fdx', 'busybox', 'sleep', '60')).code, 0);
    const ex = await docker(d, 'exec', '-w', '/proc/self/fd/7', 'fdx', 'pwd');
    assert.notEqual(ex.code, 0);
    assert.match(ex.stderr, /is refused/);
    // runc's own descriptors: the container's process holds no directory of the host.
    const pid = (await docker(d, 'inspect', '--format', '{{.State.Pid}}', 'fdx')).stdout.trim();
    const fds = fs.readdirSync(`/proc/${pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    assert.deepEqual(fds.filter((t) => t.startsWith('/') && !t.startsWith('/dev/')), [], `fds: ${fds.join(', ')}`);
    await docker(d, 'rm', '-f', 'fdx', 'w1');
  });

  it('keeps an image whose /dev/null links to a host path away from the host', async () => {
    const canary = path.join(d.base, 'canary');
    fs.writeFileSync(canary, 'untouched\n');
    const dir = path.join(d.base, 'devlink');
    fs.mkdirSync(dir);
    fs.symlinkSync(canary, path.join(dir, 'null'));
    assert.equal((await docker(d, 'create', '--name', 'dn', 'busybox', 'true')).code, 0);
    assert.equal((await docker(d, 'cp', `${dir}/.`, 'dn:/dev')).code, 0);
    assert.equal((await docker(d, 'commit', 'dn', 'devnull')).code, 0);
    await docker(d, 'rm', 'dn');
    const r = await run('devnull', 'sh', '-c', 'echo pwned > /dev/null; echo pwned >> /dev/null; stat -c %F /dev/null; wc -c < /proc/keys');
    assert.equal(r.code, 0, r.stderr);
    // Still the null device, also where runc binds it over masked paths.
    assert.deepEqual(r.stdout.trim().split('\n'), ['character special file', '0']);
    assert.equal(fs.readFileSync(canary, 'utf8'), 'untouched\n');
  });

  it('refuses a USER above 2^31 - 1', async () => {
    const r = await run('-u', '2147483648', 'busybox', 'id');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /uids and gids must be in range 0-2147483647/);
  });

  it('keeps a --read-only root unwritable but for its tmpfs mounts', async () => {
    const r = await run('--read-only', 'busybox', 'sh', '-c', 'touch /x 2>&1; touch /etc/x 2>&1; touch /dev/shm/x && touch /dev/x && echo tmpfs-ok');
    assert.match(r.stdout, /touch: \/x: Read-only file system\ntouch: \/etc\/x: Read-only file system\ntmpfs-ok/);
  });
});
