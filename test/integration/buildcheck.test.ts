// berth build --check (findings with their line and fix, and what the build
// measured), docker history and berth history of a built image (each
// step's image, instruction and size), and berth build's display: plain
// lines off a terminal, the redrawn BuildKit-style summary on one (a pty).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';
import { Terminal } from './tty/terminal';

const ok = (r: { code: number; stderr: string; stdout: string }, what = '') => assert.equal(r.code, 0, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

function writeTree(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
  }
}

describe('builder: --check, history, display', () => {
  let d: TestDaemon;
  let tmp: string;
  const berthB = (args: string[], input?: string) => run(BERTH, ['build', ...args], d.env, input, 180000);

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-buildcheck-it-'));
  });

  after(async () => {
    await d?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('berth build --check: each finding with its line and fix, and the sizes the build measured', async () => {
    const ctx = path.join(tmp, 'check');
    writeTree(ctx, {
      'big.bin': Buffer.alloc(300_000, 7),
      'package.json': '{}',
      Dockerfile: [
        'FROM busybox', // 1: base-tag, no-user
        'ARG API_TOKEN=x', // 2: secret-arg
        'COPY . /app', // 3: copy-before-install
        'RUN echo npm ci > /dev/null', // 4
        'ADD package.json /app/pkg.json', // 5: add-not-copy
        'RUN dd if=/dev/zero of=/junk bs=1k count=200', // 6
        'RUN rm -f /app/big.bin /junk', // 7: consecutive-run, deleted-later x2
        '',
      ].join('\n'),
    });
    const r = await berthB(['--check', '--network', 'none', '-t', 'checked', ctx]);
    ok(r, 'berth build --check');
    const out = r.stdout;
    for (const [line, rule] of [[1, 'base-tag'], [1, 'no-user'], [2, 'secret-arg'], [3, 'copy-before-install'], [5, 'add-not-copy'], [7, 'consecutive-run'], [7, 'deleted-later']] as const) {
      assert.match(out, new RegExp(`^Dockerfile:${line}: \\[${rule}\\] .+\\n  fix: .+`, 'm'), `${rule} on line ${line}:\n${out}`);
    }
    assert.match(out, /fix: COPY package\.json \/app\/pkg\.json/);
    // Measured: the bytes the removed files keep in their earlier layers.
    assert.match(out, /measured: \/app\/big\.bin holds 300\.0 kB in the layer of line 3/);
    assert.match(out, /measured: \/junk holds 204\.8 kB in the layer of line 6/);
    assert.match(out, /measured: every edit re-runs line 4, which took [\d.]+ s and adds 0 B/);
    // The layer table: what each step adds.
    assert.match(out, /^\s+3\s+30\d\.\d kB\s+[\d.]+s\s+COPY \. \/app$/m);
    assert.match(out, /^\s+6\s+20\d\.\d kB\s+[\d.]+s\s+RUN dd /m);
    // It built the image too, and COPY . /app put the context under /app.
    const ls = await docker(d, 'run', '--rm', '--network', 'none', 'checked', 'ls', '/app');
    assert.equal(ls.stdout, 'Dockerfile\npackage.json\npkg.json\n');
    // A clean Dockerfile: no findings.
    const clean = path.join(tmp, 'clean');
    writeTree(clean, { Dockerfile: 'FROM busybox:1.36\nUSER 1000\n', '.dockerignore': '' });
    ok(await docker(d, 'tag', 'busybox', 'busybox:1.36'));
    const c = await berthB(['--check', clean]);
    ok(c);
    assert.match(c.stdout, /^Dockerfile: no findings$/m);
  });

  it('berth build --check of a build that fails: the findings, and why nothing was measured', async () => {
    const ctx = path.join(tmp, 'checkfail');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nADD a /a\nRUN exit 3\n', a: 'a' });
    const r = await berthB(['--check', '--network', 'none', ctx]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^Dockerfile:2: \[add-not-copy\]/m);
    assert.match(r.stdout, /Nothing measured: the build failed: The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
  });

  it('docker history and berth history: each step, its image, instruction and size', async () => {
    const ctx = path.join(tmp, 'history');
    writeTree(ctx, { 'f.txt': 'x'.repeat(5000), Dockerfile: 'FROM busybox\nWORKDIR /w\nCOPY f.txt .\nRUN rm /etc/group && echo hi > /hi\nCMD ["sh"]\n' });
    ok(await run('docker', ['build', '-q', '--network', 'none', '-t', 'hist2', ctx], { ...d.env, DOCKER_BUILDKIT: '0' }, undefined, 180000));
    const h = await docker(d, 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'hist2');
    ok(h);
    const rows = h.stdout.trim().split('\n').map((l) => l.split('|'));
    assert.equal(rows.length, 5, h.stdout);
    assert.match(rows[0][1], /^\/bin\/sh -c #\(nop\)\s+CMD \["sh"\]$/);
    assert.equal(rows[0][2], '0B');
    assert.equal(rows[1][1], '/bin/sh -c rm /etc/group && echo hi > /hi');
    assert.notEqual(rows[1][2], '0B');
    assert.match(rows[2][1], /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/w\/ $/);
    assert.match(rows[2][2], /^[5-8]\.\d+kB$/); // the 5,000 bytes, as a tar
    assert.match(rows[3][1], /^\/bin\/sh -c #\(nop\)\s*WORKDIR \/w$/);
    assert.equal(rows[3][2], '0B');
    // Every step is a local image: its id, not <missing>; the base is busybox's.
    const busybox = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim();
    assert.equal(rows[4][0], busybox);
    for (const r of rows) assert.match(r[0], /^sha256:[0-9a-f]{64}$/);
    assert.equal(new Set(rows.map((r) => r[0])).size, 5);
    // berth history: the same.
    const b = await run(BERTH, ['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'hist2'], d.env);
    ok(b);
    assert.equal(b.stdout, h.stdout);
    // The RUN's deletion is a whiteout in its layer: the file is gone.
    const cat = await docker(d, 'run', '--rm', '--network', 'none', 'hist2', 'sh', '-c', 'ls /etc/group; cat /hi');
    assert.equal(cat.stdout, 'hi\n');
    assert.match(cat.stderr, /\/etc\/group: No such file or directory/);
  });

  it('berth build display: plain lines off a terminal (steps, output, durations, CACHED, the failing step)', async () => {
    const ctx = path.join(tmp, 'display');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo step-output\nENV A=1\n' });
    const first = await berthB(['--network', 'none', '-t', 'disp', ctx]);
    ok(first);
    assert.match(first.stderr, /^#1 \[internal\] load build context$/m);
    assert.match(first.stderr, /^#3 \[2\/3\] RUN echo step-output\n#3 +[\d.]+ step-output\n#3 DONE [\d.]+s$/m);
    const again = await berthB(['--progress=plain', '--network', 'none', '-t', 'disp', ctx]);
    ok(again);
    assert.match(again.stderr, /^#3 \[2\/3\] RUN echo step-output\n#3 CACHED$/m);
    assert.match(again.stderr, /^#4 \[3\/3\] ENV A=1\n#4 CACHED$/m);
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo about-to-fail; exit 4\n' });
    const failed = await berthB(['--network', 'none', ctx]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^#3 +[\d.]+ about-to-fail$/m);
    assert.match(failed.stderr, /^ERROR: failed to solve: The command '\/bin\/sh -c echo about-to-fail; exit 4' returned a non-zero code: 4$/m);
  });

  it('berth build display on a terminal: the redrawn summary, CACHED markers and the failing step\'s output', async () => {
    const ctx = path.join(tmp, 'tty');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo on-a-tty\n' });
    ok(await berthB(['--network', 'none', '-t', 'ttyb', ctx]));
    const t = new Terminal(d.env, [BERTH, 'build', '--network', 'none', '-t', 'ttyb', ctx], 30, 100);
    await t.waitFor(/=> CACHED \[2\/2\] RUN echo on-a-tty/, 'the CACHED row');
    assert.equal(await t.exit(60_000), 0, t.text());
    assert.match(t.text(), /\[\+\] Building [\d.]+s \(\d+\/\d+\)/);
    assert.match(t.text(), /\x1b\[\d+A/, 'redrawn in place');
    assert.doesNotMatch(t.text(), /^#\d+ /m, 'no plain lines on a terminal');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo tty-fail-output; exit 5\n' });
    const f = new Terminal(d.env, [BERTH, 'build', '--network', 'none', ctx], 30, 100);
    assert.equal(await f.exit(60_000), 1, f.text());
    assert.match(f.text(), /=> ERROR \[2\/2\] RUN echo tty-fail-output; exit 5/);
    assert.match(f.text(), /=> => # tty-fail-output/);
    assert.match(f.text(), /ERROR: failed to solve: .*returned a non-zero code: 5/);
  });
});
