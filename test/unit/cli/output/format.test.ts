import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ellipsis,
  familiarImage,
  familiarName,
  formatG,
  goQuote,
  humanDuration,
  humanSize,
  since,
  splitReference,
  truncateId,
} from '../../../../src/cli/output/format';

describe('humanSize (go-units HumanSizeWithPrecision, 3)', () => {
  // Expected values were printed by docker CLI 28.2.2 against a fake daemon.
  const cases: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [4125, '4.12kB'], // exact tie: Go rounds half to even
    [4135, '4.13kB'],
    [5500, '5.5kB'],
    [12000, '12kB'],
    [999499, '999kB'],
    [999500, '1e+03kB'],
    [4260000, '4.26MB'],
    [123456789, '123MB'],
    [1e12, '1TB'],
  ];
  for (const [n, want] of cases) it(`${n} -> ${want}`, () => assert.equal(humanSize(n), want));
});

describe('formatG (Go %g)', () => {
  it('matches Go for a range of values', () => {
    assert.equal(formatG(100, 3), '100');
    assert.equal(formatG(0.5, 3), '0.5');
    assert.equal(formatG(0.0001234, 3), '0.000123');
    assert.equal(formatG(0.00001234, 3), '1.23e-05');
    assert.equal(formatG(2.675, 3), '2.67'); // 2.675 is below the tie in binary
    assert.equal(formatG(1023.5, 4), '1024'); // tie to even
    assert.equal(formatG(1.5, 4), '1.5');
    assert.equal(formatG(-4.26, 3), '-4.26');
  });
});

describe('humanDuration (go-units)', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [120 * s, '2 minutes'],
    [3599 * s, '59 minutes'],
    [3600 * s, 'About an hour'],
    [5400 * s, '2 hours'],
    [47 * 3600 * s, '47 hours'],
    [2 * 86400 * s, '2 days'],
    [14 * 86400 * s, '2 weeks'],
    [40 * 86400 * s, '5 weeks'],
    [13 * 86400 * s + 23 * 3600 * s, '13 days'],
    [59 * 86400 * s, '8 weeks'],
    [400 * 86400 * s, '13 months'],
    [61 * 86400 * s, '2 months'],
    [800 * 86400 * s, '2 years'],
  ];
  for (const [ms, want] of cases) it(`${ms}ms -> ${want}`, () => assert.equal(humanDuration(ms), want));
  it('since() appends "ago"', () => {
    assert.equal(since(1000, 1005 * 1000), '5 seconds ago');
  });
});

describe('text helpers', () => {
  it('ellipsis cuts to 20 columns like docker', () => {
    assert.equal(ellipsis('short', 20), 'short');
    assert.equal(ellipsis('exactly twenty chars', 20), 'exactly twenty chars');
    assert.equal(ellipsis('this is longer than twenty', 20), 'this is longer than…');
    assert.equal(ellipsis('中文字符中文字符中文字符', 20), '中文字符中文字符中…');
    assert.equal(ellipsis('abc', 1), 'a');
    assert.equal(ellipsis('abc', 0), '');
  });

  it('goQuote quotes like strconv.Quote', () => {
    assert.equal(goQuote('echo hello'), '"echo hello"');
    assert.equal(goQuote('a "b" \\ c'), '"a \\"b\\" \\\\ c"');
    assert.equal(goQuote('tab\there\nnl'), '"tab\\there\\nnl"');
    assert.equal(goQuote('\x00\x7f\x1b'), '"\\x00\\x7f\\x1b"');
    assert.equal(goQuote('ünï ☃ 中'), '"ünï ☃ 中"');
  });

  it('truncates ids and splits references', () => {
    assert.equal(truncateId('sha256:0123456789abcdef0123'), '0123456789ab');
    assert.equal(truncateId('0123456789abcdef'), '0123456789ab');
    assert.deepEqual(splitReference('localhost:5000/a/b:v1@sha256:ff'), { name: 'localhost:5000/a/b', tag: 'v1', digest: 'sha256:ff' });
    assert.deepEqual(splitReference('localhost:5000/a'), { name: 'localhost:5000/a', tag: '', digest: '' });
    assert.equal(familiarName('docker.io/library/busybox'), 'busybox');
    assert.equal(familiarName('docker.io/user/app'), 'user/app');
    assert.equal(familiarName('library/busybox'), 'busybox');
    assert.equal(familiarName('quay.io/library/x'), 'quay.io/library/x');
    assert.equal(familiarImage('docker.io/library/busybox:1@sha256:aa'), 'busybox:1');
  });
});
