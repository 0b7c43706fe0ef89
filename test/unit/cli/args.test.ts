import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, UsageError, type FlagSpec } from '../../../src/cli/args';

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
