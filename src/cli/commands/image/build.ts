// berth build / berth image build: packs the context (a directory with its
// .dockerignore applied, a tar on stdin, or a Dockerfile on stdin with
// `-f -`), sends it to POST /build and draws the build as BuildKit does:
// plain `#N [stage k/n] INSTR` lines with output, CACHED and durations when
// not on a terminal (or --progress=plain), a redrawn summary on one.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { IgnoreMatcher } from '../../../util/dockerignore';
import { HELP_FLAG, StatusError, type Command, type Context } from '../../command';
import { isTTY, readAllText } from '../../io';

type Header = Partial<tar.Header> & { name: string };

// The context directory as a tar, excluded paths left out (the Dockerfile
// and .dockerignore always go, as the docker CLI sends them).
export function packDir(dir: string, keep: Set<string>, extra?: { name: string; data: Buffer }): Readable {
  let ignore = new IgnoreMatcher([]);
  try {
    ignore = IgnoreMatcher.fromText(fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'));
  } catch {
    // none
  }
  const pack = tar.pack();
  const add = (h: Header, body?: Buffer | Readable) =>
    new Promise<void>((resolve, reject) => {
      if (body && !Buffer.isBuffer(body)) {
        const e = pack.entry(h as tar.Header, (err) => (err ? reject(err) : resolve()));
        body.on('error', reject);
        body.pipe(e);
      } else pack.entry(h as tar.Header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  const walk = async (rel: string): Promise<void> => {
    const full = rel ? path.join(dir, rel) : dir;
    for (const name of fs.readdirSync(full).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      const excluded = !keep.has(r) && ignore.matches(r);
      if (excluded && !(st.isDirectory() && ignore.hasExceptions())) continue;
      const h = { name: r, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: st.mtime };
      if (st.isDirectory()) {
        if (!excluded) await add({ ...h, type: 'directory' });
        await walk(r);
      } else if (st.isSymbolicLink()) await add({ ...h, type: 'symlink', linkname: fs.readlinkSync(path.join(dir, r)) });
      else if (st.isFile()) await add({ ...h, type: 'file', size: st.size }, fs.createReadStream(path.join(dir, r)));
    }
  };
  (async () => {
    await walk('');
    if (extra) await add({ name: extra.name, mode: 0o600, type: 'file', size: extra.data.length, mtime: new Date() }, extra.data);
    pack.finalize();
  })().catch((err) => pack.destroy(err));
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

// A tar holding one Dockerfile (a Dockerfile on stdin, no context).
function dockerfileOnly(name: string, data: Buffer): Readable {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o600, size: data.length }, data);
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

type BuildEvent =
  | { type: 'plan'; stages: number[]; total: number }
  | { type: 'step'; stage: number; step: number; total: number; code: string; vertex: string }
  | { type: 'stream'; stage: number; text: string }
  | { type: 'output'; stage: number; step: number; data: string }
  | { type: 'cached'; stage: number; step: number }
  | { type: 'done'; stage: number; step: number; image: string; ms: number }
  | { type: 'stageDone'; stage: number; image: string }
  | { type: 'warning'; text: string }
  | { type: 'check'; findings: Finding[]; layers?: { line: number; code: string; bytes: number; ms: number }[]; error?: string };

interface Finding {
  rule: string;
  line: number;
  message: string;
  fix: string;
  measured?: string;
}

const mb = (n: number) => (n < 1000 ? `${n} B` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(2)} GB`);

// The --check report (on stdout): each finding with its line, fix and
// what was measured, then the size each step's layer adds.
function checkReport(file: string, e: BuildEvent & { type: 'check' }): string {
  const out: string[] = [];
  out.push(e.findings.length ? `${file}: ${e.findings.length} finding${e.findings.length > 1 ? 's' : ''}` : `${file}: no findings`);
  for (const f of e.findings) {
    out.push('', `${file}:${f.line}: [${f.rule}] ${f.message}`, `  fix: ${f.fix}`);
    if (f.measured) out.push(`  measured: ${f.measured}`);
  }
  if (e.error) out.push('', `Nothing measured: the build failed: ${e.error}`);
  if (e.layers) {
    const total = e.layers.reduce((n, l) => n + l.bytes, 0);
    out.push('', `Layers (what each step adds, ${mb(total)} in all):`, `  LINE  SIZE        TIME    STEP`);
    for (const l of e.layers) out.push(`  ${String(l.line).padStart(4)}  ${mb(l.bytes).padEnd(10)}  ${(l.ms / 1000).toFixed(1).padStart(5)}s  ${l.code.length > 70 ? l.code.slice(0, 69) + '…' : l.code}`);
  }
  return out.join('\n') + '\n';
}

interface Vertex {
  n: number;
  name: string;
  started: number;
  cached?: boolean;
  ms?: number;
  error?: string;
  lines: string[];
  partial: string;
}

const secs = (ms: number) => (ms / 1000).toFixed(1);

// BuildKit's plain progress: each vertex's lines prefixed "#N".
class PlainDisplay {
  private n = 0;
  private vertices = new Map<number, Vertex>();
  constructor(private out: NodeJS.WritableStream | { write(s: string): unknown }) {}
  vertex(name: string, now: number): Vertex {
    const v: Vertex = { n: ++this.n, name, started: now, lines: [], partial: '' };
    this.out.write(`#${v.n} ${name}\n`);
    return v;
  }
  step(step: number, name: string, now: number): void {
    this.vertices.set(step, this.vertex(name, now));
  }
  output(step: number, data: string, now: number): void {
    const v = this.vertices.get(step);
    if (!v) return;
    const text = v.partial + data;
    const lines = text.split('\n');
    v.partial = lines.pop()!;
    for (const l of lines) this.out.write(`#${v.n} ${secs(now - v.started).padStart(5)} ${l}\n`);
  }
  cached(step: number): void {
    const v = this.vertices.get(step);
    if (v) v.cached = true;
  }
  done(step: number, ms: number): void {
    const v = this.vertices.get(step);
    if (!v) return;
    if (v.partial) this.output(step, '\n', v.started + ms);
    this.out.write(v.cached ? `#${v.n} CACHED\n\n` : `#${v.n} DONE ${secs(ms)}s\n\n`);
    this.vertices.delete(step);
  }
  line(v: Vertex, text: string): void {
    this.out.write(`#${v.n} ${text}\n`);
  }
  finish(v: Vertex, now: number): void {
    this.out.write(`#${v.n} DONE ${secs(now - v.started)}s\n\n`);
  }
  // The steps still running when the build failed.
  failed(message: string): Vertex[] {
    const open = [...this.vertices.values()];
    for (const v of open) {
      if (v.partial) this.out.write(`#${v.n} ${v.partial}\n`);
      this.out.write(`#${v.n} ERROR: ${message}\n`);
    }
    return open;
  }
}

// A terminal: the vertices redrawn in place, with the running ones' last lines.
class TtyDisplay extends PlainDisplay {
  private rows: { name: string; state: string; tail: string[] }[] = [];
  private drawn = 0;
  private byStep = new Map<number, number>();
  private t0: number;
  constructor(private tty: { write(s: string): unknown }, now: number) {
    super({ write: () => true });
    this.t0 = now;
  }
  private draw(now: number): void {
    let s = this.drawn ? `\x1b[${this.drawn}A\x1b[J` : '';
    const done = this.rows.filter((r) => r.state !== 'running').length;
    const lines = [`[+] Building ${secs(now - this.t0)}s (${done}/${this.rows.length})`];
    for (const r of this.rows) {
      lines.push(` => ${r.state === 'cached' ? 'CACHED ' : r.state === 'error' ? 'ERROR ' : ''}${r.name}${r.state.startsWith('done') ? ' ' + r.state.slice(5) : ''}`);
      if (r.state === 'running' || r.state === 'error') for (const t of r.tail.slice(-6)) lines.push(` => => # ${t}`);
    }
    s += lines.join('\n') + '\n';
    this.drawn = lines.length;
    this.tty.write(s);
  }
  vertex(name: string, now: number): Vertex {
    this.rows.push({ name, state: 'running', tail: [] });
    const v = super.vertex(name, now);
    this.draw(now);
    return v;
  }
  step(step: number, name: string, now: number): void {
    this.byStep.set(step, this.rows.length);
    super.step(step, name, now);
  }
  output(step: number, data: string, now: number): void {
    const r = this.rows[this.byStep.get(step) ?? -1];
    if (r) r.tail.push(...data.split('\n').filter(Boolean));
    this.draw(now);
  }
  cached(step: number): void {
    const r = this.rows[this.byStep.get(step) ?? -1];
    if (r) r.state = 'cached';
    super.cached(step);
  }
  done(step: number, ms: number): void {
    const r = this.rows[this.byStep.get(step) ?? -1];
    if (r && r.state === 'running') r.state = `done ${secs(ms)}s`;
    super.done(step, ms);
    this.draw(Date.now());
  }
  line(): void {}
  finish(v: Vertex, now: number): void {
    const r = this.rows[v.n - 1];
    if (r) r.state = `done ${secs(now - v.started)}s`;
    this.draw(now);
  }
  failed(message: string): Vertex[] {
    for (const r of this.rows) if (r.state === 'running') r.state = 'error';
    this.draw(Date.now());
    return super.failed(message);
  }
}

export const buildCommand: Command = {
  name: 'build',
  usage: '[OPTIONS] PATH | URL | -',
  summary: 'Build an image from a Dockerfile',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'add-host', type: 'list', meta: 'list', desc: 'Add a custom host-to-IP mapping ("host:ip")' },
    { name: 'build-arg', type: 'list', meta: 'list', desc: 'Set build-time variables' },
    { name: 'cache-from', type: 'list', meta: 'strings', desc: 'Images to consider as cache sources', unsupported: true },
    { name: 'cgroup-parent', type: 'string', desc: 'Set the parent cgroup for the "RUN" instructions during build', unsupported: true },
    // berth's own (BuildKit's): hidden, so the flag table stays docker's.
    { name: 'check', type: 'bool', desc: 'Check the Dockerfile: findings with their line and a fix, measured on a build', hidden: true },
    { name: 'compress', type: 'bool', desc: 'Compress the build context using gzip' },
    { name: 'cpu-period', type: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) period', unsupported: true },
    { name: 'cpu-quota', type: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) quota', unsupported: true },
    { name: 'cpu-shares', short: 'c', type: 'int', desc: 'CPU shares (relative weight)', unsupported: true },
    { name: 'cpuset-cpus', type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)', unsupported: true },
    { name: 'cpuset-mems', type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)', unsupported: true },
    { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image verification', unsupported: true },
    { name: 'file', short: 'f', type: 'string', desc: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    { name: 'force-rm', type: 'bool', desc: 'Always remove intermediate containers' },
    { name: 'iidfile', type: 'string', desc: 'Write the image ID to the file' },
    { name: 'isolation', type: 'string', desc: 'Container isolation technology', unsupported: true },
    { name: 'label', type: 'list', meta: 'list', desc: 'Set metadata for an image' },
    { name: 'memory', short: 'm', type: 'bytes', desc: 'Memory limit', unsupported: true },
    { name: 'memory-swap', type: 'bytes', desc: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', unsupported: true },
    { name: 'network', type: 'string', default: 'default', desc: 'Set the networking mode for the RUN instructions during build' },
    { name: 'no-cache', type: 'bool', desc: 'Do not use cache when building the image' },
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
    { name: 'progress', type: 'string', default: 'auto', hidden: true, desc: 'Set type of progress output ("auto", "plain", "tty", "quiet")' },
    { name: 'pull', type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the build output and print image ID on success' },
    { name: 'rm', type: 'bool', default: true, desc: 'Remove intermediate containers after a successful build' },
    { name: 'secret', type: 'list', meta: 'stringArray', desc: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=X,env=VAR")', hidden: true },
    { name: 'security-opt', type: 'list', meta: 'strings', desc: 'Security options', unsupported: true },
    { name: 'shm-size', type: 'bytes', desc: 'Size of "/dev/shm"', unsupported: true },
    { name: 'squash', type: 'bool', desc: 'Squash newly built layers into a single new layer', unsupported: true },
    { name: 'tag', short: 't', type: 'list', meta: 'list', desc: 'Name and optionally a tag in the "name:tag" format' },
    { name: 'target', type: 'string', desc: 'Set the target build stage to build.' },
    { name: 'ulimit', type: 'list', meta: 'ulimit', desc: 'Ulimit options', unsupported: true },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const progress = String(f.progress);
    if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw new StatusError(1, `invalid progress mode: ${progress}`);
    const quiet = !!f.quiet || progress === 'quiet';
    const arg = p.args[0];
    if (/^(https?|git):\/\//.test(arg) || arg.startsWith('git@')) throw new StatusError(1, 'berth build: remote contexts (URLs, git repositories) are not supported yet');
    let dockerfile: string = f.file ?? '';
    let body: Readable;
    const started = Date.now();
    if (arg === '-') {
      if (dockerfile === '-') throw new StatusError(1, 'invalid argument: can\'t use stdin for both build context and dockerfile');
      // A tar, or a Dockerfile alone.
      const data = await readAll(ctx.in);
      if (data.length >= 262 && data.subarray(257, 262).toString('latin1') === 'ustar') body = Readable.from([data]);
      else if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) body = Readable.from([data]);
      else {
        dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
        body = dockerfileOnly(dockerfile, data);
      }
    } else {
      const dir = arg;
      let st: fs.Stats;
      try {
        st = fs.statSync(dir);
      } catch {
        throw new StatusError(1, `unable to prepare context: path "${dir}" not found`);
      }
      if (!st.isDirectory()) throw new StatusError(1, `unable to prepare context: context must be a directory: ${dir}`);
      let extra: { name: string; data: Buffer } | undefined;
      if (dockerfile === '-') {
        const data = Buffer.from(await readAllText(ctx.in));
        dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
        extra = { name: dockerfile, data };
      } else if (dockerfile) {
        const abs = path.resolve(dockerfile);
        const rel = path.relative(path.resolve(dir), abs);
        if (rel.startsWith('..') || path.isAbsolute(rel)) {
          // A Dockerfile outside the context goes in under a name of its own.
          let data: Buffer;
          try {
            data = fs.readFileSync(abs);
          } catch {
            throw new StatusError(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
          }
          dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
          extra = { name: dockerfile, data };
        } else dockerfile = rel.split(path.sep).join('/');
      }
      const keep = new Set([dockerfile || 'Dockerfile', '.dockerignore']);
      body = packDir(dir, keep, extra);
      if (f.compress) body = body.pipe((await import('node:zlib')).createGzip());
    }

    const buildArgs: Record<string, string | null> = {};
    for (const a of (f['build-arg'] as string[]) ?? []) {
      const i = a.indexOf('=');
      if (i < 0) buildArgs[a] = ctx.env[a] ?? null;
      else buildArgs[a.slice(0, i)] = a.slice(i + 1);
    }
    const labels: Record<string, string> = {};
    for (const l of (f.label as string[]) ?? []) {
      const i = l.indexOf('=');
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
    }
    const query: Record<string, string | string[]> = {
      berthevents: '1',
      rm: f['rm'] ? '1' : '0',
      forcerm: f['force-rm'] ? '1' : '0',
      nocache: f['no-cache'] ? '1' : '0',
      pull: f.pull ? '1' : '0',
      q: quiet ? '1' : '0',
      buildargs: JSON.stringify(buildArgs),
      labels: JSON.stringify(labels),
      networkmode: String(f.network ?? 'default'),
    };
    if (dockerfile) query.dockerfile = dockerfile;
    if ((f.tag as string[])?.length) query.t = f.tag as string[];
    if ((f['add-host'] as string[])?.length) query.extrahosts = f['add-host'] as string[];
    if (f.target) query.target = f.target;
    if (f.platform) query.platform = f.platform;
    if (f.check) query.berthcheck = '1';
    let report: (BuildEvent & { type: 'check' }) | undefined;

    const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
    const secrets = secretsOf((f.secret as string[]) ?? [], ctx.env);
    if (secrets) headers['X-Berth-Build-Secrets'] = secrets;

    const useTty = !quiet && (progress === 'tty' || (progress === 'auto' && isTTY(ctx.err)));
    const display = quiet ? undefined : useTty ? new TtyDisplay(ctx.err, started) : new PlainDisplay(ctx.err);
    const ctxVertex = display?.vertex('[internal] load build context', started);
    const res = await ctx.client().request('POST', '/build', { query, body, headers });
    if (display && ctxVertex) display.finish(ctxVertex, Date.now());

    let imageId = '';
    let error: { message: string; code?: number } | undefined;
    const lines = createInterface({ input: res.body, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let m: { aux?: { berthBuild?: BuildEvent; ID?: string }; stream?: string; error?: string; errorDetail?: { message: string; code?: number } };
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (m.errorDetail || m.error) {
        error = { message: m.errorDetail?.message ?? m.error ?? '', code: m.errorDetail?.code };
        continue;
      }
      if (m.aux?.ID) imageId = m.aux.ID;
      const e = m.aux?.berthBuild;
      if (e?.type === 'check') report = e;
      if (!e || !display) continue;
      const now = Date.now();
      switch (e.type) {
        case 'step':
          display.step(e.step, e.vertex, now);
          break;
        case 'output':
          display.output(e.step, e.data, now);
          break;
        case 'cached':
          display.cached(e.step);
          break;
        case 'done':
          display.done(e.step, e.ms);
          break;
        case 'warning':
          ctx.err.write(e.text);
          break;
      }
    }
    if (report) {
      ctx.out.write(checkReport(f.file && f.file !== '-' ? String(f.file) : 'Dockerfile', report));
      if (report.error) throw new StatusError(1);
    }
    if (error) {
      if (display) {
        display.failed(error.message);
        ctx.err.write(`ERROR: failed to solve: ${error.message}\n`);
      } else ctx.err.write(`ERROR: failed to solve: ${error.message}\n`);
      throw new StatusError(1);
    }
    if (display) {
      const v = display.vertex('exporting to image', Date.now());
      display.line(v, `writing image ${imageId} done`);
      for (const t of (f.tag as string[]) ?? []) display.line(v, `naming to ${qualified(t)} done`);
      display.finish(v, Date.now());
    }
    if (f.iidfile) fs.writeFileSync(f.iidfile, imageId);
    if (quiet) ctx.out.write(`${imageId}\n`);
    return 0;
  },
};

// --secret, buildx's forms: id=X,src=FILE (type=file), id=X,env=VAR
// (type=env), id=X alone (the env var X, else the file X). Sent in a header
// (base64 JSON), which the daemon reads for RUN --mount=type=secret.
export function secretsOf(specs: string[], env: NodeJS.ProcessEnv): string | undefined {
  if (specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const f: Record<string, string> = {};
    for (const part of spec.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) throw new StatusError(1, `invalid secret: ${spec}: expected key=value`);
      const k = part.slice(0, eq).trim().toLowerCase();
      if (!['id', 'type', 'src', 'source', 'env'].includes(k)) throw new StatusError(1, `invalid secret: ${spec}: unexpected key ${k}`);
      f[k] = part.slice(eq + 1);
    }
    const src = f.src ?? f.source;
    const id = f.id || (src ? path.basename(src) : f.env ?? '');
    if (!id) throw new StatusError(1, `invalid secret: ${spec}: an id is required`);
    if (f.type && f.type !== 'file' && f.type !== 'env') throw new StatusError(1, `invalid secret: ${spec}: unsupported type ${f.type}`);
    let value: Buffer;
    const fromEnv = f.type === 'env' || f.env !== undefined || (!src && !f.type && env[id] !== undefined);
    if (fromEnv) {
      const name = f.env ?? src ?? id;
      const v = env[name];
      if (v === undefined) throw new StatusError(1, `secret ${id}: the environment variable ${name} is not set`);
      value = Buffer.from(v);
    } else {
      const file = src ?? id;
      try {
        value = fs.readFileSync(file);
      } catch (e) {
        throw new StatusError(1, `secret ${id}: ${(e as Error).message}`);
      }
    }
    out[id] = value.toString('base64');
  }
  const header = Buffer.from(JSON.stringify(out)).toString('base64');
  // Node's servers take 16 KiB of headers.
  if (header.length > 12 * 1024) throw new StatusError(1, 'berth build: the secrets are too large (12 KiB at most, encoded)');
  return header;
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// "x" → "docker.io/library/x:latest", as BuildKit names it.
function qualified(t: string): string {
  let name = t;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') || name.includes('@') ? name : `${name}:latest`;
}

export type { Context };
