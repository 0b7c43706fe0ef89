// The builder over a fake backend: steps, the cache (a rebuild makes no
// containers; a changed file invalidates its step and the later ones; an
// ignored file nothing), multi-stage skipping, failing RUNs, refusals.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { BuildBackend, RunOptions } from '../../../../src/engine/build/backend';
import { Builder, StageOrder, type BuildEvent, type BuildOptions } from '../../../../src/engine/build/builder';
import type { ImageRecord, ImageRunConfig } from '../../../../src/engine/images/types';

class FakeBackend implements BuildBackend {
  dataDir: string;
  images = new Map<string, ImageRecord>();
  tags = new Map<string, string>();
  runs: RunOptions[] = [];
  created: string[] = [];
  removed: string[] = [];
  puts: { id: string; dir: string; names: string[] }[] = [];
  exitCode = (_argv: string[]) => 0;
  // What each run's file bind mounts held while it ran (secrets).
  seen: { target: string; data: string; mode: number }[][] = [];
  n = 0;

  constructor() {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-'));
    this.add({ Env: ['PATH=/bin'], Cmd: ['sh'] }, 'busybox', []);
  }
  private add(config: ImageRunConfig, createdBy: string, history: string[]): ImageRecord {
    const body = JSON.stringify({ config, history: [...history, createdBy], n: this.n++ });
    const id = 'sha256:' + createHash('sha256').update(body).digest('hex');
    const rec: ImageRecord = { id, config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] }, history: [...history, createdBy].map((c) => ({ created_by: c })) }, size: 0 };
    this.images.set(id, rec);
    if (createdBy === 'busybox') this.tags.set('busybox', id);
    return rec;
  }
  image(id: string) {
    return this.images.get(id);
  }
  findImage(ref: string) {
    const id = this.tags.get(ref);
    return id ? this.images.get(id) : undefined;
  }
  async pullImage(ref: string): Promise<ImageRecord> {
    throw new Error(`pull access denied for ${ref}`);
  }
  async commitConfig(parent: ImageRecord | undefined, config: ImageRunConfig, createdBy: string) {
    return this.add(structuredClone(config), createdBy, (parent?.config.history ?? []).map((h) => h.created_by!));
  }
  async runContainer(o: RunOptions, out: (d: Buffer) => void, created: (id: string) => void) {
    this.runs.push(o);
    this.seen.push((o.mounts ?? []).filter((m) => m.type === 'bind' && fs.statSync(m.source).isFile()).map((m) => ({ target: m.target, data: fs.readFileSync(m.source, 'utf8'), mode: fs.statSync(m.source).mode & 0o777 })));
    const id = `c${this.created.length}`;
    this.created.push(id);
    created(id);
    out(Buffer.from(`ran ${o.argv.join(' ')}\n`));
    return this.exitCode(o.argv);
  }
  async createContainer() {
    const id = `c${this.created.length}`;
    this.created.push(id);
    return id;
  }
  async putArchive(id: string, dir: string, input: Readable) {
    const names: string[] = [];
    const ex = tar.extract();
    await new Promise<void>((resolve, reject) => {
      ex.on('entry', (h, s, next) => {
        names.push(h.name);
        s.resume();
        s.on('end', next);
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
      input.pipe(ex);
    });
    this.puts.push({ id, dir, names });
  }
  async commitContainer(_id: string, config: ImageRunConfig, createdBy: string) {
    return this.add(structuredClone(config), createdBy, []);
  }
  async removeContainer(id: string) {
    this.removed.push(id);
  }
  async mountImage() {
    const root = fs.mkdtempSync(path.join(this.dataDir, 'mnt-'));
    return { root, release: async () => fs.rmSync(root, { recursive: true, force: true }) };
  }
  async extractContext(input: Readable, dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const ex = tar.extract();
    await new Promise<void>((resolve, reject) => {
      ex.on('entry', (h, s, next) => {
        const p = path.join(dir, h.name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        const chunks: Buffer[] = [];
        s.on("data", (c: unknown) => chunks.push(c as Buffer));
        s.on('end', () => {
          if (h.type === 'file') fs.writeFileSync(p, Buffer.concat(chunks));
          next();
        });
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
      input.pipe(ex);
    });
  }
  async tag(id: string, ref: string) {
    this.tags.set(ref, id);
  }
}

function context(files: Record<string, string>): Readable {
  const p = tar.pack();
  for (const [name, data] of Object.entries(files)) p.entry({ name, mode: 0o644 }, data);
  p.finalize();
  return p as unknown as Readable;
}

const opts = (o: Partial<BuildOptions> = {}): BuildOptions => ({ dockerfile: 'Dockerfile', tags: [], buildArgs: {}, labels: {}, noCache: false, extraHosts: [], pull: false, rm: true, ...o });

async function build(b: Builder, files: Record<string, string>, o: Partial<BuildOptions> = {}) {
  const events: BuildEvent[] = [];
  const id = await b.build(context(files), opts(o), (e) => events.push(e));
  return { id, events };
}

const DF = `FROM busybox
ENV APP=/app
WORKDIR $APP
COPY a.txt ./
RUN cat a.txt
COPY b.txt ./
CMD ["sh"]
`;

test('builder: steps, config, and a cached rebuild that makes no containers', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const files = { Dockerfile: DF, 'a.txt': 'a', 'b.txt': 'b', '.dockerignore': 'ignored*\n', ignored1: 'x' };
  const first = await build(b, files, { tags: ['app:1'] });
  assert.equal(be.tags.get('app:1'), first.id);
  const img = be.images.get(first.id)!;
  assert.equal(img.config.config?.WorkingDir, '/app');
  assert.deepEqual(img.config.config?.Cmd, ['sh']);
  assert.ok(img.config.config?.Env?.includes('APP=/app'));
  assert.equal(be.runs.length, 1);
  assert.deepEqual(be.runs[0].argv, ['/bin/sh', '-c', 'cat a.txt']);
  // /app is missing in the image: the put at / makes it.
  assert.equal(be.puts[0].dir, '/');
  assert.deepEqual(be.puts[0].names, ['app', 'app/a.txt']);
  assert.equal(first.events.filter((e) => e.type === 'step').length, 7);
  const made = be.created.length;

  const again = await build(b, files);
  assert.equal(again.id, first.id);
  assert.equal(be.created.length, made, 'a cached rebuild creates no containers');
  assert.equal(again.events.filter((e) => e.type === 'cached').length, 6);

  // An ignored file changes nothing.
  const ignored = await build(b, { ...files, ignored1: 'changed', ignored2: 'new' });
  assert.equal(ignored.id, first.id);
  assert.equal(be.created.length, made);

  // Changing b.txt invalidates its step and the later ones only.
  const changed = await build(b, { ...files, 'b.txt': 'B' });
  assert.notEqual(changed.id, first.id);
  assert.equal(changed.events.filter((e) => e.type === 'cached').length, 4);
  assert.equal(be.runs.length, 1, 'the RUN before it stays cached');

  // Changing a.txt invalidates the RUN too.
  await build(b, { ...files, 'a.txt': 'A' });
  assert.equal(be.runs.length, 2);

  // --no-cache runs everything again.
  await build(b, files, { noCache: true });
  assert.equal(be.runs.length, 3);
});

test('builder: build args invalidate only the steps that use them', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const df = `FROM busybox
ARG V=1
ARG OTHER
LABEL v=$V
ENV X=1
`;
  const one = await build(b, { Dockerfile: df });
  const two = await build(b, { Dockerfile: df }, { buildArgs: { OTHER: 'changed' } });
  assert.equal(two.id, one.id, 'OTHER is used by no step');
  const three = await build(b, { Dockerfile: df }, { buildArgs: { V: '2' } });
  assert.notEqual(three.id, one.id);
  assert.equal(be.images.get(three.id)!.config.config?.Labels?.v, '2');
  const warn = await build(b, { Dockerfile: df }, { buildArgs: { NOPE: 'x' } });
  assert.ok(warn.events.some((e) => e.type === 'warning' && /\[NOPE\] were not consumed/.test(e.text)));
});

test('builder: multi-stage skips stages the target does not need and reads COPY --from', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const df = `FROM busybox AS a
RUN echo a
FROM busybox AS unused
RUN echo unused
FROM busybox AS b
RUN echo b
FROM busybox
COPY --from=a / /a/
COPY --from=b / /b/
`;
  const r = await build(b, { Dockerfile: df });
  assert.deepEqual(be.runs.map((x) => x.argv[2]).sort(), ['echo a', 'echo b']);
  const plan = r.events.find((e) => e.type === 'plan') as Extract<BuildEvent, { type: 'plan' }>;
  assert.deepEqual(plan.stages, [0, 2, 3]);
  assert.equal(plan.total, 7);
  const t = await build(b, { Dockerfile: df }, { target: 'unused', noCache: true });
  assert.ok(be.images.get(t.id));
  await assert.rejects(build(b, { Dockerfile: df }, { target: 'nope' }), /target stage "nope" could not be found/);
});

test('builder: a failing RUN reports its code and removes its container', async () => {
  const be = new FakeBackend();
  be.exitCode = (argv) => (argv.join(' ').includes('exit 3') ? 3 : 0);
  const b = new Builder(be);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nRUN echo out; exit 3\n' }), (e: Error & { code?: number }) => {
    assert.equal(e.message, "The command '/bin/sh -c echo out; exit 3' returned a non-zero code: 3");
    assert.equal(e.code, 3);
    return true;
  });
  assert.deepEqual(be.removed, be.created);
});

test('builder: refusals (outside the context, WORKDIR into /proc/self/fd, missing file)', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nCOPY ../x /x\n' }), /outside the build context/);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nWORKDIR /proc/self/fd/7\n' }), /WORKDIR \/proc\/self\/fd\/7 is refused/);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nCOPY nope /x\n' }), /file not found in build context or excluded by .dockerignore/);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nCOPY a b /x\n', a: '', b: '' }), /the destination must be a directory and end with a \//);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nFOO\n' }), /unknown instruction: FOO/);
  await assert.rejects(build(b, { Dockerfile: 'FROM nope\n' }), /pull access denied/);
});

test('builder: heredocs, globs and shell form', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  await build(b, { Dockerfile: 'FROM busybox\nRUN <<EOF\necho hi\nEOF\nCOPY <<F /etc/conf\nv=$HOSTNAME\nF\nCOPY *.js /src/\n', 'a.js': '1', 'b.js': '2', 'c.ts': '3' });
  assert.deepEqual(be.runs[0].argv, ['/bin/sh', '-c', 'echo hi\n']);
  assert.deepEqual(be.puts[0], { id: be.puts[0].id, dir: '/', names: ['etc', 'etc/conf'] });
  assert.deepEqual(be.puts[1], { id: be.puts[1].id, dir: '/', names: ['src', 'src/a.js', 'src/b.js'] });
});

test('StageOrder: holds a later stage until the earlier ones are done', () => {
  const out: string[] = [];
  const o = new StageOrder((e) => out.push(e.type === 'stream' ? `${e.stage}:${e.text}` : e.type === 'stageDone' ? `${e.stage}:done` : e.type));
  o.push({ type: 'plan', stages: [0, 1, 2], total: 0 });
  o.push({ type: 'stream', stage: 1, text: 'b' });
  o.push({ type: 'stream', stage: 0, text: 'a' });
  o.push({ type: 'stageDone', stage: 1, image: '' });
  o.push({ type: 'stream', stage: 2, text: 'c' });
  o.push({ type: 'stageDone', stage: 0, image: '' });
  o.push({ type: 'stageDone', stage: 2, image: '' });
  assert.deepEqual(out, ['plan', '0:a', '0:done', '1:b', '1:done', '2:c', '2:done']);
});

test('builder: RUN --mount bind (contained, keyed by content), cache and tmpfs', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const df = 'FROM busybox\nRUN --mount=type=bind,source=conf,target=/conf --mount=type=cache,target=/root/.cache --mount=type=tmpfs,target=/t,size=1m cat /conf/x\n';
  await build(b, { Dockerfile: df, 'conf/x': '1' });
  const m = be.runs[0].mounts!;
  assert.equal(m[0].type, 'bind');
  assert.equal(m[0].readonly, true);
  assert.ok(m[0].source.endsWith('/conf'));
  assert.equal(m[0].target, '/conf');
  assert.ok(m[1].source.includes('/cache-mounts/'));
  assert.equal(m[1].target, '/root/.cache');
  assert.deepEqual(m[2], { type: 'tmpfs', source: '', target: '/t', readonly: false, tmpfsOptions: ['size=1m'] });
  await build(b, { Dockerfile: df, 'conf/x': '1' });
  assert.equal(be.runs.length, 1, 'same bound content: cached');
  await build(b, { Dockerfile: df, 'conf/x': '2' });
  assert.equal(be.runs.length, 2, 'changed bound content: runs again');
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=../x,target=/x true\n' }), /outside the build context/);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nRUN --mount=type=ssh true\n' }), /type=ssh is not supported/);
});

test('builder: RUN --mount=type=secret: a file and an env var while the step runs, never in the image, history or cache key', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const df = 'FROM busybox\nRUN --mount=type=secret,id=tok --mount=type=secret,id=npm,target=/root/.npmrc,mode=0440,uid=0,gid=0 --mount=type=secret,id=tok,env=TOKEN,required=true use-it\n';
  const one = await build(b, { Dockerfile: df }, { secrets: { tok: Buffer.from('s3cr3t-one'), npm: Buffer.from('//reg/:_authToken=abc') }, rm: false });
  assert.deepEqual(be.seen[0], [
    { target: '/run/secrets/tok', data: 's3cr3t-one', mode: 0o400 },
    { target: '/root/.npmrc', data: '//reg/:_authToken=abc', mode: 0o440 },
  ]);
  assert.ok(be.runs[0].env.includes('TOKEN=s3cr3t-one'));
  // Gone after the step; the container that saw it removed even with rm=false.
  for (const m of be.runs[0].mounts!) assert.equal(fs.existsSync(m.source), false);
  assert.ok(be.removed.includes(be.created[0]));
  const img = be.images.get(one.id)!;
  assert.doesNotMatch(JSON.stringify(img.config), /s3cr3t|authToken/);
  assert.doesNotMatch(JSON.stringify(one.events), /s3cr3t|authToken/);
  assert.doesNotMatch(fs.readFileSync(path.join(be.dataDir, 'cache.json'), 'utf8'), /s3cr3t|authToken/);
  // A changed secret does not invalidate the step (BuildKit's rule).
  const two = await build(b, { Dockerfile: df }, { secrets: { tok: Buffer.from('other'), npm: Buffer.from('x') } });
  assert.equal(two.id, one.id);
  assert.equal(be.runs.length, 1);
  // Required and missing: refused; optional and missing: no mount.
  await assert.rejects(build(b, { Dockerfile: df }, { secrets: { npm: Buffer.from('x') }, noCache: true }), /secret tok not found/);
  await build(b, { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=absent cat /run/secrets/absent || true\n' });
  assert.deepEqual(be.runs.at(-1)!.mounts, []);
  await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=x,src=y true\n' }), /unexpected key 'src' for type secret/);
});

test('builder: a heredoc with a #! line runs as its own program, keyed by its text', async () => {
  const be = new FakeBackend();
  const b = new Builder(be);
  const df = 'FROM busybox\nRUN <<EOF\n#!/usr/bin/env python3\nprint("hi")\nEOF\nRUN <<EOF\necho plain\nEOF\n';
  const one = await build(b, { Dockerfile: df });
  assert.deepEqual(be.runs[0].argv, ['/dev/pipes/EOF']);
  assert.deepEqual(be.seen[0], [{ target: '/dev/pipes/EOF', data: '#!/usr/bin/env python3\nprint("hi")\n', mode: 0o755 }]);
  assert.deepEqual(be.runs[1].argv, ['/bin/sh', '-c', 'echo plain\n']);
  assert.ok(one.id);
  assert.ok([...be.images.values()].some((i) => i.config.history?.some((h) => h.created_by === '/bin/sh -c #!/usr/bin/env python3\nprint("hi")\n')), 'history keeps the text');
  await build(b, { Dockerfile: df.replace('"hi"', '"ho"') });
  assert.equal(be.runs.length, 4, 'another script: it and the next step run again');
});

test('builder: ADD <url> with --checksum (fetched by the daemon), COPY --link', async () => {
  const http = await import('node:http');
  const body = 'downloaded content\n';
  const sha = createHash('sha256').update(body).digest('hex');
  const server = http.createServer((req, res) => {
    if (req.url === '/files/tool.txt') {
      res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end(body);
    } else if (req.url === '/redirect') {
      res.writeHead(302, { Location: '/files/tool.txt' });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const be = new FakeBackend();
    const b = new Builder(be);
    await build(b, { Dockerfile: `FROM busybox\nADD --checksum=sha256:${sha} ${base}/files/tool.txt /opt/\nADD ${base}/redirect /r.txt\nCOPY --link a /a\n`, a: 'a' });
    assert.deepEqual(be.puts.map((p) => [p.dir, p.names]), [['/', ['opt', 'opt/tool.txt']], ['/', ['r.txt']], ['/', ['a']]]);
    // The same content again: cached (the key is the content's hash).
    await build(b, { Dockerfile: `FROM busybox\nADD --checksum=sha256:${sha} ${base}/files/tool.txt /opt/\n` });
    assert.equal(be.puts.length, 3);
    const bad = 'sha256:' + '0'.repeat(64);
    await assert.rejects(build(b, { Dockerfile: `FROM busybox\nADD --checksum=${bad} ${base}/files/tool.txt /opt/\n` }), new RegExp(`digest mismatch ${bad}: sha256:${sha}`));
    await assert.rejects(build(b, { Dockerfile: `FROM busybox\nADD --checksum=md5:abc ${base}/files/tool.txt /opt/\n` }), /invalid checksum digest format: md5:abc/);
    await assert.rejects(build(b, { Dockerfile: `FROM busybox\nADD --checksum=${bad} a /opt/\n`, a: 'a' }), /checksum can't be specified for non-HTTP\(S\) sources/);
    await assert.rejects(build(b, { Dockerfile: `FROM busybox\nADD ${base}/missing /opt/\n` }), /failed to GET .*\/missing with status 404/);
    await assert.rejects(build(b, { Dockerfile: `FROM busybox\nCOPY ${base}/files/tool.txt /opt/\n` }), /source can't be a URL for COPY/);
    await assert.rejects(build(b, { Dockerfile: 'FROM busybox\nADD git@github.com:x/y.git /y\n' }), /ADD from a git repository or a URL other than HTTP\(S\) is not supported/);
    assert.deepEqual(fs.readdirSync(path.join(be.dataDir, 'downloads')), [], 'downloads are removed');
  } finally {
    server.close();
  }
});
