// The builder against a real berthd, through the real docker CLI's classic
// builder (DOCKER_BUILDKIT=0 docker build) and through `berth build`:
// multi-stage with two independent stages and COPY --from, the cache (a
// rebuild is all cached and creates no containers; a changed copied file
// invalidates its step and later; an ignored file nothing), a failing RUN
// (its exit code and output, nothing left behind), COPY outside the
// context, `docker history`, RUN --mount (bind, cache, tmpfs, secret),
// ADD <url> --checksum, and each cache rule.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, BERTH, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';

const ok = (r: { code: number; stderr: string; stdout: string }, what = '') => assert.equal(r.code, 0, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
  }
}

// Containers the daemon knows of, and the builder's mounts left on the host.
async function leftovers(d: TestDaemon): Promise<{ containers: string; mounts: string[] }> {
  const ps = await docker(d, 'ps', '-aq');
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dataRoot) && (l.includes('/builder/') || l.includes('/merged')));
  return { containers: ps.stdout.trim(), mounts };
}

describe('builder: docker build (classic) and berth build', () => {
  let d: TestDaemon;
  let tmp: string;
  const classic = (...args: string[]) => run('docker', ['build', ...args], { ...d.env, DOCKER_BUILDKIT: '0' }, undefined, 180000);

  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-it-'));
  });

  after(async () => {
    await d?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('builds a multi-stage Dockerfile with two independent stages and COPY --from', async () => {
    const ctx = path.join(tmp, 'multi');
    writeTree(ctx, {
      Dockerfile: `FROM busybox AS one
RUN echo one > /one.txt && sleep 1
FROM busybox AS two
ARG WHO=world
RUN echo "hello $WHO" > /two.txt && sleep 1
FROM busybox AS unused
RUN exit 9
FROM busybox
COPY --from=one /one.txt /out/
COPY --from=two /two.txt /out/
COPY app/ /app/
WORKDIR /app
ENV GREETING=hi
LABEL stage=final
CMD ["cat", "/out/two.txt"]
`,
      'app/a.txt': 'a',
      'app/sub/b.txt': 'b',
    });
    const r = await classic('-t', 'multi:1', '-t', 'multi:2', '--build-arg', 'WHO=berth', '--label', 'extra=yes', '--iidfile', path.join(tmp, 'iid'), ctx);
    ok(r, 'docker build');
    assert.match(r.stdout, /Step 1\/\d+ : FROM busybox AS one/);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}/);
    assert.match(r.stdout, /Successfully tagged multi:1/);
    assert.match(r.stdout, /Successfully tagged multi:2/);
    assert.doesNotMatch(r.stdout, /exit 9/, 'the unused stage is skipped');
    const iid = fs.readFileSync(path.join(tmp, 'iid'), 'utf8').trim();
    assert.match(iid, /^sha256:[0-9a-f]{64}$/);
    const out = await docker(d, 'run', '--rm', 'multi:1');
    ok(out);
    assert.equal(out.stdout, 'hello berth\n');
    const ls = await docker(d, 'run', '--rm', 'multi:2', 'sh', '-c', 'cat /out/one.txt; pwd; find /app | sort; echo $GREETING');
    ok(ls);
    assert.equal(ls.stdout, 'one\n/app\n/app\n/app/a.txt\n/app/sub\n/app/sub/b.txt\nhi\n');
    const inspect = await docker(d, 'image', 'inspect', '-f', '{{.Id}} {{json .Config.Labels}}', 'multi:1');
    assert.equal(inspect.stdout.trim(), `${iid} {"extra":"yes","stage":"final"}`);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('rebuilds from the cache without containers; a changed file invalidates its step and later, an ignored one nothing', async () => {
    const ctx = path.join(tmp, 'cache');
    writeTree(ctx, {
      Dockerfile: 'FROM busybox\nCOPY dep.txt /dep.txt\nRUN cat /dep.txt > /dep.copy\nCOPY src/ /src/\nRUN ls /src > /src.list\n',
      '.dockerignore': 'src/*.tmp\n',
      'dep.txt': 'v1',
      'src/main.txt': 'main',
      'src/x.tmp': 'ignored',
    });
    const first = await classic('-q', ctx);
    ok(first);
    const id = first.stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);

    const created = async () => (await docker(d, 'events', '--since', since, '--until', `${Math.ceil(Date.now() / 1000) + 1}`, '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.ID}}')).stdout.trim();
    let since = (Date.now() / 1000).toFixed(3);
    const again = await classic(ctx);
    ok(again);
    assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 4, again.stdout);
    assert.match(again.stdout, new RegExp(`Successfully built ${id.slice(7, 19)}`));
    assert.equal(await created(), '', 'a cached rebuild creates no containers');

    // Touching or changing an ignored file invalidates nothing.
    fs.writeFileSync(path.join(ctx, 'src/x.tmp'), 'changed');
    fs.writeFileSync(path.join(ctx, 'src/y.tmp'), 'new');
    since = (Date.now() / 1000).toFixed(3);
    const ignored = await classic('-q', ctx);
    ok(ignored);
    assert.equal(ignored.stdout.trim(), id);
    assert.equal(await created(), '');

    // Changing a copied file: its step and the ones after it run again.
    fs.writeFileSync(path.join(ctx, 'src/main.txt'), 'main v2');
    const changed = await classic(ctx);
    ok(changed);
    assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 2, changed.stdout);
    assert.match(changed.stdout, /Step 4\/5 : COPY src\/ \/src\/\n ---> Running in|Step 4\/5 : COPY src\/ \/src\/\n ---> [0-9a-f]{12}/);

    // berth build shows CACHED for every step of the same build.
    const b = await berth(d, 'build', '--progress=plain', ctx);
    ok(b, 'berth build');
    assert.equal((b.stderr.match(/ CACHED$/gm) ?? []).length, 4, b.stderr);
    assert.match(b.stderr, /#\d+ \[2\/5\] COPY dep.txt \/dep.txt/);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('a failing RUN reports its step, output and exit code and leaves nothing behind', async () => {
    const ctx = path.join(tmp, 'fail');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo before\nRUN echo some output; echo on stderr >&2; exit 7\nRUN echo never\n' });
    const r = await classic(ctx);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.match(r.stdout, /Step 3\/4 : RUN echo some output; echo on stderr >&2; exit 7/);
    assert.match(r.stdout + r.stderr, /some output/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo some output; echo on stderr >&2; exit 7' returned a non-zero code: 7/);
    assert.doesNotMatch(r.stdout, /never/);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });

    const b = await berth(d, 'build', '--progress=plain', ctx);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /\[3\/4\] RUN echo some output/);
    assert.match(b.stderr, /some output/);
    assert.match(b.stderr, /returned a non-zero code: 7/);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('refuses COPY of a path outside the context, and a symlink out of it stays inside', async () => {
    const ctx = path.join(tmp, 'outside');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nCOPY ../secret /secret\n' });
    const r = await classic(ctx);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /outside the build context/);

    const ctx2 = path.join(tmp, 'link');
    writeTree(ctx2, { Dockerfile: 'FROM busybox\nCOPY link/passwd /got\n' });
    fs.symlinkSync('/etc', path.join(ctx2, 'link'));
    const r2 = await classic(ctx2);
    // The link resolves inside the context: there is no etc/passwd there.
    assert.notEqual(r2.code, 0, r2.stdout);
    assert.match(r2.stderr, /file not found in build context/);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('ADD extracts a local tar inside the image (escapes refused or contained); COPY --chown and --chmod', async () => {
    const ctx = path.join(tmp, 'addtar');
    const canary = path.join(tmp, `escaped-${process.pid}`);
    const hostEtc = `/etc/berth-escaped-${process.pid}`;
    writeTree(ctx, { Dockerfile: 'FROM busybox\nADD evil.tar /x/\n', 'Dockerfile.link': 'FROM busybox\nADD link.tar /x/\nCOPY --chown=7:8 --chmod=751 f /f\nRUN stat -c "%u:%g %a" /f && find /x /etc | sort\n', f: 'f' });
    // One tar with a "../" name; one with a link pointing out and a file through it.
    const py = `import tarfile, io
def tar(name, entries):
    t = tarfile.open(name, 'w')
    for n, kw in entries:
        i = tarfile.TarInfo(n); i.size = 1
        for k, v in kw.items(): setattr(i, k, v)
        if i.type == tarfile.REGTYPE: t.addfile(i, io.BytesIO(b'x'))
        else: i.size = 0; t.addfile(i)
    t.close()
tar(${JSON.stringify(path.join(ctx, 'evil.tar'))}, [('ok.txt', {}), ('../../../../../../..${canary}', {})])
tar(${JSON.stringify(path.join(ctx, 'link.tar'))}, [('ok.txt', {}), ('link', dict(type=tarfile.SYMTYPE, linkname='/etc')), ('link/${path.basename(hostEtc)}', {})])`;
    ok(await run('python3', ['-c', py], process.env));
    const evil = await classic(ctx);
    assert.notEqual(evil.code, 0);
    assert.match(evil.stderr, /ADD failed: .*outside of the extraction directory/);
    assert.equal(fs.existsSync(canary), false, 'nothing escaped');

    const r = await classic('-f', path.join(ctx, 'Dockerfile.link'), ctx);
    ok(r, 'ADD link.tar');
    assert.equal(fs.existsSync(hostEtc), false, 'nothing escaped through the link');
    assert.match(r.stdout, /7:8 751/);
    assert.match(r.stdout, /\/x\/ok.txt/);
    // The link resolved inside the image: the file is under the image's own path.
    assert.ok(r.stdout.includes(hostEtc), r.stdout);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('RUN --mount: a bind of the context (read-only, not in the image), a cache kept across builds, a tmpfs', async () => {
    const ctx = path.join(tmp, 'mounts');
    writeTree(ctx, {
      Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=conf,target=/conf --mount=type=cache,target=/var/cache/app --mount=type=tmpfs,target=/scratch ' +
        'cat /conf/x && (touch /conf/new 2>/dev/null && echo writable || echo read-only) && echo run >> /var/cache/app/log && wc -l < /var/cache/app/log && ' +
        'touch /scratch/t && mount | grep -c " /scratch " && echo done > /done\n',
      'conf/x': 'from context\n',
    });
    const one = await classic('--no-cache', '-t', 'mounts', ctx);
    ok(one, 'first build');
    assert.match(one.stdout, /from context\nread-only\n1\n1\n/);
    const two = await classic('--no-cache', ctx);
    ok(two, 'second build');
    assert.match(two.stdout, /from context\nread-only\n2\n1\n/, 'the cache mount kept its content');
    const ls = await docker(d, 'run', '--rm', 'mounts', 'sh', '-c', 'find /conf /scratch /var/cache/app -mindepth 1 2>/dev/null | wc -l; cat /done');
    // Only the empty mount points stay, as the runtime made them.
    assert.equal(ls.stdout, '0\ndone\n', 'the mounts left nothing in the image');
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('docker history shows the steps', async () => {
    const ctx = path.join(tmp, 'history');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nENV A=1\nRUN echo layer > /layer.txt\nCMD ["sh"]\n' });
    ok(await classic('-t', 'hist', ctx));
    const h = await docker(d, 'history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'hist');
    ok(h);
    const lines = h.stdout.trim().split('\n');
    assert.match(lines[0], /^\/bin\/sh -c #\(nop\)\s+CMD \["sh"\]\|0B$/);
    assert.match(lines[1], /^\/bin\/sh -c echo layer > \/layer.txt\|[\d.]+k?B$/);
    assert.notEqual(lines[1].split("|")[1], "0B", "the RUN step has a layer");
    assert.match(lines[2], /^\/bin\/sh -c #\(nop\)\s+ENV A=1\|0B$/);
  });

  it('berth build: a context on stdin, a Dockerfile on stdin, -f and --target', async () => {
    const df = 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nRUN echo b > /b\n';
    const viaStdin = await run(BERTH, ['build', '-q', '-t', 'stdin-df', '-f', '-', '--target', 'a', tmp], d.env, df);
    ok(viaStdin, 'berth build -f -');
    const cat = await docker(d, 'run', '--rm', 'stdin-df', 'cat', '/a');
    assert.equal(cat.stdout, 'a\n');
    const ctx = path.join(tmp, 'tarctx');
    writeTree(ctx, { 'Custom.df': 'FROM busybox\nCOPY f /f\n', f: 'from tar' });
    const tarball = path.join(tmp, 'ctx.tar');
    ok(await run('tar', ['-cf', tarball, '-C', ctx, '.'], process.env));
    const viaTar = await run(BERTH, ['build', '-q', '-t', 'stdin-tar', '-f', 'Custom.df', '-'], d.env, fs.readFileSync(tarball));
    ok(viaTar, 'berth build -');
    const f = await docker(d, 'run', '--rm', 'stdin-tar', 'cat', '/f');
    assert.equal(f.stdout, 'from tar');
  });

  it('RUN --mount=type=secret through berth build --secret: read in the step, in no layer, history, cache key or log', async () => {
    const ctx = path.join(tmp, 'secret');
    const value = `s3cr3t-${process.pid}-value`;
    writeTree(ctx, {
      Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOK,target=/root/tok sh -c \'test "$(cat /run/secrets/tok)" = "$TOK" && test "$(cat /root/tok)" = "$TOK" && stat -c "%a %u" /run/secrets/tok && echo ${#TOK} > /len\'\n',
      'tok.txt': value,
    });
    // The classic docker CLI has no secrets without BuildKit.
    const refused = await classic('--secret', `id=tok,src=${path.join(ctx, 'tok.txt')}`, ctx);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /secret.*requires BuildKit|BuildKit/i);
    const noSecret = await berth(d, 'build', '--progress=plain', ctx);
    assert.notEqual(noSecret.code, 0, 'the step fails without the secret');
    const b = await run(BERTH, ['build', '--progress=plain', '-t', 'secret', '--secret', `id=tok,src=${path.join(ctx, 'tok.txt')}`, ctx], d.env, undefined, 180000);
    ok(b, 'berth build --secret');
    assert.match(b.stderr, /#\d+ +[\d.]+ 400 0\n/);
    const len = await docker(d, 'run', '--rm', 'secret', 'sh', '-c', 'cat /len; cat /run/secrets/tok /root/tok | wc -c');
    ok(len);
    assert.equal(len.stdout, `${value.length}\n0\n`, 'only empty mount points stay');
    const save = await run('docker', ['save', 'secret'], d.env, undefined, 60000);
    ok(save);
    assert.equal(save.stdout.includes(value), false, 'not in any layer or config');
    const hist = await docker(d, 'history', '--no-trunc', 'secret');
    assert.equal(hist.stdout.includes(value), false);
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
    const builder = path.join(d.dataRoot, 'builder');
    for (const f of walk(builder)) assert.equal(fs.readFileSync(f).includes(value), false, `${f} holds the secret`);
    assert.equal(d.log().includes(value), false, 'not in the daemon log');
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('ADD <url> with --checksum from a loopback server (the daemon fetches), COPY --link', async () => {
    const http = await import('node:http');
    const { createHash } = await import('node:crypto');
    const body = 'fetched by berthd\n';
    const sha = createHash('sha256').update(body).digest('hex');
    let gets = 0;
    const server = http.createServer((req, res) => {
      gets++;
      if (req.url === '/dl/tool.txt') {
        res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'Content-Length': String(body.length) });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/dl/tool.txt`;
    try {
      const ctx = path.join(tmp, 'addurl');
      writeTree(ctx, {
        Dockerfile: `FROM busybox\nADD --checksum=sha256:${sha} ${url} /opt/\nCOPY --link f /link/f\nRUN stat -c "%a %Y" /opt/tool.txt && cat /opt/tool.txt /link/f\n`,
        'Dockerfile.bad': `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /opt/\n`,
        f: 'linked\n',
      });
      const r = await classic('-t', 'addurl', ctx);
      ok(r, 'docker build');
      assert.match(r.stdout, /600 1445412480\nfetched by berthd\nlinked\n/);
      assert.ok(gets >= 1, 'the daemon fetched it');
      const bad = await classic('-f', path.join(ctx, 'Dockerfile.bad'), ctx);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, new RegExp(`digest mismatch sha256:0{64}: sha256:${sha}`));
      const b = await berth(d, 'build', '--progress=plain', '--no-cache', ctx);
      ok(b, 'berth build');
      assert.match(b.stderr, /fetched by berthd/);
    } finally {
      server.close();
    }
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });

  it('each cache rule: instruction text, file content (not time), mode, build args used or not, base image, bound files, secrets, --no-cache', async () => {
    const ctx = path.join(tmp, 'rules');
    const df = (extra = '') => `FROM rules-base
ARG USED=1
ARG UNUSED=1
COPY f /f
RUN echo "used=$USED" > /used
RUN --mount=type=bind,source=bound,target=/b cat /b/x > /x
RUN --mount=type=secret,id=s cat /run/secrets/s >/dev/null; echo ${extra} > /extra
`;
    writeTree(ctx, { Dockerfile: df(), f: 'f1', 'bound/x': 'x1', s: 'secret one' });
    ok(await docker(d, 'tag', 'busybox', 'rules-base'));
    // Which steps came from the cache, by number (classic output).
    const cachedSteps = (out: string) => [...out.matchAll(/Step (\d+)\/\d+ : [^\n]*\n ---> Using cache/g)].map((m) => Number(m[1]));
    const build = async (...args: string[]) => {
      const r = await classic(...args, ctx);
      ok(r, args.join(' '));
      return cachedSteps(r.stdout);
    };
    const sbuild = async (secret: string) => {
      fs.writeFileSync(path.join(ctx, 's'), secret);
      const r = await run(BERTH, ['build', '--progress=plain', '--secret', `id=s,src=${path.join(ctx, 's')}`, ctx], d.env, undefined, 180000);
      ok(r, 'berth build');
      return (r.stderr.match(/ CACHED$/gm) ?? []).length;
    };
    await build();
    const all = [2, 3, 4, 5, 6, 7];
    assert.deepEqual(await build(), all, 'the same build: all cached');
    // A touched file with the same content: cached.
    const t = new Date(Date.now() + 60000);
    fs.utimesSync(path.join(ctx, 'f'), t, t);
    assert.deepEqual(await build(), all, 'mtime only');
    // Its mode: COPY and after.
    fs.chmodSync(path.join(ctx, 'f'), 0o755);
    assert.deepEqual(await build(), [2, 3], 'mode changed');
    // Its content: COPY and after.
    fs.writeFileSync(path.join(ctx, 'f'), 'f2');
    assert.deepEqual(await build(), [2, 3], 'content changed');
    // A build arg no ARG declares: nothing. A declared one: every RUN after
    // it (they all have the stage's args in their environment, as in the
    // classic builder), not the COPY that does not read it.
    assert.deepEqual(await build('--build-arg', 'NOTDECLARED=2'), all, 'undeclared arg');
    assert.deepEqual(await build('--build-arg', 'UNUSED=2'), [2, 3, 4], 'declared arg');
    assert.deepEqual(await build('--build-arg', 'USED=2'), [2, 3, 4], 'used arg');
    assert.deepEqual(await build('--build-arg', 'USED=2'), all);
    // A bound file's content: its RUN and after.
    fs.writeFileSync(path.join(ctx, 'bound/x'), 'x2');
    assert.deepEqual(await build('--build-arg', 'USED=2'), [2, 3, 4, 5], 'bound file changed');
    // An instruction's text: it and after.
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), df('changed'));
    assert.deepEqual(await build('--build-arg', 'USED=2'), [2, 3, 4, 5, 6], 'instruction changed');
    // Another base image under the same name: everything.
    ok(await run('docker', ['build', '-q', '-t', 'rules-base', '-'], { ...d.env, DOCKER_BUILDKIT: '0' }, 'FROM busybox\nRUN echo new > /new\n', 180000), 'new base');
    assert.deepEqual(await build('--build-arg', 'USED=2'), [], 'base changed');
    // --no-cache: nothing cached.
    assert.deepEqual(await build('--no-cache', '--build-arg', 'USED=2'), [], '--no-cache');
    // A secret's value is not in the key (BuildKit's rule).
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), df());
    await sbuild('secret one');
    assert.equal(await sbuild('secret two'), 6, 'a changed secret: all cached');
  });

  it('a RUN heredoc with a #! line runs under its interpreter', async () => {
    const ctx = path.join(tmp, 'shebang');
    writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN <<EOF\n#!/bin/cat\nread by cat, not sh\nEOF\nRUN <<EOF\necho by sh\nEOF\n' });
    const r = await classic(ctx);
    ok(r, 'docker build');
    assert.match(r.stdout, /#!\/bin\/cat\nread by cat, not sh\n/);
    assert.match(r.stdout, /\nby sh\n/);
    assert.deepEqual(await leftovers(d), { containers: '', mounts: [] });
  });
});
