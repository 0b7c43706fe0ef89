// /containers/...: lifecycle (pause, unpause, rename too), inspect, list,
// prune, logs, wait, attach, export, and /commit. Docker's
// shapes are translated here (containers/create.ts, containers/inspect.ts);
// the engine sees its own ContainerSpec.
import { invalidArgument, isKind } from '../../errors';
import type { ContainerSnapshots } from '../../engine/containers/commit';
import type { ContainerRecord } from '../../engine/containers/record';
import { hasLabel } from '../../engine/images/service';
import { linearRegExp } from '../../util/linear-regexp';
import type { ContainerService, WaitCondition } from '../../engine/containers/service';
import type { ImageRecord } from '../../engine/images/types';
import { translateCommit } from '../containers/commit';
import { translateCreate, type LogDefaults } from '../containers/create';
import { containerSummary, inspectContainer, type ContainerViewDeps } from '../containers/inspect';
import { dockerMeta, type DockerHostConfig } from '../containers/meta';
import { limitsOf, mergeUpdate } from '../containers/resources';
import { attachedStream, boolParam, detachKeysValue, filtersParam, intParam, readJSON, requestBody, sendJSON, sendNoContent, sendStream, stdcopyFrame, timestampValue } from '../http';
import type { Ctx, Router } from '../router';
import { restartPolicyOf } from '../containers/restart';

// What the container routes need of the daemon.
export interface ContainerBackend {
  // commit and export: a container's filesystem as an image or a tar.
  snapshots: Pick<ContainerSnapshots, 'commit' | 'export'>;
  containers: Pick<ContainerService, 'create' | 'get' | 'list' | 'start' | 'stop' | 'restart' | 'kill' | 'remove' | 'wait' | 'logs' | 'attach' | 'resize' | 'pause' | 'unpause' | 'rename' | 'update'>;
  // Resolves a create body's image reference (name, id or digest).
  resolveImage(ref: string): ImageRecord | undefined;
  view: ContainerViewDeps;
  // daemon.json's log-driver and log-opts.
  logDefaults?: LogDefaults;
}

export function containerRoutes(r: Router, b: ContainerBackend): void {
  const cs = b.containers;

  r.post('/containers/create', async (ctx) => {
    const body = await readJSON(ctx.req);
    // dockerode sends its options both as the query and as the body, so the
    // body repeats the query's name (and platform): taken as the query's
    // echo when they agree, refused as unknown fields when they do not.
    for (const k of ['name', 'platform']) {
      if (body && k in body && (body[k] ?? '') === (ctx.query.get(k) ?? '')) delete body[k];
    }
    const { spec, meta, warnings } = translateCreate(body, (ref) => b.resolveImage(ref), b.logDefaults);
    const out = await cs.create(spec, { name: ctx.query.get('name') || undefined, meta });
    sendJSON(ctx.res, 201, { Id: out.id, Warnings: [...warnings, ...out.warnings] });
  });

  r.get('/containers/json', async (ctx) => {
    const all = boolParam(ctx.query, 'all');
    const limit = intParam(ctx.query, 'limit');
    const filters = filtersParam(ctx.query);
    // Checked up front, as dockerd does, even when no container is listed.
    for (const v of filters.get('health') ?? []) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(v)) throw invalidArgument(`Unrecognised filter value for health: ${v}`);
    // Restarting counts as running, as in dockerd.
    let list = cs.list().filter((c) => (all || limit !== undefined && limit > 0 || filters.has('status') ? true : ['running', 'paused', 'restarting'].includes(c.state.status)));
    list = list.filter((c) => matchFilters(c, filters));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const size = boolParam(ctx.query, 'size');
    sendJSON(ctx.res, 200, await Promise.all(list.map((c) => containerSummary(b.view, c, size))));
  });

  // Removes every container that is not running, as dockerd: `until` keeps
  // those created after it; `label` must all match, `label!` none.
  r.post('/containers/prune', async (ctx) => {
    const filters = filtersParam(ctx.query);
    for (const k of filters.keys()) if (!['until', 'label', 'label!'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const untilRaw = filters.get('until')?.[0];
    const until = untilRaw === undefined ? undefined : timestampValue(untilRaw, 'until');
    const labels = filters.get('label') ?? [];
    const notLabels = filters.get('label!') ?? [];
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of cs.list()) {
      if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue;
      if (until !== undefined && !(Date.parse(c.created) / 1000 < until)) continue;
      if (!labels.every((l) => hasLabel(c.spec.labels, l))) continue;
      if (notLabels.some((l) => hasLabel(c.spec.labels, l))) continue;
      const size = await b.view.sizeRw(c.id).catch(() => 0);
      try {
        await cs.remove(c.id, { force: false });
      } catch (err) {
        // Started or removed meanwhile: dockerd skips it too.
        if (isKind(err, 'Conflict') || isKind(err, 'NotFound')) continue;
        throw err;
      }
      deleted.push(c.id);
      reclaimed += size;
    }
    sendJSON(ctx.res, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.get('/containers/:id/json', async (ctx) => {
    const c = cs.get(ctx.params.id);
    const size = boolParam(ctx.query, 'size');
    sendJSON(ctx.res, 200, await inspectContainer(b.view, c, size));
  });

  r.post('/containers/:id/start', async (ctx) => {
    await cs.start(ctx.params.id);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/stop', async (ctx) => {
    await cs.stop(ctx.params.id, { timeout: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/restart', async (ctx) => {
    await cs.restart(ctx.params.id, { timeout: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await cs.kill(ctx.params.id, ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.delete('/containers/:id', async (ctx) => {
    await cs.remove(ctx.params.id, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/pause', async (ctx) => {
    await cs.pause(ctx.params.id);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/unpause', async (ctx) => {
    await cs.unpause(ctx.params.id);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/rename', async (ctx) => {
    await cs.rename(ctx.params.id, ctx.query.get('name') ?? '');
    sendNoContent(ctx.res);
  });

  // `docker update`: UpdateConfig merged into the HostConfig as dockerd
  // merges it (containers/resources.ts); the engine applies the limits and
  // keeps the new HostConfig for inspect and the next start.
  r.post('/containers/:id/update', async (ctx) => {
    const body = await readJSON(ctx.req);
    const rec = cs.get(ctx.params.id);
    const meta = dockerMeta(rec);
    const hostConfig = mergeUpdate(body, meta.HostConfig, ctx.version) as DockerHostConfig;
    const policy = (body as { RestartPolicy?: { Name?: string } } | undefined)?.RestartPolicy?.Name ? restartPolicyOf(hostConfig.RestartPolicy) ?? { name: 'no' as const } : undefined;
    const warnings = await cs.update(rec.id, limitsOf(hostConfig) ?? {}, { ...meta, HostConfig: hostConfig }, policy);
    sendJSON(ctx.res, 200, { Warnings: warnings });
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalidArgument(`invalid condition: ${JSON.stringify(cond)}`);
    const ac = new AbortController();
    ctx.res.on('close', () => ac.abort());
    const done = cs.wait(ctx.params.id, cond, ac.signal);
    // Headers go out at once: the docker CLI blocks on them before `start`.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const result = await done;
    ctx.res.end(JSON.stringify(result) + '\n');
  });

  r.get('/containers/:id/logs', async (ctx) => logs(b, ctx));

  r.post('/containers/:id/attach', async (ctx) => attach(b, ctx));

  // The docker CLI calls it after start and on every SIGWINCH of a TTY.
  r.post('/containers/:id/resize', async (ctx) => {
    const height = uint32Param(ctx.query, 'h', 'height');
    const width = uint32Param(ctx.query, 'w', 'width');
    await cs.resize(ctx.params.id, { height, width });
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  r.get('/containers/:id/export', async (ctx) => {
    await sendStream(ctx.res, await b.snapshots.export(ctx.params.id), 'application/x-tar');
  });

  // `docker commit` (moby serves it with the containers too).
  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const body = await readJSON(ctx.req);
    const ref = q.get('container') ?? '';
    const o = translateCommit({
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      comment: q.get('comment') || undefined,
      author: q.get('author') || undefined,
      changes: q.getAll('changes'),
    }, body, () => cs.get(ref));
    const rec = await b.snapshots.commit(ref, { ...o, pause: boolParam(q, 'pause', true) });
    sendJSON(ctx.res, 201, { Id: rec.id });
  });
}

// Values of one key are alternatives, except labels, which must all match.
function matchFilters(c: ContainerRecord, f: Map<string, string[]>): boolean {
  for (const [key, values] of f) {
    const test = (v: string): boolean => {
      switch (key) {
        case 'status':
          if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(v)) throw invalidArgument(`invalid filter 'status=${v}'`);
          return c.state.status === v;
        case 'name': {
          const re = linearRegExp(v);
          return !!re && (re.test(c.name.slice(1)) || re.test(c.name));
        }
        case 'id':
          return c.id.startsWith(v);
        case 'label': {
          const i = v.indexOf('=');
          if (i < 0) return v in c.spec.labels;
          return c.spec.labels[v.slice(0, i)] === v.slice(i + 1);
        }
        case 'exited':
          return c.state.status === 'exited' && String(c.state.exitCode) === v;
        case 'health':
          return (c.state.health?.status ?? 'none') === v;
        case 'ancestor':
          return c.spec.image.ref === v || c.spec.image.id === v || c.spec.image.id.startsWith(`sha256:${v}`);
        default:
          throw invalidArgument(`invalid filter '${key}'`);
      }
    };
    const ok = key === 'label' ? values.every(test) : values.some(test);
    if (!ok) return false;
  }
  return true;
}

function parseTime(v: string | null, name: string): number | undefined {
  return v ? timestampValue(v, name) : undefined;
}

async function logs(b: ContainerBackend, ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const c = b.containers.get(ctx.params.id);
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? undefined : /^\d+$/.test(tailRaw) ? Number(tailRaw) : undefined;
  const timestamps = boolParam(q, 'timestamps');
  const follow = boolParam(q, 'follow') && (c.state.status === 'running' || c.state.status === 'paused');
  const since = parseTime(q.get('since'), 'since');
  const until = parseTime(q.get('until'), 'until');
  // Not in the spec's list for this route, but the docker CLI sends it (--details).
  const details = boolParam(q, 'details');
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  const tty = c.spec.process.terminal;
  // Before the headers: a driver with nothing to read is an error status.
  const records = b.containers.logs(c.id, { stdout, stderr, tail, follow, since, until }, ac.signal);
  ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  ctx.res.flushHeaders();
  for await (const rec of records) {
    // dockerd's order: the time, then (details) the attributes, then the line.
    const prefix = `${timestamps ? `${rec.time} ` : ''}${details ? `${logAttrs(rec.attrs)} ` : ''}`;
    const data = prefix ? Buffer.concat([Buffer.from(prefix), rec.data]) : rec.data;
    const ok = ctx.res.write(tty ? data : stdcopyFrame(rec.stream, data));
    if (!ok) await new Promise((r) => ctx.res.once('drain', r));
    if (ac.signal.aborted) break;
  }
  ctx.res.end();
}

// --details: the record's labels/env attributes as dockerd prints them,
// query-escaped "k=v" pairs sorted by key and joined by commas.
export function logAttrs(attrs: Record<string, string> | undefined): string {
  const esc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.keys(attrs ?? {}).sort().map((k) => `${esc(k)}=${esc(attrs![k])}`).join(',');
}

// A resize dimension as dockerd reads it (an unsigned 32-bit integer), and
// its words for one that is not.
function uint32Param(q: URLSearchParams, name: string, what: string): number {
  const raw = q.get(name) ?? '';
  const neg = raw.startsWith('-');
  const digits = neg ? raw.slice(1) : raw;
  let reason = '';
  if (!/^[0-9]+$/.test(digits)) reason = 'invalid syntax';
  else if (neg || Number(digits) > 0xffffffff) reason = 'value out of range';
  if (reason) throw invalidArgument(`invalid resize ${what} ${JSON.stringify(raw)}: ${reason}`);
  return Number(digits);
}

async function attach(b: ContainerBackend, ctx: Ctx): Promise<void> {
  const q = ctx.query;
  // Checked before the container, as dockerd does.
  const detachKeys = detachKeysValue(q.get('detachKeys') || '', 'detach');
  const c = b.containers.get(ctx.params.id);
  const opts = {
    stdin: boolParam(q, 'stdin'),
    stdout: boolParam(q, 'stdout'),
    stderr: boolParam(q, 'stderr'),
    stream: boolParam(q, 'stream'),
    logs: boolParam(q, 'logs'),
    ...(detachKeys ? { detachKeys } : {}),
  };
  // Not stdin: dockerode sends its options as the body.
  await requestBody(ctx);
  const stream = attachedStream(ctx, c.spec.process.terminal);
  stream.connect(await b.containers.attach(c.id, opts, stream.sink));
}
