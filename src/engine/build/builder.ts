// The builder, the classic builder's way: each step runs on top of the
// previous step's image and makes the next one. Metadata instructions
// change the config only (an image with an empty layer); RUN runs a
// container from the current image and commits it; COPY/ADD extract files
// into a created container and commit it. Stages form a DAG (FROM <stage>,
// COPY --from=<stage>): only those the target needs are built, each as
// soon as what it needs is built, so independent stages run side by side.
// The cache key of a step is its parent image and its instruction as it
// runs (expanded; for RUN the build args in its environment; for COPY/ADD
// the content hash of the files), so a cached rebuild makes no containers.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BerthError, invalidArgument } from '../../errors';
import { IgnoreMatcher } from '../../util/dockerignore';
import { resolveInRootSync } from '../../util/rootfs';
import { writeFileAtomic } from '../../util/fs';
import { parseSignal } from '../../util/signals';
import type { ImageRecord, ImageRunConfig } from '../images/types';
import type { MountSpec, NetworkSpec } from '../containers/spec';
import { resolveUser } from '../runtime/user';
import type { BuildBackend } from './backend';
import { checkDockerfile, measure, type Finding, type StepMeasure } from './check';
import { checkDigest, contextSums, CopyError, download, hashTree, packEntries, plan, resolveSources, type ContextSums, type SourceOptions } from './copy';
import { DockerfileError, instructionOf, parseDockerfile, type Instruction, type Stage } from './instructions';
import { envLookup, LexError, ShellLex } from './lexer';
import { parse, parseHeredoc } from './parser';

export interface BuildOptions {
  dockerfile: string; // its path in the context
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  network?: string; // "default", "bridge", "host", "none" or a network's name
  extraHosts: { name: string; ip: string }[];
  pull: boolean;
  // Remove intermediate containers after a successful step (a failed
  // step's container is always removed).
  rm: boolean;
  // `--secret id=…`: what RUN --mount=type=secret exposes, by id. Never in
  // a layer, a cache key, the history or a kept container.
  secrets?: Record<string, Buffer>;
}

// What a build reports. `stage` is the stage's index (-1: the ARGs before
// the first FROM); `step` the step's number among all steps (1-based).
export type BuildEvent =
  | { type: 'plan'; stages: number[]; total: number }
  | { type: 'step'; stage: number; step: number; total: number; code: string; vertex: string; line?: number }
  | { type: 'stream'; stage: number; text: string } // the classic builder's own lines
  | { type: 'output'; stage: number; step: number; data: string }
  | { type: 'cached'; stage: number; step: number }
  | { type: 'done'; stage: number; step: number; image: string; ms: number }
  | { type: 'stageDone'; stage: number; image: string }
  | { type: 'warning'; text: string }
  // --check (berth's own): the findings, then again with what the build measured.
  | { type: 'check'; findings: Finding[]; layers?: { line: number; code: string; bytes: number; ms: number }[]; error?: string };

export type BuildSink = (e: BuildEvent) => void;

// A step that failed: the message is Docker's; code is a RUN's exit code.
export class BuildError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];

// The cache: step key → image id, kept in one file.
export class BuildCache {
  private map = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();
  constructor(private file: string) {
    try {
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(j)) this.map.set(k, v);
    } catch {
      // none yet
    }
  }
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, id: string): Promise<void> {
    this.map.set(key, id);
    const data = JSON.stringify(Object.fromEntries(this.map));
    this.writing = this.writing.then(async () => {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, data);
    });
    return this.writing;
  }
  // Entries whose image is gone (after rmi or prune).
  forgetMissing(exists: (id: string) => boolean): void {
    for (const [k, v] of this.map) if (!exists(v)) this.map.delete(k);
  }
  size(): number {
    return this.map.size;
  }
}

interface StageState {
  stage: Stage;
  image?: ImageRecord;
  config: ImageRunConfig;
  args: Map<string, string>; // declared in the stage, with their values
  cmdSet: boolean;
}

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((kv) => kv.split('=')[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

function goSlice(a: string[]): string {
  return `[${a.join(' ')}]`;
}

// WORKDIR into a runtime file descriptor is the CVE-2024-21626 class.
function checkWorkdir(p: string): void {
  if (/^\/proc\/(self|thread-self|\d+)\/fd(\/|$)/.test(p) || /^\/dev\/(fd|stdin|stdout|stderr)(\/|$)/.test(p)) {
    throw new BuildError(`WORKDIR ${p} is refused: it is a file descriptor of the runtime, not a directory of the image`);
  }
}

export class Builder {
  private cache: BuildCache;

  constructor(private b: BuildBackend) {
    this.cache = new BuildCache(path.join(b.dataDir, 'cache.json'));
  }

  // At daemon start: what a crash mid-build left.
  async init(): Promise<void> {
    await this.b.cleanup?.();
  }

  cacheSize(): number {
    this.cache.forgetMissing((id) => !!this.b.image(id));
    return this.cache.size();
  }

  // Builds the context (a tar). Resolves with the final image's id.
  build(context: Readable, o: BuildOptions, emit: BuildSink): Promise<string> {
    return this.withContext(context, (ctxDir, sums) => this.buildIn(ctxDir, o, emit, sums));
  }

  // `berth build --check`: the static findings first, then a build (from
  // the cache where it can) and the findings again with what it measured:
  // each step's layer size and duration, the bytes a fix would save.
  // Resolves with the image id, or '' when the build failed (the findings
  // still stand, with the error).
  check(context: Readable, o: BuildOptions, emit: BuildSink): Promise<string> {
    return this.withContext(context, async (ctxDir, sums) => {
      const name = o.dockerfile || 'Dockerfile';
      let df;
      try {
        df = parseDockerfile(await fsp.readFile(resolveInRootSync(ctxDir, name), 'utf8'), name);
      } catch (e) {
        if (e instanceof DockerfileError) throw invalidArgument(e.message);
        throw invalidArgument(`Cannot locate specified Dockerfile: ${name}`);
      }
      const target = o.target ? df.stages.findIndex((s) => s.name === o.target!.toLowerCase()) : df.stages.length - 1;
      const findings = checkDockerfile(df, { ...contextFacts(ctxDir), hasDockerignore: exists(path.join(ctxDir, '.dockerignore')) }, target < 0 ? df.stages.length - 1 : target);
      emit({ type: 'check', findings });
      // What each step made: its image and duration, by line (the target's chain).
      const steps = new Map<number, { stage: number; step: number; code: string; image?: string; ms: number }>();
      const byStep = new Map<string, number>();
      const sink: BuildSink = (e) => {
        if (e.type === 'step' && e.line !== undefined) {
          steps.set(e.line, { stage: e.stage, step: e.step, code: e.code, ms: 0 });
          byStep.set(`${e.stage}/${e.step}`, e.line);
        } else if (e.type === 'done') {
          const s = steps.get(byStep.get(`${e.stage}/${e.step}`) ?? -1);
          if (s) Object.assign(s, { image: e.image, ms: e.ms });
        }
        emit(e);
      };
      let id = '';
      try {
        id = await this.buildIn(ctxDir, o, sink, sums);
      } catch (err) {
        emit({ type: 'check', findings, error: (err as Error).message });
        return '';
      }
      const measures = new Map<number, StepMeasure>();
      const layers: { line: number; code: string; bytes: number; ms: number }[] = [];
      for (const [line, s] of [...steps].sort(([a], [b]) => a - b)) {
        const img = s.image ? this.b.image(s.image) : undefined;
        const top = img?.config.history?.at(-1);
        const layer = img && top && !top.empty_layer && s.step > 0 ? this.b.topLayer?.(img) : undefined;
        const isFrom = df.stages.some((st) => st.line === line);
        const bytes = isFrom ? 0 : layer?.size ?? 0;
        measures.set(line, { line, code: s.code, bytes, ms: s.ms, sizeOf: (p) => (layer && !isFrom ? treeSize(path.join(layer.dir, path.posix.normalize('/' + p))) : 0) });
        if (!isFrom) layers.push({ line, code: s.code, bytes, ms: s.ms });
      }
      measure(findings, measures);
      emit({ type: 'check', findings, layers });
      return id;
    });
  }

  private async withContext(context: Readable, fn: (ctxDir: string, sums: ContextSums) => Promise<string>): Promise<string> {
    const ctxDir = path.join(this.b.dataDir, 'contexts', randomBytes(8).toString('hex'));
    try {
      // The files' content hashes are taken as the tar streams by, while it
      // is extracted: COPY's cache key then needs no second read of them.
      // (A Node stream of it: a streamx stream pipes to one place only.)
      const src = Readable.from(context as AsyncIterable<Buffer>, { objectMode: false });
      const toDisk = new PassThrough();
      const toHash = new PassThrough();
      src.on('error', (err) => {
        toDisk.destroy(err);
        toHash.destroy(err);
      });
      src.pipe(toDisk);
      src.pipe(toHash);
      const [sums] = await Promise.all([contextSums(toHash, ctxDir), this.b.extractContext(toDisk, ctxDir)]);
      return await fn(ctxDir, sums);
    } finally {
      await fsp.rm(ctxDir, { recursive: true, force: true }).catch(() => {});
    }
  }

  private async buildIn(ctxDir: string, o: BuildOptions, emit: BuildSink, sums?: ContextSums): Promise<string> {
    const name = o.dockerfile || 'Dockerfile';
    let text: string;
    try {
      text = await fsp.readFile(resolveInRootSync(ctxDir, name), 'utf8');
    } catch {
      throw invalidArgument(`Cannot locate specified Dockerfile: ${name}`);
    }
    if (text.length === 0) throw invalidArgument(`the Dockerfile (${name}) cannot be empty`);
    let df;
    try {
      df = parseDockerfile(text, name);
    } catch (e) {
      if (e instanceof DockerfileError) throw invalidArgument(e.message);
      throw e;
    }
    let ignore: IgnoreMatcher | undefined;
    try {
      ignore = IgnoreMatcher.fromText(await fsp.readFile(resolveInRootSync(ctxDir, '.dockerignore'), 'utf8'));
    } catch {
      ignore = undefined;
    }
    for (const w of df.warnings) emit({ type: 'warning', text: w + '\n' });

    const stages = df.stages;
    let targetIx = stages.length - 1;
    if (o.target) {
      const t = o.target.toLowerCase();
      targetIx = stages.findIndex((s) => s.name === t);
      if (targetIx < 0) throw invalidArgument(`target stage "${o.target}" could not be found`);
    }
    // --label: LABEL steps at the end of the target stage, sorted.
    for (const key of Object.keys(o.labels).sort()) {
      const text = `LABEL ${JSON.stringify(key)}=${JSON.stringify(o.labels[key])}`;
      const ins = instructionOf(parse(text).nodes[0]);
      stages[targetIx].commands.push(ins);
    }

    // Meta args (before the first FROM).
    const consumed = new Set<string>();
    const meta = new Map<string, string>();
    const lex = new ShellLex({ escape: df.escape });
    const metaLookup = () => envLookup(meta);
    const expandMeta = (w: string) => this.expand(lex, w, metaLookup());

    // Which stages the target needs.
    const stageRef = (ref: string, before: number): number | undefined => {
      const r = ref.toLowerCase();
      const byName = stages.findIndex((s, i) => i < before && s.name === r);
      if (byName >= 0) return byName;
      if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
      return undefined;
    };
    for (const a of df.metaArgs) {
      for (const arg of a.args) {
        const given = o.buildArgs[arg.key];
        let v: string | undefined;
        if (given !== undefined && given !== null) {
          v = given;
          consumed.add(arg.key);
        } else if (arg.value !== undefined) v = expandMeta(arg.value);
        if (v !== undefined) meta.set(arg.key, v);
        else meta.delete(arg.key);
      }
    }
    const deps = stages.map((s, i) => {
      const d = new Set<number>();
      const base = stageRef(expandMeta(s.base), i);
      if (base !== undefined) d.add(base);
      for (const c of s.commands) {
        if (c.kind === 'copy' && c.from) {
          const f = stageRef(expandMeta(c.from), i);
          if (f !== undefined) d.add(f);
        }
      }
      return d;
    });
    const needed = new Set<number>();
    const visit = (i: number) => {
      if (needed.has(i)) return;
      needed.add(i);
      for (const d of deps[i]) visit(d);
    };
    visit(targetIx);

    // Step numbers, as the classic builder counts them (needed stages only).
    const order = [...needed].sort((a, b) => a - b);
    let total = df.metaArgs.length;
    for (const i of order) total += 1 + stages[i].commands.length;
    emit({ type: 'plan', stages: order, total });
    let n = 0;
    for (const a of df.metaArgs) {
      n++;
      emit({ type: 'step', stage: -1, step: n, total, code: a.code, vertex: a.code });
    }
    const firstStep = new Map<number, number>();
    for (const i of order) {
      firstStep.set(i, n + 1);
      n += 1 + stages[i].commands.length;
    }
    const multi = order.length > 1 || stages[targetIx].name !== '';

    const results = new Map<number, Promise<ImageRecord>>();
    const run = (i: number): Promise<ImageRecord> => {
      let p = results.get(i);
      if (!p) {
        p = this.runStage({ stages, i, o, emit, lex, meta, consumed, ctxDir, sums, ignore, stageRef, run, first: firstStep.get(i)!, total, multi });
        results.set(i, p);
        p.catch(() => {});
      }
      return p;
    };
    // Every needed stage starts now; each waits only for what it needs.
    const all = order.map((i) => run(i));
    const settled = await Promise.allSettled(all);
    const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const image = await run(targetIx);

    const unused = Object.keys(o.buildArgs).filter((k) => !consumed.has(k) && !PREDEFINED_ARGS.has(k)).sort();
    if (unused.length) emit({ type: 'warning', text: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n` });
    for (const t of o.tags) await this.b.tag(image.id, t);
    return image.id;
  }

  private expand(lex: ShellLex, word: string, env: (n: string) => string | undefined, used?: Set<string>): string {
    try {
      const r = lex.processWord(word, env);
      if (used) for (const u of r.used) used.add(u);
      return r.text;
    } catch (e) {
      if (e instanceof LexError) throw new BuildError(e.message);
      throw e;
    }
  }

  private async runStage(c: StageCtx): Promise<ImageRecord> {
    const { stages, i, emit, lex } = c;
    const stage = stages[i];
    let step = c.first;
    const prefix = c.multi ? `[${stage.name || `stage-${i}`} ` : '[';
    const count = stage.commands.length + 1;
    const vertex = (k: number, code: string) => `${prefix}${k}/${count}] ${code}`;
    const started = Date.now();

    // FROM
    emit({ type: 'step', stage: i, step, total: c.total, code: stage.code, vertex: vertex(1, stage.code), line: stage.line });
    const baseName = this.expand(lex, stage.base, envLookup(c.meta));
    if (baseName === '') throw new BuildError(`base name (${stage.base}) should not be blank`);
    if (stage.platform) {
      const p = this.expand(lex, stage.platform, envLookup(c.meta));
      if (p !== `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` && p !== 'linux') throw new BuildError(`FROM --platform=${p}: berth builds for this host's platform only`);
    }
    let image: ImageRecord | undefined;
    const dep = c.stageRef(baseName, i);
    if (dep !== undefined) image = await c.run(dep);
    else if (baseName.toLowerCase() !== 'scratch') image = await this.baseImage(baseName, c.o.pull, (t) => emit({ type: 'stream', stage: i, text: t }));
    const st: StageState = {
      stage,
      image,
      config: clone(image?.config.config) ?? {},
      args: new Map(),
      cmdSet: false,
    };
    if (!st.config.Env || st.config.Env.length === 0 || !st.config.Env.some((e) => e.startsWith('PATH='))) st.config.Env = [...(st.config.Env ?? []), DEFAULT_PATH];
    if (!image) image = await this.b.commitConfig(undefined, st.config, '');
    st.image = image;
    emit({ type: 'stream', stage: i, text: ` ---> ${short(image.id)}\n` });
    emit({ type: 'done', stage: i, step, image: image.id, ms: Date.now() - started });

    // ONBUILD triggers of the base image.
    const triggers = st.config.OnBuild ?? [];
    if (triggers.length) {
      emit({ type: 'stream', stage: i, text: `# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n` });
      st.config.OnBuild = [];
      for (const t of triggers) {
        const ins = instructionOf(parse(t).nodes[0]);
        await this.step(c, st, ins, () => {});
      }
    }

    let k = 1;
    for (const ins of stage.commands) {
      step++;
      k++;
      emit({ type: 'step', stage: i, step, total: c.total, code: ins.code, vertex: vertex(k, ins.code), line: ins.node.startLine });
      const t0 = Date.now();
      const s = step;
      const cached = await this.step(c, st, ins, (data) => emit({ type: 'output', stage: i, step: s, data }));
      if (cached) emit({ type: 'cached', stage: i, step });
      emit({ type: 'stream', stage: i, text: ` ---> ${short(st.image!.id)}\n` });
      emit({ type: 'done', stage: i, step, image: st.image!.id, ms: Date.now() - t0 });
    }
    emit({ type: 'stageDone', stage: i, image: st.image!.id });
    return st.image!;
  }

  private async baseImage(name: string, pull: boolean, out: (t: string) => void): Promise<ImageRecord> {
    const local = this.b.findImage(name);
    if (local && !pull) return local;
    try {
      return await this.b.pullImage(name, (e) => {
        if (e.type === 'status') out(`${e.id ? e.id + ': ' : ''}${e.status}\n`);
      });
    } catch (err) {
      if (local) return local;
      throw err;
    }
  }

  // Runs one instruction; true when it came from the cache.
  private async step(c: StageCtx, st: StageState, ins: Instruction, out: (data: string) => void): Promise<boolean> {
    const i = c.i;
    const emitLine = (text: string) => c.emit({ type: 'stream', stage: i, text });
    // Expansion: ENV wins over ARG.
    const env = () => {
      const m = new Map(st.args);
      for (const kv of st.config.Env ?? []) {
        const eq = kv.indexOf('=');
        m.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
      }
      return envLookup(m);
    };
    const used = new Set<string>();
    const x = (w: string) => this.expand(c.lex, w, env(), used);
    const shell = st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL;
    const nop = `${shell.join(' ')} #(nop) `;
    // The build args a key depends on: those the expansion read.
    const argKey = () => [...used].filter((u) => st.args.has(u)).sort().map((u) => `${u}=${st.args.get(u)}`).join(' ');

    const meta = async (createdBy: string, apply: () => void): Promise<boolean> => {
      apply();
      const key = this.key(st.image!, createdBy, argKey());
      const hit = await this.cached(c, key);
      if (hit) {
        emitLine(' ---> Using cache\n');
        st.image = hit;
        return true;
      }
      st.image = await this.b.commitConfig(st.image, st.config, createdBy);
      await this.cache.set(key, st.image.id);
      return false;
    };

    switch (ins.kind) {
      case 'env': {
        return meta(`${nop} ENV ${ins.pairs.map((p) => `${x(p.key)}=${x(p.value)}`).join(' ')}`, () => {
          for (const p of ins.pairs) {
            const k = x(p.key);
            const v = x(p.value);
            st.config.Env = setEnv(st.config.Env ?? [], k, v);
          }
        });
      }
      case 'label': {
        const pairs = ins.pairs.map((p) => [x(p.key), x(p.value)] as const);
        return meta(`${nop} LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
          st.config.Labels = { ...(st.config.Labels ?? {}) };
          for (const [k, v] of pairs) st.config.Labels[k] = v;
        });
      }
      case 'maintainer':
        return meta(`${nop} MAINTAINER ${ins.maintainer}`, () => {});
      case 'expose': {
        const ports: string[] = [];
        for (const p of ins.ports) {
          for (const w of c.lex.processWords(p, env()).words) {
            if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(w)) throw new BuildError(`invalid containerPort: ${w}`);
            ports.push(w.includes('/') ? w.toLowerCase() : `${w}/tcp`);
          }
        }
        return meta(`${nop} EXPOSE ${ports.join(' ')}`, () => {
          st.config.ExposedPorts = { ...(st.config.ExposedPorts ?? {}) };
          for (const p of ports) st.config.ExposedPorts[p] = {};
        });
      }
      case 'user': {
        const u = x(ins.user);
        return meta(`${nop} USER ${u}`, () => void (st.config.User = u));
      }
      case 'workdir': {
        let p = x(ins.path);
        if (!p.startsWith('/')) p = path.posix.join(st.config.WorkingDir || '/', p);
        p = path.posix.normalize(p);
        checkWorkdir(p);
        return meta(`${nop}WORKDIR ${p}`, () => void (st.config.WorkingDir = p));
      }
      case 'volume': {
        const vols = ins.volumes.map((v) => x(v));
        if (vols.some((v) => v === '')) throw new BuildError('VOLUME specified can not be an empty string');
        return meta(`${nop} VOLUME ${goSlice(vols)}`, () => {
          st.config.Volumes = { ...(st.config.Volumes ?? {}) };
          for (const v of vols) st.config.Volumes[v] = {};
        });
      }
      case 'stopsignal': {
        const s = x(ins.signal);
        try {
          parseSignal(s);
        } catch (e) {
          throw new BuildError((e as Error).message);
        }
        return meta(`${nop} STOPSIGNAL ${s}`, () => void (st.config.StopSignal = s));
      }
      case 'arg': {
        const parts: string[] = [];
        for (const a of ins.args) {
          const given = c.o.buildArgs[a.key];
          let v: string | undefined;
          if (given !== undefined && given !== null) {
            v = given;
            c.consumed.add(a.key);
          } else if (a.value !== undefined) v = x(a.value);
          else if (c.meta.has(a.key)) v = c.meta.get(a.key);
          if (v !== undefined) st.args.set(a.key, v);
          else st.args.delete(a.key);
          parts.push(a.value !== undefined ? `${a.key}=${a.value}` : a.key);
        }
        return meta(`${nop} ARG ${parts.join(' ')}`, () => {});
      }
      case 'shell':
        return meta(`${nop} SHELL ${goSlice(ins.shell)}`, () => void (st.config.Shell = ins.shell));
      case 'cmd': {
        const argv = ins.prependShell ? [...shell, ins.cmdLine[0] ?? ''] : ins.cmdLine;
        return meta(`${nop} CMD ${JSON.stringify(argv)}`, () => {
          st.config.Cmd = argv;
          st.cmdSet = true;
        });
      }
      case 'entrypoint': {
        const argv = ins.cmdLine.length === 0 ? null : ins.prependShell ? [...shell, ins.cmdLine[0]] : ins.cmdLine;
        return meta(`${nop} ENTRYPOINT ${JSON.stringify(argv ?? [])}`, () => {
          st.config.Entrypoint = argv;
          if (!st.cmdSet) st.config.Cmd = null;
        });
      }
      case 'healthcheck': {
        const h = ins.health;
        return meta(`${nop} HEALTHCHECK ${JSON.stringify(h)}`, () => {
          if (h.Test[0] === 'NONE') st.config.Healthcheck = { Test: ['NONE'] };
          else {
            const prev = (st.config.Healthcheck ?? {}) as Record<string, unknown>;
            st.config.Healthcheck = { ...h, ...(h.Interval === undefined && prev.Interval ? { Interval: prev.Interval } : {}) };
          }
        });
      }
      case 'onbuild':
        return meta(`${nop} ONBUILD ${ins.expression}`, () => void (st.config.OnBuild = [...(st.config.OnBuild ?? []), ins.expression]));
      case 'run':
        return this.run(c, st, ins, shell, out);
      case 'copy':
      case 'add':
        return this.copy(c, st, ins, x, nop, argKey);
    }
  }

  private key(parent: ImageRecord, createdBy: string, extra = ''): string {
    return createHash('sha256').update(`${parent.id}\n${createdBy}\n${extra}`).digest('hex');
  }

  private async cached(c: StageCtx, key: string): Promise<ImageRecord | undefined> {
    if (c.o.noCache) return undefined;
    const id = this.cache.get(key);
    return id ? this.b.image(id) : undefined;
  }

  private network(c: StageCtx, flag?: string): NetworkSpec {
    const mode = flag ?? c.o.network ?? 'default';
    const extraHosts = c.o.extraHosts.length ? { extraHosts: c.o.extraHosts } : {};
    if (mode === 'none') return { mode: 'none', ...extraHosts };
    if (mode === 'host') return { mode: 'host', ...extraHosts };
    const net = mode === 'default' || mode === '' ? 'bridge' : mode;
    return { mode: 'bridge', endpoints: [{ network: net, aliases: [] }], ...extraHosts };
  }

  private async run(c: StageCtx, st: StageState, ins: Instruction & { kind: 'run' }, shell: string[], out: (data: string) => void): Promise<boolean> {
    if (ins.security) throw new BuildError('RUN --security is not supported by berth\'s builder yet');
    if (ins.network && !['default', 'none', 'host'].includes(ins.network)) throw new BuildError(`unsupported network mode: ${ins.network}`);
    let args = ins.cmdLine;
    // A lone heredoc with a "#!" line runs as its own program (BuildKit's
    // /dev/pipes/<name>, a read-only file on the runtime's /dev tmpfs, so
    // nothing of it lands in the layer); key and history keep its text.
    let script: { name: string; data: string } | undefined;
    if (ins.files.length) {
      // BuildKit's rules: a lone heredoc is the script; otherwise the shell
      // gets the line with its heredocs and handles them.
      if (args.length !== 1 || !ins.prependShell) throw new BuildError(`parsing produced an invalid run command: ${goSlice(args)}`);
      const h = parseHeredoc(args[0]);
      if (h) {
        const f = ins.files[0];
        args = [f.chomp ? f.content.replace(/^\t+/gm, '') : f.content];
        if (args[0].startsWith('#!') && ins.files.length === 1) script = { name: f.name, data: args[0] };
      } else {
        let full = args[0];
        for (const f of ins.files) full += '\n' + f.content + f.name;
        args = [full];
      }
    }
    const argv = ins.prependShell ? [...shell, ...args] : args;
    // The build args in the step's environment (the classic builder's "|N a=b").
    const env = [...(st.config.Env ?? [])];
    const argPairs: string[] = [];
    for (const [k, v] of [...st.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (env.some((e) => e.split('=')[0] === k)) continue;
      argPairs.push(`${k}=${v}`);
      env.push(`${k}=${v}`);
    }
    const createdBy = `${argPairs.length ? `|${argPairs.length} ${argPairs.join(' ')} ` : ''}${argv.join(' ')}`;
    const releases: { release(): Promise<void> }[] = [];
    let id: string | undefined;
    let secretUsed = false;
    try {
      const { mounts, key: mountKey, secretEnv } = await this.runMounts(c, st, ins.mounts, releases);
      secretUsed = secretEnv.length > 0 || ins.mounts.some((m) => /(^|,)\s*type=secret(,|$)/i.test(m));
      env.push(...secretEnv);
      const key = this.key(st.image!, createdBy, `${ins.network ?? ''}\n${mountKey}`);
      const hit = await this.cached(c, key);
      if (hit) {
        c.emit({ type: 'stream', stage: c.i, text: ' ---> Using cache\n' });
        st.image = hit;
        return true;
      }
      let runArgv = argv;
      if (script) {
        const dir = path.join(this.b.dataDir, 'heredocs', randomBytes(8).toString('hex'));
        await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        releases.push({ release: () => fsp.rm(dir, { recursive: true, force: true }) });
        await fsp.writeFile(path.join(dir, 'script'), script.data, { mode: 0o755 });
        const target = `/dev/pipes/${script.name}`;
        mounts.push({ type: 'bind', source: path.join(dir, 'script'), target, readonly: true });
        runArgv = [target];
      }
      const code = await this.b.runContainer(
        { image: st.image!, config: st.config, argv: runArgv, env, network: this.network(c, ins.network), mounts },
        (d) => out(d.toString('utf8')),
        (cid) => {
          id = cid;
          c.emit({ type: 'stream', stage: c.i, text: ` ---> Running in ${short(cid)}\n` });
        },
      );
      if (code !== 0) throw new BuildError(`The command '${argv.join(' ')}' returned a non-zero code: ${code}`, code);
      st.image = await this.b.commitContainer(id!, st.config, createdBy);
      await this.cache.set(key, st.image.id);
    } catch (err) {
      if (id) await this.b.removeContainer(id).catch(() => {});
      id = undefined;
      throw err;
    } finally {
      // A container that saw a secret (its env=) is never kept.
      if (id && (c.o.rm || secretUsed)) {
        await this.b.removeContainer(id);
        c.emit({ type: 'stream', stage: c.i, text: ` ---> Removed intermediate container ${short(id)}\n` });
      }
      for (const r of releases) await r.release().catch(() => {});
    }
    return false;
  }

  // RUN --mount=type=bind|cache|tmpfs (BuildKit's CSV): the container's
  // mounts, and what the cache key takes of them (a bind's content hash).
  // A bind's source resolves inside its root (the context, a stage or an
  // image mounted read-only), so "..", or a link, cannot lead out.
  private async runMounts(c: StageCtx, st: StageState, specs: string[], releases: { release(): Promise<void> }[]): Promise<{ mounts: MountSpec[]; key: string; secretEnv: string[] }> {
    const mounts: MountSpec[] = [];
    const keys: string[] = [];
    const secretEnv: string[] = [];
    const env = envLookup(st.args, st.config.Env);
    for (const raw of specs) {
      const spec = this.expand(c.lex, raw, env);
      const f: Record<string, string> = {};
      for (const part of spec.split(',')) {
        const eq = part.indexOf('=');
        const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
        f[k] = eq < 0 ? 'true' : part.slice(eq + 1);
      }
      const type = f.type ?? 'bind';
      if (!['bind', 'cache', 'tmpfs', 'secret'].includes(type)) throw new BuildError(`RUN --mount type=${type} is not supported by berth's builder yet`);
      if (type === 'secret') {
        await this.secretMount(c, st, spec, f, mounts, keys, secretEnv, releases);
        continue;
      }
      const target = f.target ?? f.dst ?? f.destination;
      if (!target) throw new BuildError(`RUN --mount=${spec}: the mount target must be specified`);
      const abs = target.startsWith('/') ? path.posix.normalize(target) : path.posix.join(st.config.WorkingDir || '/', target);
      const rw = f.rw === 'true' || f.readwrite === 'true';
      const ro = f.ro === 'true' || f.readonly === 'true';
      for (const k of Object.keys(f)) {
        const known: Record<string, string[]> = {
          bind: ['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'ro', 'readonly', 'rw', 'readwrite'],
          cache: ['type', 'target', 'dst', 'destination', 'id', 'sharing', 'ro', 'readonly', 'mode', 'uid', 'gid'],
          tmpfs: ['type', 'target', 'dst', 'destination', 'size'],
        };
        if (!known[type]) throw new BuildError(`RUN --mount type=${type} is not supported by berth's builder yet`);
        if (!known[type].includes(k)) throw new BuildError(`RUN --mount=${spec}: unexpected key '${k}' for type ${type}`);
      }
      if (type === 'tmpfs') {
        mounts.push({ type: 'tmpfs', source: '', target: abs, readonly: false, ...(f.size ? { tmpfsOptions: [`size=${f.size}`] } : {}) });
        keys.push(`tmpfs ${abs} ${f.size ?? ''}`);
      } else if (type === 'cache') {
        if (f.sharing && f.sharing !== 'shared') throw new BuildError(`RUN --mount type=cache,sharing=${f.sharing} is not supported by berth's builder yet (only shared)`);
        if (f.mode || f.uid || f.gid) throw new BuildError('RUN --mount type=cache with mode, uid or gid is not supported by berth\'s builder yet');
        const id = createHash('sha256').update(f.id ?? abs).digest('hex').slice(0, 32);
        const dir = path.join(this.b.dataDir, 'cache-mounts', id);
        await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
        mounts.push({ type: 'bind', source: dir, target: abs, readonly: ro });
        // The cache's content is not part of the key (BuildKit's rule).
        keys.push(`cache ${f.id ?? abs} ${abs} ${ro}`);
      } else {
        if (rw) throw new BuildError('RUN --mount type=bind,rw is not supported by berth\'s builder yet');
        let root = c.ctxDir;
        let opts: SourceOptions = { root, fromContext: true, ignore: c.ignore, cmd: 'COPY', sums: c.sums };
        if (f.from) {
          const dep = c.stageRef(f.from, c.i);
          const img = dep !== undefined ? await c.run(dep) : await this.baseImage(f.from, false, (t) => c.emit({ type: 'stream', stage: c.i, text: t }));
          const m = await this.b.mountImage(img);
          releases.push(m);
          root = m.root;
          opts = { root, fromContext: false, cmd: 'COPY' };
        }
        const src = path.posix.normalize((f.source ?? f.src ?? '.').replace(/^\/+/, '') || '.');
        if (!f.from && (src === '..' || src.startsWith('../'))) throw new BuildError(`RUN --mount: forbidden path outside the build context: ${f.source}`);
        const host = resolveInRootSync(root, src === '.' ? '' : src);
        if (!exists(host)) throw new BuildError(`RUN --mount: ${f.source ?? '.'} not found${f.from ? '' : ' in the build context'}`);
        mounts.push({ type: 'bind', source: host, target: abs, readonly: true });
        keys.push(`bind ${f.from ?? ''} ${src} ${abs} ${await hashTree(opts, src === '.' ? '' : src)}`);
      }
    }
    return { mounts, key: keys.join('\n'), secretEnv };
  }

  // RUN --mount=type=secret (BuildKit's keys): the secret as a read-only
  // file (at target, default /run/secrets/<id>) and/or in an env var. The
  // file lives under the builder's dir only while the step runs; the key
  // takes the id and where it goes, never the value (BuildKit's rule: a
  // changed secret does not invalidate the cache).
  private async secretMount(c: StageCtx, st: StageState, spec: string, f: Record<string, string>, mounts: MountSpec[], keys: string[], secretEnv: string[], releases: { release(): Promise<void> }[]): Promise<void> {
    const known = ['type', 'id', 'target', 'dst', 'destination', 'required', 'mode', 'uid', 'gid', 'env'];
    for (const k of Object.keys(f)) if (!known.includes(k)) throw new BuildError(`RUN --mount=${spec}: unexpected key '${k}' for type secret`);
    let target = f.target ?? f.dst ?? f.destination;
    const id = f.id || (target ? path.posix.basename(target) : '');
    if (!id) throw new BuildError(`RUN --mount=${spec}: the secret id must be specified`);
    if (!target && !f.env) target = `/run/secrets/${id}`;
    const required = f.required === 'true';
    const num = (v: string | undefined, name: string, base: number, def: number) => {
      if (v === undefined) return def;
      const n = parseInt(v, base);
      if (!/^[0-9]+$/.test(v) || Number.isNaN(n)) throw new BuildError(`RUN --mount=${spec}: invalid ${name}: ${v}`);
      return n;
    };
    const mode = num(f.mode, 'mode', 8, 0o400);
    const uid = num(f.uid, 'uid', 10, 0);
    const gid = num(f.gid, 'gid', 10, 0);
    const value = c.o.secrets?.[id];
    keys.push(`secret ${id} ${target ?? ''} ${f.env ?? ''} ${required} ${mode.toString(8)} ${uid}:${gid}`);
    if (value === undefined) {
      // BuildKit skips a missing secret that is not required.
      if (required) throw new BuildError(`secret ${id} not found: give it with berth build --secret id=${id},src=<file>`);
      return;
    }
    if (f.env) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.env)) throw new BuildError(`RUN --mount=${spec}: invalid env name: ${f.env}`);
      secretEnv.push(`${f.env}=${value.toString('utf8')}`);
    }
    if (!target) return;
    const abs = target.startsWith('/') ? path.posix.normalize(target) : path.posix.join(st.config.WorkingDir || '/', target);
    const dir = path.join(this.b.dataDir, 'secrets', randomBytes(8).toString('hex'));
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    releases.push({ release: () => fsp.rm(dir, { recursive: true, force: true }) });
    const file = path.join(dir, 'secret');
    await fsp.writeFile(file, value, { mode: 0o600 });
    if (uid !== 0 || gid !== 0) await fsp.chown(file, uid, gid);
    await fsp.chmod(file, mode);
    mounts.push({ type: 'bind', source: file, target: abs, readonly: true });
  }

  private async copy(c: StageCtx, st: StageState, ins: Instruction & { kind: 'copy' | 'add' }, x: (w: string) => string, nop: string, argKey: () => string): Promise<boolean> {
    const cmd = ins.kind === 'copy' ? 'COPY' : 'ADD';
    // --link: the files make a layer of their own in BuildKit, rebased
    // without the layers under it; in this builder the layer holds the same
    // files (the base's paths are resolved as without it).
    if (ins.excludes.length) throw new BuildError(`${cmd} --exclude is not supported by berth's builder yet`);
    if (ins.parents) throw new BuildError('COPY --parents is not supported by berth\'s builder yet');
    const sources = ins.sources.map((s) => x(s));
    const isUrl = (s: string) => /^https?:\/\//i.test(s);
    for (const s of sources) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@')) {
        if (cmd === 'COPY') throw new BuildError('COPY failed: source can\'t be a URL for COPY');
        if (!isUrl(s)) throw new BuildError('ADD from a git repository or a URL other than HTTP(S) is not supported by berth\'s builder yet');
      }
    }
    const checksum = ins.checksum ? x(ins.checksum) : undefined;
    if (checksum) {
      if (sources.length !== 1 || ins.contents.length) throw new BuildError('checksum can\'t be specified for multiple sources');
      if (!isUrl(sources[0])) throw new BuildError('checksum can\'t be specified for non-HTTP(S) sources');
      try {
        checkDigest(checksum);
      } catch (e) {
        throw new BuildError((e as Error).message);
      }
    }
    const contents = ins.contents.map((h) => ({ path: h.path, data: h.expand ? x(h.data) : h.data }));
    let dest = x(ins.dest);
    const slash = dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
    if (!dest.startsWith('/')) dest = path.posix.join(st.config.WorkingDir || '/', dest);
    if (slash && !dest.endsWith('/')) dest += '/';
    const chown = ins.chown ? x(ins.chown) : '';
    let chmod: number | undefined;
    if (ins.chmod) {
      const m = x(ins.chmod);
      if (!/^[0-7]{1,4}$/.test(m)) throw new BuildError(`invalid chmod parameter: ${m}. it should be octal string and between 0 and 07777`);
      chmod = parseInt(m, 8);
    }

    // Where the files come from.
    const mounts: { release(): Promise<void> }[] = [];
    try {
      let src: SourceOptions;
      let fromKey: string | undefined;
      if (ins.kind === 'copy' && ins.from) {
        const from = x(ins.from);
        const dep = c.stageRef(from, c.i);
        let img: ImageRecord;
        if (dep !== undefined) img = await c.run(dep);
        else if (/^\d+$/.test(from)) throw new BuildError(`invalid from flag value ${from}: refers to current build stage`);
        else img = await this.baseImage(from, false, (t) => c.emit({ type: 'stream', stage: c.i, text: t }));
        // The source image fixes what is copied and the parent where it
        // lands: a key of both finds a cached step with nothing mounted.
        fromKey = this.key(st.image!, `${cmd} --from=${img.id} ${JSON.stringify(sources)} ${dest}`, `${chown}:${chmod ?? ''}:${argKey()}`);
        const hit = await this.cached(c, fromKey);
        if (hit) {
          c.emit({ type: 'stream', stage: c.i, text: ' ---> Using cache\n' });
          st.image = hit;
          return true;
        }
        const m = await this.b.mountImage(img);
        mounts.push(m);
        src = { root: m.root, fromContext: false, cmd };
      } else {
        src = { root: c.ctxDir, fromContext: true, ignore: c.ignore, cmd, sums: c.sums };
      }
      const target = await this.b.mountImage(st.image);
      mounts.push(target);
      let destIsDir = false;
      try {
        destIsDir = fs.statSync(resolveInRootSync(target.root, dest)).isDirectory();
      } catch {
        destIsDir = false;
      }
      let p;
      try {
        // URLs are fetched by the daemon, each into a dir of its own.
        const local = sources.filter((s) => !isUrl(s));
        const resolved = local.length ? resolveSources(src, local) : [];
        for (const u of sources.filter(isUrl)) {
          const dir = path.join(this.b.dataDir, 'downloads', randomBytes(8).toString('hex'));
          mounts.push({ release: () => fsp.rm(dir, { recursive: true, force: true }) });
          resolved.push(await download(u, dir, checksum));
        }
        p = await plan({ sources: resolved, contents, dest, destIsDir, add: cmd === 'ADD', o: src });
      } catch (e) {
        if (e instanceof CopyError) throw new BuildError(e.message);
        throw e;
      }
      let uid = 0;
      let gid = 0;
      if (chown) {
        const [u, g] = chown.split(':', 2);
        const read = (f: string) => {
          try {
            return fs.readFileSync(resolveInRootSync(target.root, f), 'utf8');
          } catch {
            return undefined;
          }
        };
        try {
          const r = resolveUser(g === undefined && /^\d+$/.test(u) ? `${u}:${u}` : chown, read('/etc/passwd'), read('/etc/group'));
          uid = r.uid;
          gid = r.gid;
        } catch (e) {
          throw new BuildError(`${cmd} failed: ${(e as Error).message}`);
        }
      }
      const createdBy = `${nop}${cmd} ${p.hash} in ${dest} `;
      const key = this.key(st.image!, createdBy, `${uid}:${gid}:${chmod ?? ''}:${argKey()}`);
      const hit = await this.cached(c, key);
      if (hit) {
        c.emit({ type: 'stream', stage: c.i, text: ' ---> Using cache\n' });
        st.image = hit;
        if (fromKey) await this.cache.set(fromKey, hit.id);
        return true;
      }
      // The deepest directory of the base that exists: missing ones are made.
      let at = p.base;
      const missing: string[] = [];
      while (at !== '/' && !exists(resolveInRootSync(target.root, at))) {
        missing.unshift(path.posix.basename(at));
        at = path.posix.dirname(at);
      }
      const parents = missing.map((_, k) => missing.slice(0, k + 1).join('/'));
      const id = await this.b.createContainer(st.image!, st.config);
      try {
        await this.b.putArchive(id, at, packEntries(p.entries, { uid, gid, chmod, parents, prefix: missing.join('/') }));
        for (const e of p.entries.filter((e) => e.extract)) {
          await this.b.putArchive(id, p.base, fs.createReadStream(e.host!));
        }
        st.image = await this.b.commitContainer(id, st.config, createdBy);
      } catch (err) {
        if (err instanceof BerthError && err.kind === 'InvalidArgument') throw new BuildError(`${cmd} failed: ${err.message}`);
        throw err;
      } finally {
        await this.b.removeContainer(id);
      }
      await this.cache.set(key, st.image.id);
      if (fromKey) await this.cache.set(fromKey, st.image.id);
      return false;
    } finally {
      for (const m of mounts) await m.release().catch(() => {});
    }
  }
}

// Bytes of regular files under p (p itself if a file); links not followed.
function treeSize(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let n = 0;
  for (const name of fs.readdirSync(p)) n += treeSize(path.join(p, name));
  return n;
}

// The context's size, file count and top-level names (for --check).
function contextFacts(dir: string): { contextBytes: number; contextFiles: number; topLevel: string[] } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.lstatSync(p).size;
      }
    }
  };
  walk(dir);
  return { contextBytes: bytes, contextFiles: files, topLevel: fs.readdirSync(dir) };
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

// Build args Docker accepts without an ARG.
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

interface StageCtx {
  stages: Stage[];
  i: number;
  o: BuildOptions;
  emit: BuildSink;
  lex: ShellLex;
  meta: Map<string, string>;
  consumed: Set<string>;
  ctxDir: string;
  sums?: ContextSums;
  ignore?: IgnoreMatcher;
  stageRef(ref: string, before: number): number | undefined;
  run(i: number): Promise<ImageRecord>;
  first: number;
  total: number;
  multi: boolean;
}

// Orders a parallel build's events for the classic builder's sequential
// stream: a stage's events pass once every earlier needed stage is done,
// and are held until then.
export class StageOrder {
  private order: number[] = [];
  private held = new Map<number, BuildEvent[]>();
  private finished = new Set<number>();
  private pos = 0;

  constructor(private out: BuildSink) {}

  push = (e: BuildEvent): void => {
    if (e.type === 'plan') {
      this.order = e.stages;
      return this.out(e);
    }
    if (!('stage' in e) || e.stage < 0) return this.out(e);
    if (e.stage === this.order[this.pos]) {
      this.out(e);
      if (e.type === 'stageDone') this.advance();
      return;
    }
    if (!this.held.has(e.stage)) this.held.set(e.stage, []);
    this.held.get(e.stage)!.push(e);
    if (e.type === 'stageDone') this.finished.add(e.stage);
  };

  private advance(): void {
    for (;;) {
      this.pos++;
      const s = this.order[this.pos];
      if (s === undefined) return;
      for (const e of this.held.get(s) ?? []) this.out(e);
      this.held.delete(s);
      if (!this.finished.has(s)) return;
    }
  }

  // What is still held (a failed build's other stages), in order.
  flush(): void {
    for (const s of [...this.held.keys()].sort((a, b) => a - b)) for (const e of this.held.get(s)!) this.out(e);
    this.held.clear();
  }
}
