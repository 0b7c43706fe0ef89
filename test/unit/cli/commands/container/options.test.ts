import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseArgs, refuseUnsupported } from '../../../../../src/cli/args';
import { buildConfig, parseEnvFile, parseEnvFlag, parseExpose, parseLabels, parseSecurityOpts } from '../../../../../src/cli/commands/container/options';
import { runCommand } from '../../../../../src/cli/commands/container/run';

describe('run options', () => {
  const parseRun = (argv: string[]) => parseArgs(argv, runCommand.flags, { interspersed: false });

  it('builds the create body docker sends', () => {
    const p = parseRun(['-i', '-e', 'A=1', '-w', '/tmp', '-u', '1000:1000', '-h', 'box', '--name', 'n', '--rm', '-l', 'k=v', '--network', 'none', 'busybox', 'sh', '-c', 'echo hi']);
    const c = buildConfig(p, {}, { detach: false });
    assert.deepEqual(c, {
      Hostname: 'box',
      User: '1000:1000',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: true,
      StdinOnce: true,
      Env: ['A=1'],
      Cmd: ['sh', '-c', 'echo hi'],
      Image: 'busybox',
      WorkingDir: '/tmp',
      Entrypoint: null,
      Labels: { k: 'v' },
      HostConfig: { AutoRemove: true, NetworkMode: 'none' },
    });
    assert.equal(p.flags.name, 'n');
  });

  it('detaches without attaching any stream', () => {
    const c = buildConfig(parseRun(['-d', '-i', 'busybox']), {}, { detach: true });
    assert.equal(c.AttachStdin, false);
    assert.equal(c.AttachStdout, false);
    assert.equal(c.AttachStderr, false);
    assert.equal(c.OpenStdin, true);
    assert.equal(c.StdinOnce, false);
    assert.equal(c.Cmd, null);
    assert.equal(c.HostConfig.NetworkMode, 'default');
  });

  it('resets the entrypoint with an empty --entrypoint', () => {
    assert.deepEqual(buildConfig(parseRun(['--entrypoint', '', 'img']), {}, { detach: false }).Entrypoint, ['']);
    assert.deepEqual(buildConfig(parseRun(['--entrypoint=/bin/sh', 'img']), {}, { detach: false }).Entrypoint, ['/bin/sh']);
  });

  it('takes -t: Tty, and the console size when there is a terminal', () => {
    const p = parseRun(['-it', 'img']);
    refuseUnsupported(p, runCommand.flags);
    const c = buildConfig(p, {}, { detach: false, consoleSize: [30, 90] });
    assert.equal(c.Tty, true);
    assert.deepEqual(c.HostConfig.ConsoleSize, [30, 90]);
    const plain = buildConfig(parseRun(['img']), {}, { detach: false, consoleSize: [30, 90] });
    assert.equal(plain.Tty, false);
    assert.equal('ConsoleSize' in plain.HostConfig, false);
  });

  it('parses -e like docker', () => {
    assert.equal(parseEnvFlag('A=1', {}), 'A=1');
    assert.equal(parseEnvFlag('A=', {}), 'A=');
    assert.equal(parseEnvFlag('HOME', { HOME: '/root' }), 'HOME=/root');
    assert.equal(parseEnvFlag('UNSET', {}), 'UNSET');
    assert.throws(() => parseEnvFlag('=x', {}), /invalid environment variable/);
  });

  it('parses env files like docker', () => {
    const text = '\uFEFF# comment\n\n  A=1\nB= spaced value \r\nPASS\nMISSING\nC=a=b\n';
    assert.deepEqual(parseEnvFile(text, 'f', { PASS: 'yes' }), ['A=1', 'B= spaced value ', 'PASS=yes', 'C=a=b']);
    assert.throws(() => parseEnvFile('BAD KEY=1\n', 'f', {}), /contains whitespaces/);
    assert.throws(() => parseEnvFile('=1\n', 'f', {}), /no variable name/);
  });

  it('parses labels', () => {
    assert.deepEqual(parseLabels(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
  });
});

describe('run options berthd applies', () => {
  const parseRun = (argv: string[]) => parseArgs(argv, runCommand.flags, { interspersed: false });
  const build = (argv: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(parseRun([...argv, 'img']), env, { detach: false });
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-options-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('sets the config fields docker sets', () => {
    const c = build(['--domainname', 'example.org', '--stop-signal', 'SIGUSR1', '--stop-timeout', '0', '--expose', '80', '--expose', '1000-1002/udp']);
    assert.equal(c.Domainname, 'example.org');
    assert.equal(c.StopSignal, 'SIGUSR1');
    assert.equal(c.StopTimeout, 0);
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '1000/udp': {}, '1001/udp': {}, '1002/udp': {} });
    const plain = build([]);
    for (const k of ['Domainname', 'StopSignal', 'StopTimeout', 'ExposedPorts'] as const) assert.equal(k in plain, false, k);
  });

  it('sets the host config fields docker sets', () => {
    const c = build(['--read-only', '--runtime', 'crun', '--annotation', 'a=b', '--annotation', 'c', '--cidfile', '/tmp/x.cid']);
    assert.deepEqual(c.HostConfig, { ContainerIDFile: '/tmp/x.cid', AutoRemove: false, NetworkMode: 'default', ReadonlyRootfs: true, Runtime: 'crun', Annotations: { a: 'b', c: '' } });
    assert.deepEqual(build([]).HostConfig, { AutoRemove: false, NetworkMode: 'default' });
  });

  it('names the endpoint only without --network, as docker', () => {
    assert.deepEqual(build([]).NetworkingConfig, { EndpointsConfig: { default: {} } });
    assert.equal(build(['--network', 'host']).NetworkingConfig, undefined);
    assert.equal(build(['--net=none']).HostConfig.NetworkMode, 'none');
    assert.equal(build(['--network', 'name=bridge']).HostConfig.NetworkMode, 'bridge');
    assert.throws(() => build(['--network', 'none', '--network', 'none']), { message: 'network "none" is specified multiple times' });
    assert.throws(() => build(['--network', 'none', '--network', 'mine']), { message: 'conflicting options: cannot attach both user-defined and non-user-defined network-modes' });
    assert.deepEqual(build(['--network', 'name=x,alias=y']).NetworkingConfig, { EndpointsConfig: { x: { Aliases: ['y'] } } });
    assert.deepEqual(build(['--network', 'a', '--network', 'b', '--ip', '10.0.0.2']).NetworkingConfig, { EndpointsConfig: { a: { IPAMConfig: { IPv4Address: '10.0.0.2' } }, b: {} } });
  });

  it('attaches what -a names', () => {
    const out = build(['-a', 'STDOUT']);
    assert.deepEqual([out.AttachStdin, out.AttachStdout, out.AttachStderr, out.StdinOnce], [false, true, false, false]);
    const inOnly = build(['-a', 'stdin']);
    assert.deepEqual([inOnly.AttachStdin, inOnly.AttachStdout, inOnly.AttachStderr, inOnly.OpenStdin, inOnly.StdinOnce], [true, false, false, false, false]);
    const both = build(['-i', '-a', 'stderr']);
    assert.deepEqual([both.AttachStdin, both.AttachStdout, both.AttachStderr, both.StdinOnce], [true, false, true, true]);
    assert.throws(() => parseRun(['-a', 'tty', 'img']), { message: 'invalid argument "tty" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR' });
  });

  it('reads label files like docker (bare keys dropped)', () => {
    const file = path.join(tmp, 'labels');
    fs.writeFileSync(file, 'a=1\n# comment\nHOME\nb=x=y\n');
    assert.deepEqual(build(['--label-file', file, '-l', 'b=2', '-l', 'c'], { HOME: '/root' }).Labels, { a: '1', b: '2', c: '' });
    assert.throws(() => build(['--label-file', path.join(tmp, 'none')]), { message: `open ${path.join(tmp, 'none')}: no such file or directory` });
  });

  it('checks --expose like docker', () => {
    assert.throws(() => parseExpose(['8:9']), { message: 'invalid port format for --expose: 8:9' });
    assert.throws(() => parseExpose(['5-3']), { message: 'invalid range format for --expose: 5-3, error: invalid range specified for port: 5-3' });
    assert.throws(() => parseExpose(['70000']), { message: 'invalid range format for --expose: 70000, error: strconv.ParseUint: parsing "70000": value out of range' });
    assert.throws(() => parseExpose(['/tcp']), { message: 'invalid range format for --expose: /tcp, error: empty string specified for ports' });
    assert.deepEqual(parseExpose(['80/', '53/UDP']), { '80/tcp': {}, '53/UDP': {} });
  });

  it('sends a seccomp profile file as its JSON, and other security options as given', () => {
    const file = path.join(tmp, 'seccomp.json');
    fs.writeFileSync(file, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": [ "a b" ], "action": "SCMP_ACT_ERRNO" } ]\n}\n');
    assert.deepEqual(parseSecurityOpts([`seccomp=${file}`, 'seccomp=unconfined', 'seccomp:unconfined', 'seccomp=builtin']), [
      'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a b"],"action":"SCMP_ACT_ERRNO"}]}',
      'seccomp=unconfined',
      'seccomp:unconfined',
      'seccomp=builtin',
    ]);
    assert.throws(() => parseSecurityOpts([`seccomp=${tmp}/none.json`]), { message: `opening seccomp profile (${tmp}/none.json) failed: open ${tmp}/none.json: no such file or directory` });
    fs.writeFileSync(file, '{nope');
    assert.throws(() => parseSecurityOpts([`seccomp=${file}`]), { message: /^compacting json for seccomp profile \(.*\) failed: / });
    assert.throws(() => parseSecurityOpts(['seccomp']), { message: 'Invalid --security-opt: "seccomp"' });
    // The others go as given; berthd judges them.
    assert.deepEqual(parseSecurityOpts(['label=disable', 'no-new-privileges', 'no-new-privileges:true', 'apparmor=x']), ['label=disable', 'no-new-privileges', 'no-new-privileges:true', 'apparmor=x']);
  });
});
