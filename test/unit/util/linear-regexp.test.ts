// src/util/linear-regexp.ts: clients' Go (RE2) patterns, translated and run
// in V8's linear-time engine; what it cannot run matches nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearEngine, linearRegExp, translate } from '../../../src/util/linear-regexp';

const matches = (p: string, s: string) => {
  const re = linearRegExp(p);
  assert.ok(re, `${p} compiles`);
  return re.test(s);
};

test('the linear engine is on', () => {
  assert.ok(linearEngine);
  assert.ok(linearRegExp('a')!.flags.includes('l'));
});

test('catastrophic patterns run in the linear engine and answer', () => {
  const name = 'a'.repeat(32);
  assert.equal(matches('^(a+)+$', `${name}!`), false);
  assert.equal(matches('^(a+)+$', name), true);
  assert.equal(matches('^(a|aa)+$', `${'a'.repeat(5000)}b`), false);
  assert.equal(matches('(.*a){12}', `${'a'.repeat(12)}`), true);
});

test('plain patterns mean what they mean in Go', () => {
  assert.equal(matches('web', 'my-web-1'), true);
  assert.equal(matches('^web$', 'my-web'), false);
  assert.equal(matches('^web-[0-9]+$', 'web-12'), true);
  assert.equal(matches('a.c', 'a\nc'), false);
  assert.equal(matches('\\d+\\.\\w', '12.x'), true);
  assert.equal(matches('x|y', 'y'), true);
  assert.equal(matches('[]a]', ']'), true);
  assert.equal(matches('[^]a]', ']'), false);
  assert.equal(matches('[a-]', '-'), true);
});

test('(?i) folds ASCII letters, in literals and classes', () => {
  assert.equal(translate('(?i)ab').source, '[aA][bB]');
  assert.equal(matches('(?i)^WEB$', 'web'), true);
  assert.equal(matches('(?i)^[a-c]+$', 'AbC'), true);
  assert.equal(matches('(?i)^[x]$', 'X'), true);
  assert.equal(matches('^a(?i:b)c$', 'aBc'), true);
  assert.equal(matches('^a(?i:b)c$', 'aBC'), false);
  assert.equal(matches('^(?i)a(?-i)b$', 'Ab'), true);
  assert.equal(matches('^(?i)a(?-i)b$', 'AB'), false);
});

test('Go-only syntax is translated', () => {
  assert.equal(matches('(?P<n>ab)c', 'abc'), true);
  assert.equal(linearRegExp('(?P<n>ab)c')!.exec('abc')!.groups!.n, 'ab');
  assert.equal(matches('\\Aab\\z', 'ab'), true);
  assert.equal(matches('\\Aab\\z', 'xab'), false);
  assert.equal(matches('^\\Q*.+\\E$', '*.+'), true);
  assert.equal(matches('^\\Q*.+\\E$', 'aaa'), false);
  assert.equal(matches('^[[:digit:]]+$', '123'), true);
  assert.equal(matches('^[[:alpha:]_]+$', 'ab_'), true);
  assert.equal(matches('(?s)a.c', 'a\nc'), true);
  assert.equal(matches('(?m)^b$', 'a\nb\nc'), true);
  assert.equal(matches('^b$', 'a\nb\nc'), false);
});

test('what Go rejects, or the linear engine cannot run, matches nothing', () => {
  for (const p of [
    '(a)\\1', // backreference
    '(?=a)', // lookahead
    '(?<=a)b', // lookbehind
    '(?U)a+', // ungreedy flag
    'a(?m)b', // (?m) not at the start
    '(ab', // unbalanced
    'ab)',
    '[ab',
    '[[:nope:]]',
    '\\pL',
    'a\\',
    'a{2,1000}', // valid in Go, beyond the linear engine's repetition limit (16)
    'a{20}',
  ]) {
    assert.equal(linearRegExp(p), undefined, p);
  }
});
