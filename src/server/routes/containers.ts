// /containers/...: lifecycle, inspect, list, logs, wait, attach.
import type { Daemon } from '../../daemon/daemon';
import { invalidArgument, isKind } from '../../errors';
import { hasLabel } from '../../engine/images/service';
import type { ContainerRecord } from '../../engine/containers/types';
import type { WaitCondition } from '../../engine/containers/service';
import { humanDuration } from '../../util/duration';
import { linearRegExp } from '../../util/linear-regexp';
import { boolParam, filtersParam, hijack, intParam, readJSON, sendJSON, sendNoContent, stdcopyFrame, timestampValue } from '../http';
import type { Ctx, Router } from '../router';

export function containerRoutes(r: Router, d: Daemon): void {
  const cs = d.containers;

  r.post('/containers/create', async (ctx) => {
    const body = await readJSON(ctx.req);
    const out = await cs.create(body, ctx.query.get('name'));
    sendJSON(ctx.res, 201, out);
  });

  r.get('/containers/json', async (ctx) => {
    const all = boolParam(ctx.query, 'all');
    const limit = intParam(ctx.query, 'limit');
    const filters = filtersParam(ctx.query);
    let list = cs.list().filter((c) => (all || limit !== undefined && limit > 0 || filters.has('status') ? true : c.State.Running));
    list = list.filter((c) => matchFilters(c, filters));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const size = boolParam(ctx.query, 'size');
    sendJSON(ctx.res, 200, await Promise.all(list.map((c) => containerSummary(d, c, size))));
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
      if (c.State.Running) continue;
      if (until !== undefined && !(Date.parse(c.Created) / 1000 < until)) continue;
      if (!labels.every((l) => hasLabel(c.Config.Labels ?? {}, l))) continue;
      if (notLabels.some((l) => hasLabel(c.Config.Labels ?? {}, l))) continue;
      const size = await cs.sizeRw(c.Id).catch(() => 0);
      try {
        await cs.remove(c.Id, { force: false });
      } catch (err) {
        // Started or removed meanwhile: dockerd skips it too.
        if (isKind(err, 'Conflict') || isKind(err, 'NotFound')) continue;
        throw err;
      }
      deleted.push(c.Id);
      reclaimed += size;
    }
    sendJSON(ctx.res, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.get('/containers/:id/json', async (ctx) => {
    const c = cs.get(ctx.params.id);
    const size = boolParam(ctx.query, 'size');
    sendJSON(ctx.res, 200, await inspect(d, c, size));
  });

  r.post('/containers/:id/start', async (ctx) => {
    await cs.start(ctx.params.id);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/stop', async (ctx) => {
    await cs.stop(ctx.params.id, intParam(ctx.query, 't'), ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/restart', async (ctx) => {
    await cs.restart(ctx.params.id, intParam(ctx.query, 't'), ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await cs.kill(ctx.params.id, ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.delete('/containers/:id', async (ctx) => {
    await cs.remove(ctx.params.id, { force: boolParam(ctx.query, 'force') });
    sendNoContent(ctx.res);
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalidArgument(`invalid condition: ${JSON.stringify(cond)}`);
    const done = cs.wait(ctx.params.id, cond);
    // Headers go out at once: the docker CLI blocks on them before `start`.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const result = await done;
    ctx.res.end(JSON.stringify(result) + '\n');
  });

  r.get('/containers/:id/logs', async (ctx) => logs(d, ctx));

  r.post('/containers/:id/attach', async (ctx) => attach(d, ctx));
}

// Values of one key are alternatives, except labels, which must all match.
function matchFilters(c: ContainerRecord, f: Map<string, string[]>): boolean {
  for (const [key, values] of f) {
    const test = (v: string): boolean => {
      switch (key) {
        case 'status':
          if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(v)) throw invalidArgument(`invalid filter 'status=${v}'`);
          return c.State.Status === v;
        case 'name': {
          const re = linearRegExp(v);
          return !!re && (re.test(c.Name.slice(1)) || re.test(c.Name));
        }
        case 'id':
          return c.Id.startsWith(v);
        case 'label': {
          const i = v.indexOf('=');
          if (i < 0) return v in c.Config.Labels;
          return c.Config.Labels[v.slice(0, i)] === v.slice(i + 1);
        }
        case 'exited':
          return !c.State.Running && c.State.Status === 'exited' && String(c.State.ExitCode) === v;
        case 'ancestor':
          return c.ImageRef === v || c.Image === v || c.Image.startsWith(`sha256:${v}`);
        default:
          throw invalidArgument(`invalid filter '${key}'`);
      }
    };
    const ok = key === 'label' ? values.every(test) : values.some(test);
    if (!ok) return false;
  }
  return true;
}

function statusText(c: ContainerRecord): string {
  const s = c.State;
  if (s.Status === 'running') return `Up ${humanDuration(Date.now() - Date.parse(s.StartedAt))}`;
  if (s.Status === 'paused') return `Up ${humanDuration(Date.now() - Date.parse(s.StartedAt))} (Paused)`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${humanDuration(Date.now() - Date.parse(s.FinishedAt))} ago`;
  return s.Status === 'created' ? 'Created' : s.Status;
}

// Docker's list view wraps arguments holding a space in single quotes.
function quoteArg(a: string): string {
  return a.includes(' ') ? `'${a}'` : a;
}

// A container as lists show it; with size, its writable layer's bytes and
// those plus its image's (SizeRw, SizeRootFs).
export async function containerSummary(d: Daemon, c: ContainerRecord, size = false) {
  return {
    ...summary(c),
    ...(size ? await sizes(d, c) : {}),
  };
}

async function sizes(d: Daemon, c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await d.containers.sizeRw(c.Id);
  const image = d.images.list().find((i) => i.id === c.Image);
  return { SizeRw: rw, SizeRootFs: (image?.size ?? 0) + rw };
}

function summary(c: ContainerRecord) {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: c.ImageRef,
    ImageID: c.Image,
    Command: [c.Path, ...c.Args.map(quoteArg)].join(' '),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: [],
    Labels: c.Config.Labels,
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

async function inspect(d: Daemon, c: ContainerRecord, size: boolean) {
  const layerDir = d.snapshots.containerDir(c.Id);
  const image = d.images.list().find((i) => i.id === c.Image);
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: { ...c.State, Health: undefined },
    Image: c.Image,
    ResolvConfPath: c.ResolvConfPath,
    HostnamePath: c.HostnamePath,
    HostsPath: c.HostsPath,
    LogPath: c.LogPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.HostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: image?.chainID ? d.snapshots.lowers(image.chainID).join(':') : '',
        UpperDir: `${layerDir}/diff`,
        WorkDir: `${layerDir}/work`,
        MergedDir: `${layerDir}/merged`,
      },
    },
    ...(size ? await sizes(d, c) : {}),
    Mounts: [],
    Config: c.Config,
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Ports: {}, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '',
      Networks: { [c.HostConfig.NetworkMode === 'host' ? 'host' : 'none']: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', DriverOpts: null } },
    },
  };
}

function parseTime(v: string | null, name: string): number | undefined {
  return v ? timestampValue(v, name) : undefined;
}

async function logs(d: Daemon, ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const c = d.containers.get(ctx.params.id);
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? undefined : /^\d+$/.test(tailRaw) ? Number(tailRaw) : undefined;
  const timestamps = boolParam(q, 'timestamps');
  const follow = boolParam(q, 'follow') && c.State.Running;
  const since = parseTime(q.get('since'), 'since');
  const until = parseTime(q.get('until'), 'until');
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  const tty = c.Config.Tty;
  ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  ctx.res.flushHeaders();
  for await (const rec of d.containers.logs(c.Id, { stdout, stderr, tail, follow, since, until }, ac.signal)) {
    const data = timestamps ? Buffer.concat([Buffer.from(`${rec.time} `), rec.data]) : rec.data;
    const ok = ctx.res.write(tty ? data : stdcopyFrame(rec.stream, data));
    if (!ok) await new Promise((r) => ctx.res.once('drain', r));
    if (ac.signal.aborted) break;
  }
  ctx.res.end();
}

async function attach(d: Daemon, ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const c = d.containers.get(ctx.params.id);
  const opts = {
    stdin: boolParam(q, 'stdin'),
    stdout: boolParam(q, 'stdout'),
    stderr: boolParam(q, 'stderr'),
    stream: boolParam(q, 'stream'),
    logs: boolParam(q, 'logs'),
  };
  const tty = c.Config.Tty;
  const sock = hijack(ctx, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  let ended = false;
  const handle = await d.containers.attach(c.Id, opts, {
    out: (stream, data) => {
      if (!ended) sock.write(tty ? data : stdcopyFrame(stream, data));
    },
    end: () => {
      if (ended) return;
      ended = true;
      sock.end();
    },
  });
  sock.on('data', (chunk: Buffer) => handle.write(chunk));
  // The client half-closes after its stdin ends (docker run -i < file).
  sock.on('end', () => handle.closeStdin());
  sock.on('close', () => {
    if (!ended) handle.detach();
  });
  sock.on('error', () => handle.detach());
}
