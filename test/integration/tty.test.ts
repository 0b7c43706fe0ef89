// Interactive containers against a real berthd: the docker CLI on a real
// terminal (a pty, driven by tty/pty-run.py), dockerode on a TTY container,
// stdin pipes, detach and re-attach, resize, and many clients attached at
// once while the daemon keeps answering.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { Terminal } from './tty/terminal';

// A hijacked attach over a raw socket: what the container prints, and stdin.
interface RawAttach {
  socket: net.Socket;
  data(): Buffer;
  ended: Promise<void>;
}

function rawAttach(d: TestDaemon, id: string, query: string): Promise<RawAttach> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/containers/${id}/attach?${query}`, headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
    req.on('upgrade', (_res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((r) => socket.on('close', () => r()));
      resolve({ socket, data: () => Buffer.concat(chunks), ended });
    });
    req.on('response', (res) => reject(new Error(`attach answered ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const inspect = async (d: TestDaemon, id: string) => JSON.parse((await api(d, 'GET', `/containers/${id}/json`)).body);

describe('interactive containers', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  describe('the docker CLI on a terminal', () => {
    it('docker run -it: a prompt, keys echo, the size it was started with and later resizes, Ctrl-C reaches the process, exit 3 returns 3', async () => {
      const t = new Terminal(d.env, ['docker', 'run', '-it', '--rm', 'busybox', 'sh'], 30, 90);
      try {
        await t.waitFor(/\/ # /, 'the prompt');
        t.type('echo typed-$((6*7))\r');
        // The keys echo (the command line) and the shell answers. The line
        // editor may redraw the line as keys arrive (its cursor query goes
        // unanswered here): read the line as the terminal shows it.
        const shown = await t.waitFor(/\r\ntyped-42/, 'the command\'s output');
        const screen = shown.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[^\n]*\r(?!\n)/g, '');
        assert.match(screen, /echo typed-\$\(\(6\*7\)\)\r\ntyped-42$/, 'the typed keys echoed');
        t.type('stty size; tty; echo $TERM\r');
        await t.waitFor(/30 90\r\n\/dev\/pts\/0\r\nxterm/, 'the size it started with (ConsoleSize), a pty and TERM');
        t.resize(44, 120);
        // The CLI sends the new size on SIGWINCH; the shell sees it.
        await until(async () => {
          t.type('stty size\r');
          try {
            await t.waitFor(/\d+ \d+\r\n/, 'a size', 2000);
          } catch {
            return false;
          }
          return t.text().includes('44 120');
        }, 'the new size inside');
        // The echo shows the shell has handed the terminal over (ISIG on)
        // before the interrupt is typed.
        t.type('echo sleeping; sleep 100\r');
        await t.waitFor(/\r\nsleeping\r\n/, 'sleep to start');
        t.type('\x03');
        await t.waitFor(/\^C/, 'the interrupt echoed');
        t.type('echo after-interrupt\r');
        await t.waitFor(/\r\nafter-interrupt\r\n/, 'the shell back after Ctrl-C');
        t.type('exit 3\r');
        assert.equal(await t.exit(), 3);
      } finally {
        t.kill();
      }
    });

    it('detaches with ctrl-p ctrl-q (exit 0, still running), passes a partial sequence through, re-attaches with docker attach at a new size, and logs show the terminal', async () => {
      const name = 'tty-detach';
      const t = new Terminal(d.env, ['docker', 'run', '-it', '--name', name, 'busybox', 'sh'], 25, 80);
      try {
        await t.waitFor(/\/ # /, 'the prompt');
        // ctrl-p then x: not the sequence, so both reach the shell (ash
        // reads ctrl-p as "previous line", harmless on an empty history).
        t.type('\x10x');
        t.type('\x15echo still-here\r');
        await t.waitFor(/\r\nstill-here\r\n/, 'the shell after a partial sequence');
        t.type('\x10\x11');
        assert.equal(await t.exit(), 0);
      } finally {
        t.kill();
      }
      const info = await inspect(d, name);
      assert.equal(info.State.Running, true);

      const a = new Terminal(d.env, ['docker', 'attach', name], 40, 100);
      try {
        a.type('echo re-$((1+1))\r');
        await a.waitFor(/\r\nre-2\r\n/, 'the shell, re-attached');
        a.type('stty size\r');
        await a.waitFor(/40 100\r\n/, 'the attaching terminal\'s size');
        a.type('\x10\x11');
        // docker attach reports the detach as an error, as with dockerd.
        assert.equal(await a.exit(), 1);
        assert.match(a.text(), /read escape sequence/);
      } finally {
        a.kill();
      }
      assert.equal((await inspect(d, name)).State.Running, true);

      // The log is what the terminal showed: one raw stream, \r\n and all.
      const logs = await docker(d, 'logs', name);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /\r\nstill-here\r\n/);
      assert.match(logs.stdout, /\r\nre-2\r\n/);
      assert.equal(logs.stderr, '');
      assert.equal((await docker(d, 'rm', '-f', name)).code, 0);
    });

    it('honours --detach-keys, and docker attach re-attaches to a non-TTY container', async () => {
      const name = 'keys';
      const t = new Terminal(d.env, ['docker', 'run', '-it', '--detach-keys', 'ctrl-x,x', '--name', name, 'busybox', 'sh'], 25, 80);
      try {
        await t.waitFor(/\/ # /, 'the prompt');
        t.type('\x10\x11');
        t.type('\x15echo not-detached\r');
        await t.waitFor(/\r\nnot-detached\r\n/, 'ctrl-p ctrl-q is typed, not a detach');
        t.type('\x18x');
        assert.equal(await t.exit(), 0);
      } finally {
        t.kill();
      }
      assert.equal((await inspect(d, name)).State.Running, true);
      assert.equal((await docker(d, 'rm', '-f', name)).code, 0);

      // A non-TTY container with stdin open: attach, detach by leaving, attach again.
      const id = (await docker(d, 'run', '-d', '-i', '--name', 'plain-i', 'busybox', 'sh', '-c', 'while read l; do echo "got $l"; done')).stdout.trim();
      for (const word of ['one', 'two']) {
        const at = await rawAttach(d, id, 'stream=1&stdin=1&stdout=1&stderr=1');
        at.socket.write(`${word}\n`);
        await until(() => at.data().includes(`got ${word}`), `the echo of ${word}`);
        at.socket.destroy();
      }
      assert.equal((await inspect(d, id)).State.Running, true, 'stdin outlived both clients (no StdinOnce)');
      assert.equal((await docker(d, 'rm', '-f', id)).code, 0);
    });
  });

  describe('pipes and streams', () => {
    it('echo hi | docker run -i busybox cat: stdin EOF reaches the process and its output still arrives', async () => {
      const r = await run('docker', ['run', '-i', '--rm', 'busybox', 'cat'], d.env, 'hi\n');
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'hi\n', '']);
      const big = 'x'.repeat(200_000) + '\n';
      const w = await run('docker', ['run', '-i', '--rm', 'busybox', 'wc', '-c'], d.env, big);
      assert.equal(w.stdout.trim(), String(big.length));
    });

    it('-a stdout and -a stderr select streams; a TTY has one stream', async () => {
      const cmd = ['sh', '-c', 'echo to-out; echo to-err >&2'];
      const out = await docker(d, 'run', '--rm', '-a', 'stdout', 'busybox', ...cmd);
      assert.deepEqual([out.stdout, out.stderr], ['to-out\n', '']);
      const err = await docker(d, 'run', '--rm', '-a', 'stderr', 'busybox', ...cmd);
      assert.deepEqual([err.stdout, err.stderr], ['', 'to-err\n']);
      const tty = await docker(d, 'run', '--rm', '-t', 'busybox', ...cmd);
      assert.equal(tty.stdout, 'to-out\r\nto-err\r\n');
    });

    it('signals reach the process through the CLI (POST kill), with and without a TTY', async () => {
      for (const flags of [['-i'], ['-it']]) {
        const script = 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.05; done';
        const t = new Terminal(d.env, ['docker', 'run', ...flags, '--rm', 'busybox', 'sh', '-c', script], 24, 80);
        try {
          await t.waitFor(/ready/, 'the trap set');
          t.signal(15); // to the docker CLI, which proxies it

          await t.waitFor(/got-term/, 'the trap to run');
          assert.equal(await t.exit(), 7, flags.join(' '));
        } finally {
          t.kill();
        }
      }
    });
  });

  describe('dockerode on a TTY container', () => {
    it('attaches, types, resizes, and detaches with the daemon-side detach keys; the container keeps running', async () => {
      const dk = new Docker({ socketPath: d.socket });
      const c = await dk.createContainer({ Image: 'busybox', Cmd: ['sh'], Tty: true, OpenStdin: true, HostConfig: { ConsoleSize: [20, 60] } });
      try {
        const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true, detachKeys: 'ctrl-e,e' } as Docker.ContainerAttachOptions)) as unknown as NodeJS.ReadWriteStream;
        let out = '';
        stream.on('data', (b: Buffer) => { out += b.toString(); });
        const ended = new Promise<void>((r) => stream.on('end', () => r()));
        await c.start();
        stream.write('stty size\n');
        await until(() => out.includes('20 60'), 'the console size inside');
        await c.resize({ h: 33, w: 77 });
        stream.write('stty size\n');
        await until(() => out.includes('33 77'), 'the resize inside');
        // dockerode does not look for the keys: the daemon does.
        stream.write('\x05');
        stream.write('e');
        await ended;
        assert.equal((await c.inspect()).State.Running, true);
        const info = await c.inspect();
        assert.deepEqual([info.Config.Tty, info.HostConfig.ConsoleSize], [true, [20, 60]]);
      } finally {
        await c.remove({ force: true });
      }
    });
  });

  describe('many clients attached at once', () => {
    it('80 attached streams hold no daemon threads: /_ping, inspect and a new container are still served, and each stream still works', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await docker(d, 'run', '-d', '-i', 'busybox', 'sh', '-c', 'while read l; do echo "echo:$l"; done');
        assert.equal(r.code, 0, r.stderr);
        ids.push(r.stdout.trim());
      }
      const streams: RawAttach[] = [];
      try {
        for (let i = 0; i < 80; i++) streams.push(await rawAttach(d, ids[i % 8], 'stream=1&stdin=1&stdout=1'));
        // With a pool thread per stream (64 in berthd), these would hang.
        assert.equal((await api(d, 'GET', '/_ping')).body, 'OK');
        assert.equal((await inspect(d, ids[0])).State.Running, true);
        const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'still-served');
        assert.equal(r.stdout, 'still-served\n');
        // Each stream carries its own line there and the container's answer back.
        streams.forEach((s, i) => s.socket.write(`line-${i}\n`));
        await until(() => streams.every((s, i) => s.data().includes(`echo:line-${i}`)), 'every stream answered', 20_000);
      } finally {
        for (const s of streams) s.socket.destroy();
        await docker(d, 'rm', '-f', ...ids);
      }
    });
  });

  describe('across a daemon restart', () => {
    it('a TTY container outlives berthd: docker start -ai before, and after a restart attach, type and resize still work', async () => {
      const id = (await docker(d, 'create', '-it', 'busybox', 'sh')).stdout.trim();
      const t = new Terminal(d.env, ['docker', 'start', '-ai', id], 24, 80);
      try {
        await t.waitFor(/\/ # /, 'the prompt through start -ai');
        t.type('echo $((20+3))\r');
        await t.waitFor(/\r\n23\r\n/, 'the shell');
        t.type('\x10\x11');
        assert.equal(await t.exit(), 0);
      } finally {
        t.kill();
      }
      await d.kill9();
      await d.restart();
      assert.equal((await inspect(d, id)).State.Running, true);
      const a = new Terminal(d.env, ['docker', 'attach', id], 50, 132);
      try {
        a.type('stty size\r');
        await a.waitFor(/50 132\r\n/, 'the new size after the restart');
        a.type('exit 9\r');
        assert.equal(await a.exit(), 9);
      } finally {
        a.kill();
        await docker(d, 'rm', '-f', id);
      }
    });
  });

  describe('bad input', () => {
    it('resize and detach keys get dockerd\'s status and message, and the daemon keeps serving', async () => {
      const id = (await docker(d, 'run', '-d', '-t', 'busybox', 'sleep', '30')).stdout.trim();
      try {
        const cases: [string, number, RegExp][] = [
          [`/containers/${id}/resize?w=80`, 400, /^invalid resize height "": invalid syntax$/],
          [`/containers/${id}/resize?h=24`, 400, /^invalid resize width "": invalid syntax$/],
          [`/containers/${id}/resize?h=abc&w=80`, 400, /^invalid resize height "abc": invalid syntax$/],
          [`/containers/${id}/resize?h=-1&w=80`, 400, /^invalid resize height "-1": value out of range$/],
          [`/containers/${id}/resize?h=24&w=4294967296`, 400, /^invalid resize width "4294967296": value out of range$/],
          [`/containers/${id}/resize?h=%2B5&w=80`, 400, /^invalid resize height "\+5": invalid syntax$/],
          ['/containers/nosuch/resize?h=24&w=80', 404, /^No such container: nosuch$/],
          [`/containers/${id}/attach?stream=1&stdout=1&detachKeys=ctrl-P`, 400, /^Invalid detach keys \(ctrl-P\) provided$/],
          // Checked before the container is looked up, as dockerd does.
          ['/containers/nosuch/attach?stream=1&detachKeys=a,,b', 400, /^Invalid detach keys \(a,,b\) provided$/],
        ];
        for (const [p, status, re] of cases) {
          const r = await api(d, 'POST', p);
          assert.equal(r.status, status, `${p}: ${r.body}`);
          assert.match(JSON.parse(r.body).message, re, p);
        }
        const ok = await api(d, 'POST', `/containers/${id}/resize?h=24&w=80`);
        assert.equal(ok.status, 200, ok.body);
        const created = (await docker(d, 'create', '-t', 'busybox', 'true')).stdout.trim();
        const stopped = await api(d, 'POST', `/containers/${created}/resize?h=24&w=80`);
        assert.equal(stopped.status, 409);
        assert.equal(JSON.parse(stopped.body).message, `container ${created} is not running`);
        await docker(d, 'rm', created);
        const bad = await api(d, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Tty: true, HostConfig: { ConsoleSize: [-3, 80] } }));
        assert.equal(bad.status, 400);
        assert.match(JSON.parse(bad.body).message, /HostConfig\.ConsoleSize/);
        assert.equal((await api(d, 'GET', '/_ping')).body, 'OK');
      } finally {
        await docker(d, 'rm', '-f', id);
      }
    });

    it('resizing a running container without a TTY succeeds and does nothing, as dockerd', async () => {
      const id = (await docker(d, 'run', '-d', 'busybox', 'sleep', '30')).stdout.trim();
      try {
        const r = await api(d, 'POST', `/containers/${id}/resize?h=24&w=80`);
        assert.equal(r.status, 200, r.body);
      } finally {
        await docker(d, 'rm', '-f', id);
      }
    });
  });
});
