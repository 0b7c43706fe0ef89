import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagsHelp, parseArgs, parseBytes, parseDecimal, parseDuration, refuseUnsupported, UnsupportedError, UsageError, type FlagSpec } from '../../../src/cli/args';

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

describe('docker value types', () => {
  it('reads sizes like go-units RAMInBytes', () => {
    assert.equal(parseBytes('0'), 0);
    assert.equal(parseBytes('512'), 512);
    assert.equal(parseBytes('4k'), 4096);
    assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(parseBytes('2 MiB'), 2 * 1024 ** 2);
    assert.equal(parseBytes('3mb'), 3 * 1024 ** 2);
    assert.throws(() => parseBytes('abc'), { message: "invalid size: 'abc'" });
    assert.throws(() => parseBytes('-1'), { message: "invalid size: '-1'" });
  });

  it("reads durations like Go's time.ParseDuration", () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('1m30s'), 90e9);
    assert.equal(parseDuration('1.5h'), 5400e9);
    assert.equal(parseDuration('250ms'), 250e6);
    assert.equal(parseDuration('-2s'), -2e9);
    assert.throws(() => parseDuration('5'), { message: 'time: missing unit in duration "5"' });
    assert.throws(() => parseDuration('abc'), { message: 'time: invalid duration "abc"' });
    assert.throws(() => parseDuration('3d'), { message: 'time: unknown unit "d" in duration "3d"' });
  });

  it("reads CPU counts like docker's NanoCPUs", () => {
    assert.equal(parseDecimal('1.5'), 1.5e9);
    assert.equal(parseDecimal('0'), 0);
    assert.equal(parseDecimal('1/4'), 0.25e9);
    assert.throws(() => parseDecimal('x'), { message: 'failed to parse x as a rational number' });
    assert.throws(() => parseDecimal('0.0000000001'), { message: 'value is too precise' });
  });
});

describe('flags berth does not apply yet', () => {
  const FLAGS: FlagSpec[] = [
    { name: 'interactive', short: 'i', type: 'bool' },
    { name: 'tty', short: 't', type: 'bool', unsupported: true },
    { name: 'publish', short: 'p', type: 'list', unsupported: true },
    { name: 'memory', short: 'm', type: 'bytes', unsupported: true },
    { name: 'memory-swappiness', type: 'int', default: -1, unsupported: true },
    { name: 'restart', type: 'string', default: 'no', unsupported: true },
    { name: 'health-interval', type: 'duration', unsupported: true },
    { name: 'cpus', type: 'decimal', unsupported: true },
    { name: 'blkio-weight', type: 'uint16', unsupported: true },
    { name: 'disable-content-trust', type: 'bool', default: true, unsupported: true },
    { name: 'network', type: 'list', aliases: ['net'] },
  ];
  const refused = (argv: string[]) => {
    try {
      refuseUnsupported(parseArgs(argv, FLAGS), FLAGS);
      return undefined;
    } catch (e) {
      assert.ok(e instanceof UnsupportedError);
      assert.ok(e instanceof UsageError);
      return e.message;
    }
  };

  it('refuses one that asks for something, in the form it was typed', () => {
    assert.equal(refused(['-p', '80:80']), '`-p` is not supported by berth yet');
    assert.equal(refused(['--publish=80:80']), '`--publish` is not supported by berth yet');
    assert.equal(refused(['-itp', '80']), '`-t` is not supported by berth yet');
    assert.equal(refused(['-i', '--memory', '512m', '-p', '1:1']), '`--memory` is not supported by berth yet');
    assert.equal(refused(['--memory-swappiness', '0']), '`--memory-swappiness` is not supported by berth yet');
    assert.equal(refused(['--restart', 'always']), '`--restart` is not supported by berth yet');
    assert.equal(refused(['--health-interval=1s']), '`--health-interval` is not supported by berth yet');
    assert.equal(refused(['--cpus', '0.5']), '`--cpus` is not supported by berth yet');
    assert.equal(refused(['--disable-content-trust=false']), '`--disable-content-trust` is not supported by berth yet');
  });

  it('takes one given a value that asks for nothing', () => {
    for (const argv of [
      [], ['-i'], ['--tty=false'], ['-t=false'], ['--memory', '0'], ['-m0'], ['--memory-swappiness', '-1'], ['--restart', 'no'], ['--restart='],
      ['--health-interval', '0s'], ['--cpus', '0'], ['--blkio-weight', '0'], ['--disable-content-trust'], ['--net', 'none'],
    ]) {
      assert.equal(refused(argv), undefined, argv.join(' '));
    }
  });

  it('checks values as docker does before refusing', () => {
    assert.throws(() => parseArgs(['-m', 'lots'], FLAGS), { message: `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'` });
    assert.throws(() => parseArgs(['--health-interval', '5'], FLAGS), { message: 'invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"' });
    assert.throws(() => parseArgs(['--blkio-weight', '70000'], FLAGS), { message: 'invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range' });
    assert.throws(() => parseArgs(['--cpus', 'many'], FLAGS), { message: 'invalid argument "many" for "--cpus" flag: failed to parse many as a rational number' });
  });

  it('marks them in help', () => {
    const help = flagsHelp(FLAGS);
    assert.match(help, /^ {2}-p, --publish list +\(not supported yet\)$/m);
    assert.match(help, /^ {2}-i, --interactive *$/m);
  });
});
