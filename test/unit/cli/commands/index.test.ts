// The command table: docker commands berth lacks say so; typos stay
// unknown; flags of berth's commands that berthd does not apply are refused.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GROUPS, notImplemented, TOP } from '../../../../src/cli/commands';
import { berth as runBerth } from '../berth';
import { FakeDaemon } from '../fake-daemon';

describe('the command table', () => {
  it('names each command as its module does, so it is found without loading the others', async () => {
    for (const r of TOP) assert.equal((await r.load()).name, r.name);
    for (const [g, group] of Object.entries(GROUPS)) {
      for (const [key, r] of Object.entries(group.commands)) {
        const c = await r.load();
        assert.equal(c.name, r.name, `${g} ${key}`);
        assert.ok(key === c.name || (c.aliases ?? []).includes(key) || ['ls', 'list', 'remove'].includes(key), `${g} ${key} is ${c.name}`);
      }
    }
  });

  let d: FakeDaemon;
  let tmp: string;
  const berth = (args: string[]) => runBerth(d.host, args, { env: { DOCKER_CONFIG: path.join(tmp, 'config') } });

  before(async () => {
    d = new FakeDaemon();
    await d.listen();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-table-'));
  });
  after(async () => {
    await d.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    d.requests.length = 0;
  });

  it('says which docker commands are not implemented yet', async () => {
    for (const [args, what] of [
      [['secret', 'ls'], 'secret ls'],
      [['secret'], 'secret'],
      [['volume', 'update', 'v'], 'volume update'],
      [['builder', 'prune', '-f'], 'builder prune'],
      [['swarm', 'init'], 'swarm init'],
      [['compose'], undefined],
    ] as const) {
      const r = await berth([...args]);
      if (!what) continue;
      assert.deepEqual(r, { code: 1, out: '', err: `berth: '${what}' is not implemented yet\n` }, args.join(' '));
    }
    assert.deepEqual(d.requests, []);
    assert.equal(notImplemented('search', undefined), 'search');
    assert.equal(notImplemented('build', undefined), undefined);
    assert.equal(notImplemented('exec', undefined), undefined);
    assert.equal(notImplemented('run', undefined), undefined);
  });

  it('keeps docker\'s "unknown command" for a typo', async () => {
    assert.deepEqual(await berth(['exce']), { code: 1, out: '', err: "berth: unknown command: berth exce\n\nRun 'berth --help' for more information\n" });
    const sub = await berth(['container', 'exce']);
    assert.equal(sub.code, 1);
    assert.match(sub.err, /^berth: unknown command: berth container exce\n/);
    assert.equal((await berth(['composer', 'up'])).err, "berth: unknown command: berth composer\n\nRun 'berth --help' for more information\n");
  });

  it("refuses other commands' flags that berthd does not apply", async () => {
    for (const args of [
      ['rm', '-l', 'web'], ['start', '--checkpoint', 'c1', 'web'], ['save', '--platform', 'linux/amd64', '-o', 'x.tar', 'busybox'],
      ['load', '--platform', 'linux/amd64', '-i', 'x.tar'], ['history', '--platform', 'linux/amd64', 'busybox'], ['import', '--platform', 'linux/amd64', '-'],
      ['push', '--platform', 'linux/amd64', 'localhost:5000/x'], ['pull', '--disable-content-trust=false', 'busybox'], ['images', '--tree'],
      ['image', 'inspect', '--platform', 'linux/amd64', 'busybox'], ['rmi', '--platform', 'linux/amd64', 'busybox'],
    ]) {
      const flag = args.find((a) => a.startsWith('-'))!.replace(/=.*/, '');
      const r = await berth(args);
      assert.equal(r.code, 125, args.join(' '));
      assert.ok(r.err.startsWith(`\`${flag}\` is not supported by berth yet\n\nUsage:  berth `), r.err);
    }
    const global = await berth(['--tlsverify', 'ps']);
    assert.deepEqual(global, { code: 125, out: '', err: "`--tlsverify` is not supported by berth yet\n\nRun 'berth --help' for more information\n" });
    // A context that does not exist: docker's init failure, no request.
    const remote = await berth(['-c', 'remote', 'ps']);
    assert.equal(remote.code, 1);
    assert.match(remote.err, /^Failed to initialize: unable to resolve docker endpoint: context "remote": context not found: /);
    assert.deepEqual(d.requests, []);
    assert.equal((await berth(['-c', 'default', 'ps'])).code, 0);
    assert.equal((await berth(['pull', '--disable-content-trust', '-q', 'nothing-here'])).err, "Error response from daemon: pull access denied for nothing-here, repository does not exist or may require 'docker login'\n");
  });

  it('asks for sizes with inspect --size', async () => {
    d.addContainer({ Name: '/sized' });
    await berth(['inspect', '--size', 'sized']);
    await berth(['container', 'inspect', '-s', 'sized']);
    assert.deepEqual(d.requests.map((r) => r.url.replace(/^\/v[\d.]+/, '')), ['/containers/sized/json?size=1', '/containers/sized/json?size=1']);
  });
});
