// berth's container commands beyond the lifecycle (pause, rename, top,
// diff, stats, events, cp) against a real berthd, next to what the docker
// CLI prints for the same daemon.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, berth, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';

const same = async (d: TestDaemon, args: string[]) => {
  const b = await berth(d, ...args);
  const k = await docker(d, ...args);
  assert.deepEqual(b, k, args.join(' '));
  return b;
};

// A local tree as "path mode size content" lines (mtimes aside).
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p);
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? `l>${fs.readlinkSync(p)}` : `f:${fs.readFileSync(p, 'utf8')}`;
    out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${kind}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out;
}

describe('berth container commands, next to docker', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    assert.equal((await berth(d, 'run', '-d', '--name', 'box', 'busybox', 'sh', '-c', 'mkdir -p /data/sub /in-berth-0 /in-berth-1 /in-berth-2 /in-berth-3 /in-berth-4 /in-docker-0 /in-docker-1 /in-docker-2 /in-docker-3 /in-docker-4 && echo one > /data/a && echo two > /data/sub/b && ln -s a /data/link && rm /bin/true && sleep 1000')).code, 0);
    // Until its shell has made the files.
    for (let i = 0; !(await docker(d, 'diff', 'box')).stdout.includes('A /data/link\n'); i++) {
      assert.ok(i < 100, 'the container never made its files');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await d?.stop();
  });

  it('pause and unpause print the names; errors as docker', async () => {
    const paused = async () => JSON.parse((await docker(d, 'inspect', 'box')).stdout)[0].State.Paused;
    // Each CLI from the same state: pause, then unpause.
    for (const args of [['pause', 'box'], ['pause', 'box', 'nosuch']]) {
      const b = await berth(d, ...args);
      assert.equal(await paused(), true);
      assert.deepEqual(await berth(d, 'unpause', 'box'), { code: 0, stdout: 'box\n', stderr: '' });
      const k = await docker(d, ...args);
      assert.deepEqual(b, k, args.join(' '));
      assert.deepEqual(await docker(d, 'unpause', 'box'), { code: 0, stdout: 'box\n', stderr: '' });
    }
    assert.equal(await paused(), false);
    await same(d, ['unpause', 'box']);
  });

  it('rename, and its errors', async () => {
    assert.deepEqual(await berth(d, 'rename', 'box', 'box2'), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await berth(d, 'rename', 'box2', 'box'), { code: 0, stdout: '', stderr: '' });
    await same(d, ['rename', 'nosuch', 'other']);
    await same(d, ['rename', ' ', 'other']);
  });

  it('top prints the daemon table as docker does', async () => {
    const b = await same(d, ['top', 'box']);
    assert.match(b.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
    await same(d, ['top', 'box', '-o', 'pid,comm']);
    await same(d, ['top', 'nosuch']);
  });

  it('diff lists the changes as docker does', async () => {
    const b = await same(d, ['diff', 'box']);
    assert.match(b.stdout, /^A \/data\/a$/m);
    assert.match(b.stdout, /^D \/bin\/true$/m);
    await same(d, ['diff', 'nosuch']);
  });

  it('stats --no-stream: the same table and templates', async () => {
    const fmt = '{{.Name}} {{.ID}} {{.Container}}';
    await same(d, ['stats', '--no-stream', '--format', fmt, 'box']);
    await same(d, ['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}}', 'box']);
    const b = await berth(d, 'stats', '--no-stream', 'box');
    assert.equal(b.code, 0, b.stderr);
    const [head, row] = b.stdout.split('\n');
    // The columns' widths follow the rows, whose network bytes move between
    // the two reads: the same headings.
    const words = (line: string) => line.split(/ {2,}/);
    assert.deepEqual(words(head), words((await docker(d, 'stats', '--no-stream', 'box')).stdout.split('\n')[0]));
    assert.match(row, /^[0-9a-f]{12}   box       \d+\.\d\d%\s+[\d.]+[KMG]?i?B \/ [\d.]+[KMG]?i?B\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+\d+$/);
    // Without names: the running containers (the same rows as docker's).
    const names = async (which: 'berth' | 'docker') => (await run(which === 'berth' ? BERTH : 'docker', ['stats', '--no-stream', '--format', '{{.Name}}'], d.env)).stdout;
    assert.equal(await names('berth'), await names('docker'));
    await same(d, ['stats', '--no-stream', 'nosuch']);
  });

  it('events --since/--until: the same lines and templates as docker', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await berth(d, 'run', '--rm', '--name', 'ev', 'busybox', 'true');
    const until = String(Math.floor(Date.now() / 1000) + 1);
    for (const extra of [[], ['--format', '{{json .}}'], ['--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], ['--filter', 'event=start', '--format', '{{.Status}} {{.ID}} {{.From}}']]) {
      const b = await same(d, ['events', '--since', since, '--until', until, ...extra]);
      assert.ok(b.stdout.length > 0, extra.join(' '));
    }
    await same(d, ['events', '--format', '{{.Nope}}']);
  });

  it('cp from the container: files, trees, "dir/." and -L, to what docker makes', async () => {
    const base = fs.mkdtempSync(path.join(d.base, 'cp-'));
    const cases: [string, string][] = [
      ['box:/data/a', 'file'],
      ['box:/data', 'dir'],
      ['box:/data/.', 'contents'],
      ['box:/data/link', 'link'],
    ];
    for (const [src, name] of cases) {
      for (const flags of [[], ['-L']]) {
        const outB = path.join(base, `b-${name}${flags.join('')}`);
        const outK = path.join(base, `k-${name}${flags.join('')}`);
        const b = await berth(d, 'cp', ...flags, src, outB);
        const k = await docker(d, 'cp', ...flags, src, outK);
        assert.equal(b.code, k.code, `${src} ${flags}: ${b.stderr}`);
        assert.equal(b.stderr.replace(outB, 'OUT'), k.stderr.replace(outK, 'OUT'), src);
        assert.deepEqual(tree(outB), tree(outK), src);
      }
    }
    // Into an existing directory, and errors.
    const into = path.join(base, 'into');
    fs.mkdirSync(into);
    assert.equal((await berth(d, 'cp', 'box:/data/sub', `${into}/`)).code, 0);
    assert.equal(fs.readFileSync(path.join(into, 'sub', 'b'), 'utf8'), 'two\n');
    for (const args of [['cp', 'box:/nosuch', base], ['cp', 'box:/data', `${base}/no/such/dir`], ['cp', 'a', 'b'], ['cp', 'box:/a', 'box:/b']]) {
      const b = await berth(d, ...args);
      const k = await docker(d, ...args);
      assert.equal(b.code, k.code, args.join(' '));
      assert.equal(b.stderr, k.stderr, args.join(' '));
    }
    const tarOut = await run(BERTH, ['cp', 'box:/data/a', '-'], d.env);
    assert.equal(tarOut.code, 0);
    assert.ok(tarOut.stdout.includes('one\n'));
  });

  it('cp into the container: files, trees, "dir/." and renames, as docker puts them', async () => {
    const src = fs.mkdtempSync(path.join(d.base, 'src-'));
    fs.mkdirSync(path.join(src, 'tree', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(src, 'tree', 'x'), 'x\n');
    fs.writeFileSync(path.join(src, 'tree', 'deep', 'y'), 'y\n', { mode: 0o600 });
    fs.symlinkSync('x', path.join(src, 'tree', 'lx'));
    fs.writeFileSync(path.join(src, 'f'), 'f\n');
    // What a container directory holds, read back with docker's cp.
    const show = async (p: string) => {
      const out = fs.mkdtempSync(path.join(d.base, 'show-'));
      assert.equal((await docker(d, 'cp', `box:${p}`, `${out}/x`)).code, 0);
      return tree(`${out}/x`);
    };
    const cases: [string, string][] = [
      [path.join(src, 'f'), '/'],
      [path.join(src, 'f'), 'renamed'],
      [path.join(src, 'tree'), ''],
      [path.join(src, 'tree'), 'newdir'],
      [`${path.join(src, 'tree')}/.`, 'contents'],
    ];
    for (const [i, [from, to]] of cases.entries()) {
      const said: Record<string, string> = {};
      for (const which of ['berth', 'docker'] as const) {
        const dest = `/in-${which}-${i}`;
        const target = to === '/' ? `${dest}/` : to ? `${dest}/${to}` : dest;
        // On a terminal both would print a progress line, then this.
        const r = await run('script', ['-qfec', `${which === 'berth' ? BERTH : 'docker'} cp -q ${from} box:${target}`, '/dev/null'], d.env);
        assert.equal(r.code, 0, `${which} ${from} ${target}: ${r.stdout}`);
        said[which] = r.stdout;
        const quiet = await run(which === 'berth' ? BERTH : 'docker', ['cp', from, `box:${target}`], d.env);
        assert.equal(quiet.code, 0, quiet.stderr);
        assert.equal(quiet.stderr, '');
      }
      assert.deepEqual(await show(`/in-berth-${i}`), await show(`/in-docker-${i}`), `${from} -> ${to}`);
      assert.equal(said.berth, said.docker);
    }
    for (const args of [['cp', path.join(src, 'f'), 'box:/no/such/'], ['cp', path.join(src, 'tree'), 'box:/data/a'], ['cp', path.join(src, 'nosuch'), 'box:/'], ['cp', path.join(src, 'f'), 'nosuch:/']]) {
      const b = await berth(d, ...args);
      const k = await docker(d, ...args);
      assert.equal(b.code, k.code, args.join(' '));
      // docker may also log its tar goroutine's broken pipe (logrus lines).
      assert.equal(b.stderr, k.stderr.replace(/^time=.*\n/gm, ''), args.join(' '));
    }
  });
});
