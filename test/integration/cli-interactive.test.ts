// berth's interactive commands against a real berthd, next to the docker
// CLI on the same daemon: run -it, start -ai, attach and exec -it on a real
// terminal (tty/terminal.ts: a pty the test types into and resizes),
// detaching, resize, and the same for pipes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, berth, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { Terminal } from './tty/terminal';

// busybox ash's prompt, which asks the terminal where the cursor is (no
// one answers here); on a resize (SIGWINCH) it draws the line again.
const PROMPT = /# \x1b\[6n/;
const REDRAWN = /\r\/ # \x1b\[J/;

// The first prompt, once the size sent at start has redrawn it (or after a
// moment, for a process whose terminal had its size from the start).
async function firstPrompt(t: Terminal): Promise<void> {
  await t.waitFor(PROMPT, 'the prompt');
  await t.waitFor(REDRAWN, 'the prompt redrawn', 1000).catch(() => {});
}

const inspect = async (d: TestDaemon, name: string) => JSON.parse((await docker(d, 'inspect', name)).stdout)[0];

describe('berth on a terminal, next to docker', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  const cli = { berth: BERTH, docker: 'docker' };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  // One shell session, typed the same way into each CLI.
  async function shellSession(which: 'berth' | 'docker'): Promise<{ code: number; text: string }> {
    const t = new Terminal(d.env, [cli[which], 'run', '-it', '--rm', 'busybox', 'sh']);
    await firstPrompt(t);
    t.type('echo hi; stty size\r');
    await t.waitFor(/30 90\r\n/, 'the size');
    await t.waitFor(PROMPT, 'the prompt');
    t.type('exit 3\r');
    // Whether ash redraws its first prompt depends on when the resize at
    // start lands; the rest must match byte for byte.
    return { code: await t.exit(), text: t.text().replace(/\r\/ # \x1b\[J/g, '') };
  }

  it('run -it: a shell on our terminal, its size, its exit code; what docker shows', async () => {
    const b = await shellSession('berth');
    const k = await shellSession('docker');
    assert.equal(b.code, 3);
    assert.deepEqual(b, k);
  });

  it('run -it follows a resize (SIGWINCH)', async () => {
    const t = new Terminal(d.env, [BERTH, 'run', '-it', '--rm', 'busybox', 'sh']);
    await firstPrompt(t);
    t.resize(40, 100);
    // The container learns the size asynchronously: ask until it has it.
    for (let i = 0; ; i++) {
      t.type('stty size\r');
      const shown = await t.waitFor(/\d+ \d+\r\n/, 'a size');
      if (shown.endsWith('40 100\r\n')) break;
      assert.ok(i < 50, `the size never reached the container: ${JSON.stringify(t.text())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.type('exit\r');
    assert.equal(await t.exit(), 0);
  });

  it('detaches with ctrl-p ctrl-q, re-attaches, and detaches again with --detach-keys', async () => {
    const t = new Terminal(d.env, [BERTH, 'run', '-it', '--name', 'detachme', 'busybox', 'sh']);
    await firstPrompt(t);
    await t.keys('\x10', '\x11');
    assert.equal(await t.exit(), 0);
    assert.equal((await inspect(d, 'detachme')).State.Running, true);

    // attach ends with docker's "read escape sequence", status 1, like docker.
    for (const which of ['berth', 'docker'] as const) {
      const a = new Terminal(d.env, [cli[which], 'attach', '--detach-keys', 'ctrl-x,x', 'detachme']);
      await new Promise((r) => setTimeout(r, 300));
      a.type(`echo back-${which}\r`);
      await a.waitFor(new RegExp(`\r\nback-${which}\r\n`), 'the echo');
      await a.keys('\x18', 'x');
      assert.equal(await a.exit(), 1, which);
      assert.match(a.text(), /read escape sequence\r\n$/, which);
    }
    assert.equal((await inspect(d, 'detachme')).State.Running, true);

    // detachKeys from the client's config file.
    const cfg = path.join(d.base, 'cfg');
    fs.mkdirSync(cfg, { recursive: true });
    fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-a,a' }));
    const c = new Terminal({ ...d.env, DOCKER_CONFIG: cfg }, [BERTH, 'attach', 'detachme']);
    await new Promise((r) => setTimeout(r, 300));
    await c.keys('\x01', 'a');
    assert.equal(await c.exit(), 1);
    assert.equal((await inspect(d, 'detachme')).State.Running, true);
    await berth(d, 'rm', '-f', 'detachme');
  });

  it('start -ai attaches a terminal to a created container', async () => {
    assert.equal((await berth(d, 'create', '-it', '--name', 'later', 'busybox', 'sh')).code, 0);
    const t = new Terminal(d.env, [BERTH, 'start', '-ai', 'later']);
    await firstPrompt(t);
    t.type('exit 4\r');
    assert.equal(await t.exit(), 4);
    await berth(d, 'rm', 'later');
  });

  it('exec -it and exec: a shell in a running container, exit codes, output like docker', async () => {
    assert.equal((await berth(d, 'run', '-d', '--name', 'host', 'busybox', 'sleep', '1000')).code, 0);
    const t = new Terminal(d.env, [BERTH, 'exec', '-it', 'host', 'sh']);
    await firstPrompt(t);
    t.type('stty size; exit 5\r');
    await t.waitFor(/30 90\r\n/, 'the size');
    assert.equal(await t.exit(), 5);

    // Detaching from an exec ends as docker's does: its message, status 1.
    for (const which of ['berth', 'docker'] as const) {
      const x = new Terminal(d.env, [cli[which], 'exec', '-it', 'host', 'sh']);
      await firstPrompt(x);
      await x.keys('\x10', '\x11');
      assert.equal(await x.exit(), 1, which);
      assert.match(x.text(), /read escape sequence\r\n$/, which);
    }

    for (const args of [['exec', 'host', 'echo', 'plain'], ['exec', '-e', 'A=1', '-w', '/tmp', 'host', 'sh', '-c', 'echo $A $PWD; echo err >&2; exit 2'], ['exec', 'nosuch', 'true']]) {
      const b = await berth(d, ...args);
      const k = await docker(d, ...args);
      assert.equal(b.code, k.code, args.join(' '));
      assert.equal(b.stdout, k.stdout, args.join(' '));
      assert.equal(b.stderr, k.stderr, args.join(' '));
    }
    const piped = await run(BERTH, ['exec', '-i', 'host', 'cat'], d.env, 'through stdin\n');
    assert.deepEqual(piped, { code: 0, stdout: 'through stdin\n', stderr: '' });
    const notty = await run(BERTH, ['exec', '-it', 'host', 'sh'], d.env, '');
    assert.deepEqual(notty, { code: 1, stdout: '', stderr: 'the input device is not a TTY\n' });
    await berth(d, 'rm', '-f', 'host');
  });

  it('pipes stdin with -i, and -a picks the streams', async () => {
    assert.deepEqual(await run(BERTH, ['run', '-i', '--rm', 'busybox', 'cat'], d.env, 'hello\n'), { code: 0, stdout: 'hello\n', stderr: '' });
    const sh = ['sh', '-c', 'echo out; echo err >&2'];
    for (const a of [['-a', 'stdout'], ['-a', 'stderr'], ['-a', 'stdout', '-a', 'stderr']]) {
      const b = await berth(d, 'run', '--rm', ...a, 'busybox', ...sh);
      const k = await docker(d, 'run', '--rm', ...a, 'busybox', ...sh);
      assert.deepEqual(b, k, a.join(' '));
    }
  });
});
