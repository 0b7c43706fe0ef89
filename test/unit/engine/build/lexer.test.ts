import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { envLookup, ShellLex } from '../../../../src/engine/build/lexer';

const env = envLookup(['A=a', 'EMPTY=', 'SP=x y', 'HOME=/root']);
const word = (s: string, o = {}) => new ShellLex(o).processWord(s, env).text;
const words = (s: string) => new ShellLex().processWords(s, env).words;

test('lexer: plain, braces, unset', () => {
  assert.equal(word('$A'), 'a');
  assert.equal(word('${A}b'), 'ab');
  assert.equal(word('x$NOPE-y'), 'x-y');
  assert.equal(word('$'), '$');
  assert.equal(word('a$ b'), 'a$ b');
});

test('lexer: modifiers follow BuildKit (:- and - differ on empty)', () => {
  assert.equal(word('${NOPE:-def}'), 'def');
  assert.equal(word('${EMPTY:-def}'), 'def');
  assert.equal(word('${EMPTY-def}'), '');
  assert.equal(word('${A:-def}'), 'a');
  assert.equal(word('${A:+alt}'), 'alt');
  assert.equal(word('${EMPTY:+alt}'), '');
  assert.equal(word('${EMPTY+alt}'), 'alt');
  assert.equal(word('${NOPE+alt}'), '');
  assert.equal(word('${NOPE:-$A$A}'), 'aa');
  assert.throws(() => word('${NOPE:?must be set}'), /NOPE: must be set/);
  assert.throws(() => word('${NOPE?}'), /NOPE: is not allowed to be unset/);
  assert.throws(() => word('${A'), /missing '}'/);
  assert.throws(() => word('${A:%x}'), /unsupported modifier \(%\) in substitution/);
});

test('lexer: quotes and escapes', () => {
  assert.equal(word("'$A'"), '$A');
  assert.equal(word('"$A"'), 'a');
  assert.equal(word('"\\$A"'), '$A');
  assert.equal(word('\\$A'), '$A');
  assert.equal(word('"a\\nb"'), 'a\\nb');
  assert.equal(word('a\\ b'), 'a b');
  assert.equal(word('`$A', { escape: '`' }), '$A');
  assert.throws(() => word("'open"), /matching single-quote/);
  assert.throws(() => word('"open'), /matching double-quote/);
});

test('lexer: words split on unquoted whitespace, expansions too', () => {
  assert.deepEqual(words('a b  "c d" e\\ f'), ['a', 'b', 'c d', 'e f']);
  assert.deepEqual(words('$SP "$SP"'), ['x', 'y', 'x y']);
  assert.deepEqual(words('""'), ['']);
});

test('lexer: reports the variables a word used', () => {
  assert.deepEqual([...new ShellLex().processWord('${A}/${NOPE:-x} $B', env).used].sort(), ['A', 'B', 'NOPE']);
});
