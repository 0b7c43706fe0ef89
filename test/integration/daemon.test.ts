// berthd as a process: a client's pattern cannot stall it, a client that
// hangs up mid-upload is no internal error, requests are logged at debug,
// and daemons on different roots run side by side without extra flags.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, BERTHD, busyboxTarFile, cleanupRoots, importBusybox, ping, sleep, startDaemon, type TestDaemon } from './harness';

const json = (r: { body: string }) => JSON.parse(r.body);

describe('client patterns', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  it('a catastrophic name pattern answers, and /_ping answers meanwhile', async () => {
    // ^(a+)+$ against 31 a's and a b: 2^31 paths for a backtracking engine.
    const name = `${'a'.repeat(31)}b`;
    const r = await api(d, 'POST', `/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    assert.equal(r.status, 201, r.body);
    const list = (pattern: string) => api(d, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: [pattern] }))}`);
    const slow = list('^(a+)+$');
    const [filtered, pinged] = await Promise.all([slow, ping(d.socket)]);
    assert.equal(pinged, true);
    assert.equal(filtered.status, 200, filtered.body);
    assert.deepEqual(json(filtered), []);
    const hit = await list('^(a+)+b$');
    assert.deepEqual(json(hit).map((c: { Names: string[] }) => c.Names), [[`/${name}`]]);
    // Go's syntax: (?i) and a Go-only escape; a backreference (invalid in Go) matches nothing.
    assert.equal(json(await list(`(?i)^A{15}a+B$`)).length, 1);
    assert.equal(json(await list('\\Aa+b\\z')).length, 1);
    const bad = await list('(a)\\1');
    assert.equal(bad.status, 200, bad.body);
    assert.deepEqual(json(bad), []);
  });

  it('a reference glob with many stars answers', async () => {
    await importBusybox(d, `${'a'.repeat(40)}/x:latest`);
    const r = await api(d, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ reference: ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'] }))}`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), []);
    const hit = await api(d, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ reference: ['a*/x'] }))}`);
    assert.deepEqual(json(hit).flatMap((i: { RepoTags: string[] }) => i.RepoTags), [`${'a'.repeat(40)}/x:latest`]);
    assert.equal(await ping(d.socket), true);
  });

  it('logs each request at debug', async () => {
    await api(d, 'GET', '/v1.51/version?x=1');
    assert.match(d.log(), /level=debug msg="GET \/v1\.51\/version\?x=1"/);
  });
});

// Sends the headers and part of a body, then hangs up.
function hangUpMidBody(d: TestDaemon, method: string, p: string, part: Buffer, contentType: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: d.socket, path: p, method, headers: { 'Content-Type': contentType, 'Content-Length': String(part.length * 10) } });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(part, () => setTimeout(() => {
      req.destroy();
      resolve();
    }, 300));
  });
}

describe('a client that hangs up mid-upload', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(['--log-level', 'info']);
  });
  after(async () => {
    await d?.stop();
  });

  it('is not logged as an internal error, and leaves nothing behind', async () => {
    const tar = fs.readFileSync(await busyboxTarFile());
    await hangUpMidBody(d, 'POST', '/images/create?fromSrc=-&repo=cut', tar.subarray(0, 300_000), 'application/x-tar');
    await hangUpMidBody(d, 'POST', '/images/load', tar.subarray(0, 300_000), 'application/x-tar');
    await hangUpMidBody(d, 'POST', '/containers/create?name=cut', Buffer.from('{"Image": "busybox", "Cmd": ["tr'), 'application/json');
    await sleep(500);
    assert.equal(await ping(d.socket), true);
    const log = d.log();
    assert.doesNotMatch(log, /internal error/);
    assert.doesNotMatch(log, /(\\n|\n)\s+at /, 'no stack trace');
    assert.doesNotMatch(log, /level=debug/, 'the daemon runs at info');
    assert.deepEqual(json(await api(d, 'GET', '/images/json')), []);
    assert.deepEqual(json(await api(d, 'GET', '/containers/json?all=1')), []);
  });
});

describe('two daemons on different roots', { timeout: 60_000 }, () => {
  const bases: string[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const b of bases) await cleanupRoots(b, path.join(b, 'x'));
  });

  // berthd with only its roots and socket: no --pidfile.
  async function launch(): Promise<{ base: string; socket: string; child: ChildProcess; log: () => string }> {
    const base = fs.mkdtempSync('/tmp/bt-');
    bases.push(base);
    const socket = path.join(base, 's.sock');
    fs.writeFileSync(path.join(base, 'daemon.json'), '{}');
    const out = fs.openSync(path.join(base, 'log'), 'a');
    const child = spawn(BERTHD, ['--data-root', path.join(base, 'd'), '--exec-root', path.join(base, 'x'), '-H', `unix://${socket}`, '--config-file', path.join(base, 'daemon.json')], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    children.push(child);
    const log = () => fs.readFileSync(path.join(base, 'log'), 'utf8');
    for (let i = 0; !(await ping(socket)); i++) {
      if (child.exitCode !== null) throw new Error(`berthd exited: ${log()}`);
      await sleep(50);
    }
    return { base, socket, child, log };
  }

  it('each writes <exec-root>/berthd.pid, and both answer', async () => {
    const a = await launch();
    const b = await launch();
    for (const x of [a, b]) {
      assert.equal(fs.readFileSync(path.join(x.base, 'x', 'berthd.pid'), 'utf8').trim(), String(x.child.pid));
      assert.equal(await ping(x.socket), true);
    }
    // A third on a's exec root is refused by the pidfile, and a's socket stays a's.
    const c = spawn(BERTHD, ['--data-root', path.join(a.base, 'd2'), '--exec-root', path.join(a.base, 'x'), '-H', `unix://${a.socket}`, '--config-file', path.join(a.base, 'daemon.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (x) => (err += x));
    const code = await new Promise((r) => c.on('exit', r));
    assert.equal(code, 1);
    assert.match(err, /pid file found/);
    assert.equal(await ping(a.socket), true);
    // Stopping removes the pidfile.
    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGTERM');
    await exited;
    assert.equal(fs.existsSync(path.join(a.base, 'x', 'berthd.pid')), false);
    assert.equal(await ping(b.socket), true);
  });

  it('a daemon does not take a socket another one answers on', async () => {
    const a = await launch();
    const base = fs.mkdtempSync('/tmp/bt-');
    bases.push(base);
    fs.writeFileSync(path.join(base, 'daemon.json'), '{}');
    const c = spawn(BERTHD, ['--data-root', path.join(base, 'd'), '--exec-root', path.join(base, 'x'), '-H', `unix://${a.socket}`, '--config-file', path.join(base, 'daemon.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (x) => (err += x));
    const code = await new Promise((r) => c.on('exit', r));
    assert.equal(code, 1);
    assert.match(err, /another daemon is listening on/);
    assert.equal(fs.existsSync(path.join(base, 'x', 'berthd.pid')), false, 'its pidfile is removed');
    assert.equal(await ping(a.socket), true);
  });
});
