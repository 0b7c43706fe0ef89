import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { IgnoreMatcher, readDockerignore } from '../../../../src/util/dockerignore';

test('dockerignore: reading cleans, drops comments and leading slashes', () => {
  assert.deepEqual(readDockerignore('# c\n\n /a/b/ \n!  c/../d\n./e\n**/x\n'), ['a/b', '!d', 'e', '**/x']);
});

test('dockerignore: a pattern matches the path or a parent', () => {
  const m = IgnoreMatcher.fromText('node_modules\n*.log\ndocs/*.md\n');
  assert.equal(m.matches('node_modules'), true);
  assert.equal(m.matches('node_modules/a/b.js'), true);
  assert.equal(m.matches('a.log'), true);
  assert.equal(m.matches('sub/a.log'), false, '* does not cross directories');
  assert.equal(m.matches('docs/x.md'), true);
  assert.equal(m.matches('docs/sub/x.md'), false);
  assert.equal(m.matches('src/index.js'), false);
});

test('dockerignore: ** spans directories', () => {
  const m = IgnoreMatcher.fromText('**/*.tmp\nbuild/**\n');
  assert.equal(m.matches('a.tmp'), true);
  assert.equal(m.matches('a/b/c.tmp'), true);
  assert.equal(m.matches('build/x/y'), true);
  assert.equal(m.matches('builder'), false);
});

test('dockerignore: ! exceptions, the last match wins', () => {
  const m = IgnoreMatcher.fromText('*.md\n!README.md\nREADME-secret.md\n');
  assert.equal(m.matches('CHANGES.md'), true);
  assert.equal(m.matches('README.md'), false);
  assert.equal(m.matches('README-secret.md'), true);
  const all = IgnoreMatcher.fromText('*\n!src\n!Dockerfile\n');
  assert.equal(all.matches('src/a.ts'), false);
  assert.equal(all.matches('Dockerfile'), false);
  assert.equal(all.matches('other'), true);
  assert.equal(all.hasExceptions(), true);
});

test('dockerignore: ? [] and escapes', () => {
  const m = IgnoreMatcher.fromText('file?.txt\n[ab].c\nlit\\*\n');
  assert.equal(m.matches('file1.txt'), true);
  assert.equal(m.matches('file12.txt'), false);
  assert.equal(m.matches('a.c'), true);
  assert.equal(m.matches('c.c'), false);
  assert.equal(m.matches('lit*'), true);
  assert.equal(m.matches('litx'), false);
  assert.throws(() => new IgnoreMatcher(['!']), /illegal exclusion pattern/);
});
