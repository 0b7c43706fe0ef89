import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, UsageError, type FlagSpec } from '../../../src/cli/args';
import { buildConfig, parseEnvFile, parseEnvFlag, parseLabels } from '../../../src/cli/commands/container-opts';
import { runCommand } from '../../../src/cli/commands/run';
import { parseFilters } from '../../../src/cli/commands/ps';

const SPECS: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool' },
  { name: 'quiet', short: 'q', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'name', type: 'string' },
  { name: 'last', short: 'n', type: 'int', default: -1 },
  { name: 'timeout', short: 't', type: 'int', aliases: ['time'] },
];

describe('parseArgs', () => {
  it('parses long, short and grouped flags', () => {
    const p = parseArgs(['-aq', '--name', 'x', '-e', 'A=1', '--env=B=2', '-eC=3', 'arg'], SPECS);
    assert.equal(p.flags.all, true);
    assert.equal(p.flags.quiet, true);
    assert.equal(p.flags.name, 'x');
    assert.deepEqual(p.flags.env, ['A=1', 'B=2', 'C=3']);
    assert.deepEqual(p.args, ['arg']);
  });

  it('applies defaults and records changed flags', () => {
    const p = parseArgs(['--time', '5'], SPECS);
    assert.equal(p.flags.last, -1);
    assert.equal(p.flags.all, false);
    assert.deepEqual(p.flags.env, []);
    assert.equal(p.flags.timeout, 5);
    assert.ok(p.changed.has('timeout'));
    assert.ok(!p.changed.has('last'));
  });

  it('takes an attached value for int shorthands and bool values', () => {
    const p = parseArgs(['-n3', '--all=false', '-q=true'], SPECS);
    assert.equal(p.flags.last, 3);
    assert.equal(p.flags.all, false);
    assert.equal(p.flags.quiet, true);
  });

  it('intersperses flags and arguments unless told not to', () => {
    assert.deepEqual(parseArgs(['a', '-q', 'b'], SPECS).args, ['a', 'b']);
    const p = parseArgs(['-q', 'image', 'sh', '-c', '-a'], SPECS, { interspersed: false });
    assert.deepEqual(p.args, ['image', 'sh', '-c', '-a']);
    assert.equal(p.flags.all, false);
  });

  it('treats -- and a lone - as arguments', () => {
    assert.deepEqual(parseArgs(['-', '--', '-a'], SPECS).args, ['-', '-a']);
  });

  it('reports errors with pflag wording', () => {
    assert.throws(() => parseArgs(['--nope'], SPECS), { message: 'unknown flag: --nope' });
    assert.throws(() => parseArgs(['-x'], SPECS), { message: "unknown shorthand flag: 'x' in -x" });
    assert.throws(() => parseArgs(['-ax'], SPECS), { message: "unknown shorthand flag: 'x' in -ax" });
    assert.throws(() => parseArgs(['--name'], SPECS), { message: 'flag needs an argument: --name' });
    assert.throws(() => parseArgs(['-e'], SPECS), { message: "flag needs an argument: 'e' in -e" });
    assert.throws(
      () => parseArgs(['-n', 'abc'], SPECS),
      { message: 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax' },
    );
    assert.throws(() => parseArgs(['--nope'], SPECS), UsageError);
  });
});

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

  it('encodes ps filters as map[string][]string', () => {
    assert.equal(parseFilters([]), undefined);
    assert.equal(parseFilters(['status=exited', 'status=created', 'name=web']), '{"status":["exited","created"],"name":["web"]}');
    assert.throws(() => parseFilters(['nope']), /bad format of filter/);
  });
});
