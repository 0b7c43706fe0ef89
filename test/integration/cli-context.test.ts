// Contexts: berth and the docker CLI share one context store and one
// currentContext, so a `context use` in either points both at a berthd;
// precedence (-H, --context, DOCKER_HOST, DOCKER_CONTEXT, currentContext)
// as docker's; the context commands' output compared with docker's.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, run, startDaemon, type TestDaemon } from './harness';

describe('contexts shared with the docker CLI', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  let env: NodeJS.ProcessEnv;
  let cfg: string;
  const both = async (...args: string[]) => ({ b: await run(BERTH, args, env), k: await run('docker', args, env) });

  before(async () => {
    d = await startDaemon();
    cfg = path.join(d.base, 'ctx-config');
    env = { ...process.env, DOCKER_CONFIG: cfg };
    delete env.DOCKER_HOST;
    delete env.BERTH_HOST;
    delete env.DOCKER_CONTEXT;
  });
  after(async () => {
    await d?.stop();
  });

  it('a context berth creates and docker uses (and the other way round) reaches berthd from both', async () => {
    const c = await run(BERTH, ['context', 'create', 'bd', '--docker', `host=unix://${d.socket}`, '--description', 'berthd under test'], env);
    assert.deepEqual(c, { code: 0, stdout: 'bd\n', stderr: 'Successfully created context "bd"\n' });
    const use = await run('docker', ['context', 'use', 'bd'], env);
    assert.equal(use.code, 0, use.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')).currentContext, 'bd');
    for (const cli of [BERTH, 'docker']) {
      const v = await run(cli, ['version', '-f', '{{.Server.Version}}'], env);
      assert.equal(v.code, 0, `${cli}: ${v.stderr}`);
      assert.notEqual(v.stdout.trim(), '');
    }
    const info = await run(BERTH, ['info'], env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^ Context: {4}bd$/m);
    // docker creates, berth switches.
    assert.equal((await run('docker', ['context', 'create', 'dk', '--docker', `host=unix://${d.socket}`], env)).code, 0);
    const u = await run(BERTH, ['context', 'use', 'dk'], env);
    assert.deepEqual(u, { code: 0, stdout: 'dk\n', stderr: 'Current context is now "dk"\n' });
    const show = await both('context', 'show');
    assert.equal(show.b.stdout, 'dk\n');
    assert.equal(show.k.stdout, 'dk\n');
  });

  it('precedence: -H > --context > DOCKER_HOST > DOCKER_CONTEXT > currentContext, as docker', async () => {
    assert.equal((await run(BERTH, ['context', 'create', 'broken', '--docker', 'host=unix:///nonexistent/berth.sock'], env)).code, 0);
    const ok = (r: { code: number; stderr: string }) => assert.equal(r.code, 0, r.stderr);
    const bad = (r: { code: number }) => assert.notEqual(r.code, 0);
    const good = `unix://${d.socket}`;
    // currentContext is dk (good); DOCKER_CONTEXT=broken beats it.
    for (const cli of [BERTH, 'docker']) {
      ok(await run(cli, ['ps'], env));
      bad(await run(cli, ['ps'], { ...env, DOCKER_CONTEXT: 'broken' }));
      ok(await run(cli, ['ps'], { ...env, DOCKER_CONTEXT: 'broken', DOCKER_HOST: good }));
      bad(await run(cli, ['ps'], { ...env, DOCKER_CONTEXT: 'dk', DOCKER_HOST: 'unix:///nonexistent/x.sock' }));
      ok(await run(cli, ['--context', 'dk', 'ps'], { ...env, DOCKER_CONTEXT: 'broken', DOCKER_HOST: 'unix:///nonexistent/x.sock' }));
      bad(await run(cli, ['-c', 'broken', 'ps'], { ...env, DOCKER_HOST: good }));
      ok(await run(cli, ['-H', good, 'ps'], { ...env, DOCKER_CONTEXT: 'broken' }));
    }
    const conflict = await both('-H', good, '--context', 'dk', 'ps');
    assert.equal(conflict.b.code, conflict.k.code);
    assert.equal(conflict.b.stderr, conflict.k.stderr);
    const missing = await both('--context', 'nope', 'ps');
    assert.equal(missing.b.code, missing.k.code);
    assert.equal(missing.b.stderr, missing.k.stderr);
  });

  it('ls, inspect, rm print what docker prints', async () => {
    const e = { ...env, DOCKER_HOST: `unix://${d.socket}` };
    for (const args of [['context', 'ls'], ['context', 'ls', '-q'], ['context', 'ls', '--format', 'json'], ['context', 'ls', '--format', '{{.Name}}:{{.Current}}'], ['context', 'inspect', 'bd', 'default'], ['context', 'inspect', 'nope'], ['context', 'use', 'nope'], ['context', 'create', 'default'], ['context', 'create', 'a b'], ['context', 'create', 'bd']]) {
      const b = await run(BERTH, args, e);
      const k = await run('docker', args, e);
      assert.deepEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr }, { code: k.code, stdout: k.stdout, stderr: k.stderr }, args.join(' '));
    }
    for (const args of [['context', 'rm', 'dk'], ['context', 'rm', 'nope']]) {
      const b = await run(BERTH, args, env);
      const k = await run('docker', args, env);
      assert.deepEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr }, { code: k.code, stdout: k.stdout, stderr: k.stderr }, args.join(' '));
    }
    const rm = await run(BERTH, ['context', 'rm', '-f', 'dk', 'bd'], env);
    assert.deepEqual(rm, { code: 0, stdout: 'dk\nbd\n', stderr: '' });
    assert.equal(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')).currentContext, undefined);
    const ls = await run('docker', ['context', 'ls', '-q'], env);
    assert.equal(ls.stdout, 'broken\ndefault\n');
  });
});
