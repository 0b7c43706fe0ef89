import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../../../../src/cli/args';
import { buildConfig, parseEnvFile, parseEnvFlag, parseLabels } from '../../../../../src/cli/commands/container/options';
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

  it('rejects -t for now', () => {
    assert.throws(() => buildConfig(parseRun(['-it', 'img']), {}, { detach: false }), /not supported/);
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
