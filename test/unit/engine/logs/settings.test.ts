import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKind } from '../../../../src/errors';
import { DEFAULT_JSON_FILE_OPTS, fromHumanSize, logPath, logSettings, mergeLogConfig } from '../../../../src/engine/logs/settings';

const refused = (re: RegExp) => (err: unknown) => isKind(err, 'InvalidArgument') && re.test((err as Error).message);

test('fromHumanSize reads sizes as go-units does (decimal units)', () => {
  assert.equal(fromHumanSize('10m'), 10_000_000);
  assert.equal(fromHumanSize('1k'), 1000);
  assert.equal(fromHumanSize('1.5MB'), 1_500_000);
  assert.equal(fromHumanSize('2 g'), 2_000_000_000);
  assert.equal(fromHumanSize('123'), 123);
  assert.equal(fromHumanSize('1kib'), 1000);
  assert.throws(() => fromHumanSize('ten'), refused(/^invalid size: 'ten'$/));
  assert.throws(() => fromHumanSize('-1'), refused(/^invalid size: '-1'$/));
});

test('json-file: options as dockerd reads them, with its words for bad ones', () => {
  assert.deepEqual(logSettings('json-file', {}), { driver: 'json-file', maxSize: 0, maxFile: 1, compress: false });
  assert.deepEqual(logSettings('json-file', DEFAULT_JSON_FILE_OPTS), { driver: 'json-file', maxSize: 10_000_000, maxFile: 3, compress: false });
  assert.deepEqual(logSettings('json-file', { 'max-size': '1k', 'max-file': '4', compress: 'true' }), { driver: 'json-file', maxSize: 1000, maxFile: 4, compress: true });
  // max-file counts only with max-size.
  assert.equal(logSettings('json-file', { 'max-file': '5' }).maxFile, 1);
  assert.throws(() => logSettings('json-file', { 'max-size': '0' }), refused(/^max-size must be a positive number$/));
  assert.throws(() => logSettings('json-file', { 'max-file': '0' }), refused(/^max-file cannot be less than 1$/));
  assert.throws(() => logSettings('json-file', { 'max-file': 'x' }), refused(/^strconv\.Atoi: parsing "x": invalid syntax$/));
  assert.throws(() => logSettings('json-file', { compress: 'yes' }), refused(/^strconv\.ParseBool: parsing "yes": invalid syntax$/));
  assert.throws(() => logSettings('json-file', { 'max-size': '1m', compress: 'true' }), refused(/^compress cannot be true when max-file is less than 2 or max-size is not set$/));
  assert.throws(() => logSettings('json-file', { foo: '1' }), refused(/^unknown log opt 'foo' for json-file log driver$/));
  assert.throws(() => logSettings('json-file', { tag: '{{.Name}}' }), refused(/log opt 'tag' is not supported by berth/));
  assert.throws(() => logSettings('json-file', { mode: 'non-blocking' }), refused(/mode=non-blocking is not supported/));
  assert.throws(() => logSettings('json-file', { mode: 'fast' }), refused(/^logger: logging mode not supported: fast$/));
  assert.equal(logSettings('json-file', { mode: 'blocking' }).driver, 'json-file');
});

test('local: docker\'s defaults (20 MB x 5, compressed) and its option names', () => {
  assert.deepEqual(logSettings('local', {}), { driver: 'local', maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true });
  assert.deepEqual(logSettings('local', { 'max-size': '1m', 'max-file': '2', compress: 'false' }), { driver: 'local', maxSize: 1_000_000, maxFile: 2, compress: false });
  assert.throws(() => logSettings('local', { foo: '1' }), refused(/^unknown log opt 'foo' for log driver local$/));
  assert.throws(() => logSettings('local', { 'max-size': 'x' }), refused(/^error parsing max-size: invalid size: 'x'$/));
  assert.throws(() => logSettings('local', { 'max-size': '0' }), refused(/logs are always capped/));
});

test('none takes no options; unknown drivers and ones berth lacks are refused by name', () => {
  assert.equal(logSettings('none', {}).driver, 'none');
  assert.throws(() => logSettings('none', { 'max-size': '1m' }), refused(/none log driver takes no options/));
  assert.throws(() => logSettings('bogus', {}), refused(/^logger: no log driver named 'bogus' is registered$/));
  assert.throws(() => logSettings('syslog', {}), refused(/^berth does not implement the syslog log driver yet/));
});

test('labels and env options become attributes from the container\'s labels and environment', () => {
  const s = logSettings('json-file', { labels: 'a,missing', env: 'HOME', 'env-regex': '^X' }, { labels: { a: '1', b: '2' }, env: ['HOME=/root', 'XY=z', 'PATH=/bin'] });
  assert.deepEqual(s.attrs, { a: '1', HOME: '/root', XY: 'z' });
  assert.equal(logSettings('json-file', { labels: 'nope' }, { labels: {} }).attrs, undefined);
  assert.throws(() => logSettings('json-file', { 'labels-regex': '(' }), refused(/^error parsing labels-regex/));
});

test('the daemon\'s log-opts fill in what a container of its driver leaves out, as dockerd merges them', () => {
  const d = { type: 'json-file', config: { 'max-size': '10m', 'max-file': '3' } };
  assert.deepEqual(mergeLogConfig('', {}, d), { type: 'json-file', config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(mergeLogConfig('json-file', { 'max-file': '5' }, d), { type: 'json-file', config: { 'max-file': '5', 'max-size': '10m' } });
  assert.deepEqual(mergeLogConfig('local', {}, d), { type: 'local', config: {} });
  assert.deepEqual(mergeLogConfig('none', {}, d), { type: 'none', config: {} });
});

test('log paths as dockerd names them', () => {
  assert.equal(logPath('/c/x', 'abc', 'json-file'), '/c/x/abc-json.log');
  assert.equal(logPath('/c/x', 'abc', 'local'), '/c/x/local-logs/container.log');
  assert.equal(logPath('/c/x', 'abc', 'k8s-file'), '/c/x/container.log');
  assert.equal(logPath('/c/x', 'abc', 'none'), '');
});
