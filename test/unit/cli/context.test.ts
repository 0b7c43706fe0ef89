import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ConfigFile } from '../../../src/cli/config';
import { ContextError, contextDirOf, listContexts, resolveContextName, resolveHost, writeContext } from '../../../src/cli/context';
import { DEFAULT_HOST } from '../../../src/client/host';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function cfgWith(current?: string): ConfigFile {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(current ? { currentContext: current } : {}));
  return ConfigFile.load(dir);
}

test('context store: docker\'s layout, meta/<sha256(name)>/meta.json', () => {
  writeContext(dir, { Name: 'foo', Metadata: {}, Endpoints: { docker: { Host: 'unix:///foo.sock', SkipTLSVerify: false } } });
  writeContext(dir, { Name: 'bar', Metadata: { Description: 'd' }, Endpoints: { docker: { Host: 'unix:///bar.sock', SkipTLSVerify: false } } });
  // sha256("foo"), as the docker CLI names it.
  assert.equal(path.basename(contextDirOf(dir, 'foo')), '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(contextDirOf(dir, 'foo'), 'meta.json'), 'utf8')), { Name: 'foo', Metadata: {}, Endpoints: { docker: { Host: 'unix:///foo.sock', SkipTLSVerify: false } } });
  assert.deepEqual(listContexts(dir).map((c) => c.Name), ['bar', 'foo']);
});

test('resolveContextName: --context, then -H/DOCKER_HOST (default), then DOCKER_CONTEXT, then currentContext', () => {
  const cfg = cfgWith('foo');
  assert.equal(resolveContextName({}, {}, cfg), 'foo');
  assert.equal(resolveContextName({}, { DOCKER_CONTEXT: 'bar' }, cfg), 'bar');
  assert.equal(resolveContextName({}, { DOCKER_CONTEXT: 'bar', DOCKER_HOST: 'unix:///h' }, cfg), 'default');
  assert.equal(resolveContextName({}, { DOCKER_CONTEXT: 'bar', BERTH_HOST: 'unix:///h' }, cfg), 'default');
  assert.equal(resolveContextName({ host: 'unix:///x' }, { DOCKER_CONTEXT: 'bar' }, cfg), 'default');
  assert.equal(resolveContextName({ context: 'bar' }, { DOCKER_HOST: 'unix:///h' }, cfg), 'bar');
  assert.equal(resolveContextName({}, {}, cfgWith()), 'default');
});

test('resolveHost: the context\'s docker endpoint; default is -H, BERTH_HOST, DOCKER_HOST or berthd\'s socket', () => {
  const cfg = cfgWith('foo');
  assert.deepEqual(resolveHost({}, {}, dir, cfg), { name: 'foo', host: 'unix:///foo.sock' });
  assert.deepEqual(resolveHost({ context: 'bar' }, { DOCKER_HOST: 'unix:///h' }, dir, cfg), { name: 'bar', host: 'unix:///bar.sock' });
  assert.deepEqual(resolveHost({ host: 'unix:///x' }, {}, dir, cfg), { name: 'default', host: 'unix:///x' });
  assert.deepEqual(resolveHost({}, { DOCKER_HOST: 'unix:///h' }, dir, cfg), { name: 'default', host: 'unix:///h' });
  assert.deepEqual(resolveHost({ context: 'default' }, {}, dir, cfg), { name: 'default', host: DEFAULT_HOST });
  assert.throws(() => resolveHost({ context: 'bar', host: 'unix:///x' }, {}, dir, cfg), /conflicting options: cannot specify both --host and --context/);
  assert.throws(() => resolveHost({ context: 'nope' }, {}, dir, cfg), (e: unknown) => e instanceof ContextError && /^context "nope": context not found: open .*meta\.json: no such file or directory$/.test(e.message));
});
