// ExecProber: healthcheck probes as exec sessions of the exec service, over
// the fake runtime (no real process or timer): what a probe runs with, its
// output, its exit code, a kill, a probe that cannot start, and the
// session dropped once its code is read.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExecService } from '../../../../src/engine/containers/exec';
import { ExecProber } from '../../../../src/engine/containers/health';
import { harness, spec, type Harness } from './fakes';

let h: Harness;
let execs: ExecService;
let cid: string;

// Lets the fake runtime's promises and streams move on.
const settle = () => new Promise((r) => setImmediate(r));

describe('ExecProber', () => {
  beforeEach(async () => {
    h = await harness();
    execs = new ExecService(
      { containers: h.service, runtime: h.runtime, rootfs: (id) => path.join(h.rootfs.containerDir(id), 'merged'), events: { publish: (type, action, id, attributes = {}) => h.events.push({ type, action, id, attributes, timeNano: 0n }) } },
      { privilegedCaps: [] },
    );
    ({ id: cid } = await h.service.create(spec({ process: { ...spec().process, env: ['PATH=/bin', 'A=1'], cwd: '/srv', user: 'app' } }), { name: 'web' }));
    const etc = path.join(h.rootfs.containerDir(cid), 'merged', 'etc');
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(etc, 'group'), 'root:x:0:\napp:x:1000:\n');
    await h.service.start('web');
    h.events.length = 0;
  });
  afterEach(() => {
    execs.shutdown();
    h.cleanup();
  });

  test('runs the probe as the container\'s user, with its env and cwd; output of both streams; its exit code; exec events', async () => {
    const out: string[] = [];
    const run = new ExecProber(execs).start(h.service.get('web'), ['/bin/sh', '-c', 'check'], (d) => out.push(d.toString()));
    await run.started;
    const [id, e] = [...h.runtime.execs.entries()][0];
    assert.deepEqual(e.process.args, ['/bin/sh', '-c', 'check']);
    assert.deepEqual([e.process.user.uid, e.process.cwd, e.process.terminal], [1000, '/srv', false]);
    assert.ok(e.process.env.includes('A=1'));
    assert.deepEqual(e.opts, { attach: true, stdin: false, tty: false });
    e.out.write(Buffer.from('\x02hello '));
    e.out.write(Buffer.from('\x03err'));
    e.exit(1);
    assert.equal(await run.exit, 1);
    assert.equal(out.join(''), 'hello err');
    assert.deepEqual(h.events.map((x) => x.action), ['exec_create: /bin/sh -c check', 'exec_start: /bin/sh -c check', 'exec_die']);
    // The session is dropped once its code is read.
    assert.throws(() => execs.inspect(id), /No such exec instance/);
  });

  test('kill signals the probe\'s process; its exit follows', async () => {
    const run = new ExecProber(execs).start(h.service.get('web'), ['sleep', '100'], () => {});
    await run.started;
    const [id, e] = [...h.runtime.execs.entries()][0];
    const pid = execs.inspect(id).pid;
    run.kill();
    assert.ok(h.runtime.log.includes(`kill ${pid} SIGKILL`), h.runtime.log.join('\n'));
    e.exit(137);
    assert.equal(await run.exit, 137);
  });

  test('a probe that cannot start rejects with the runtime\'s message', async () => {
    h.runtime.execFailure = 'exec: "nope": executable file not found in $PATH';
    const run = new ExecProber(execs).start(h.service.get('web'), ['nope'], () => {});
    await assert.rejects(run.started, /OCI runtime exec failed: exec: "nope": executable file not found/);
    await assert.rejects(run.exit);
  });

  test('the container stopping ends a probe without a code', async () => {
    const run = new ExecProber(execs).start(h.service.get('web'), ['sleep', '100'], () => {});
    await run.started;
    execs.containerExited(cid);
    await assert.rejects(run.exit);
    await settle();
  });
});
