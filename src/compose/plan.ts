// From the model to the Engine API: names, the config hash, a service's
// container create body, and what `up` does with the containers it finds.
import { createHash } from 'node:crypto';
import { parseGoDuration } from '../util/duration';
import { ComposeError } from './errors';
import { COMPOSE_VERSION, L } from './labels';
import type { Project, Service } from './model';

export function containerName(project: Project, svc: Service, n: number): string {
  return svc.container_name ?? `${project.name}-${svc.name}-${n}`;
}

export function imageName(project: Project, svc: Service): string {
  return svc.image ?? `${project.name}-${svc.name}`;
}

export function scaleOf(svc: Service): number {
  return svc.scale ?? svc.deploy?.replicas ?? 1;
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

// What decides whether a container is recreated: the service's
// configuration, less what does not change a container (scale, build,
// pull policy, profiles). The image's id is compared apart.
export function serviceHash(svc: Service): string {
  const { scale: _s, build: _b, pull_policy: _p, profiles: _pr, deploy, ...rest } = svc;
  const d = deploy ? { ...deploy, replicas: undefined } : undefined;
  return createHash('sha256').update(JSON.stringify(sorted({ ...rest, deploy: d }))).digest('hex');
}

const ns = (d: string | undefined) => (d === undefined ? undefined : parseGoDuration(d));

// The networks a service joins, its primary first (highest priority, then name).
export function serviceNetworks(svc: Service): string[] {
  const nets = Object.entries(svc.networks ?? {});
  nets.sort(([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || a.localeCompare(b));
  return nets.map(([k]) => k);
}

function expand(spec: string): string[] {
  const [r, proto = 'tcp'] = spec.split('/');
  const [lo, hi = lo] = r.split('-').map(Number);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

function restartPolicy(svc: Service): { Name: string; MaximumRetryCount?: number } | undefined {
  if (svc.restart) {
    const [name, n] = svc.restart.split(':');
    return n ? { Name: name, MaximumRetryCount: Number(n) } : { Name: name };
  }
  const rp = svc.deploy?.restart_policy;
  if (!rp) return undefined;
  const cond = rp.condition ?? 'any';
  if (cond === 'none') return { Name: 'no' };
  if (cond === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: rp.max_attempts ?? 0 };
  return { Name: 'always' };
}

export interface CreateInput {
  number: number;
  oneoff?: boolean;
  name?: string; // a one-off's name
  hash: string;
  // Resolves `service:x` network modes to a container of x.
  containerOf?: (service: string) => string | undefined;
  command?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  tty?: boolean;
  stdin?: boolean;
  user?: string;
  workdir?: string;
  noPorts?: boolean; // run without --service-ports
  labels?: Record<string, string>;
  aliases?: boolean; // the service's network aliases (not for one-offs)
}

// The POST /containers/create body for one container of a service.
export function createBody(project: Project, svc: Service, inp: CreateInput): { name: string; body: Record<string, unknown> } {
  const name = inp.name ?? containerName(project, svc, inp.number);
  const env: string[] = [];
  for (const [k, v] of Object.entries({ ...svc.environment, ...inp.env })) if (v !== null && v !== undefined) env.push(`${k}=${v}`);
  const labels: Record<string, string> = {
    ...svc.labels,
    ...inp.labels,
    [L.project]: project.name,
    [L.service]: svc.name,
    [L.number]: String(inp.number),
    [L.oneoff]: inp.oneoff ? 'True' : 'False',
    [L.hash]: inp.hash,
    [L.workingDir]: project.working_dir,
    [L.configFiles]: project.config_files.join(','),
    [L.version]: COMPOSE_VERSION,
    [L.image]: imageName(project, svc),
  };
  const deps = Object.entries(svc.depends_on).map(([d, c]) => `${d}:${c.condition}:${c.restart}`);
  if (deps.length) labels[L.dependsOn] = deps.join(',');

  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const e of svc.expose) for (const k of expand(e)) exposed[k] = {};
  if (!inp.noPorts) {
    for (const p of svc.ports) {
      if (p.mode === 'host' && !p.published) throw new ComposeError(`services.${svc.name}.ports`, 'a port in host mode needs a published port');
      const k = `${p.target}/${p.protocol}`;
      exposed[k] = {};
      (bindings[k] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
    }
  } else for (const p of svc.ports) exposed[`${p.target}/${p.protocol}`] = {};

  const mounts: Record<string, unknown>[] = [];
  for (const v of svc.volumes) {
    const m: Record<string, unknown> = { Type: v.type, Target: v.target };
    if (v.read_only) m.ReadOnly = true;
    if (v.type === 'volume') {
      if (v.source) m.Source = project.volumes[v.source].name;
      const opts: Record<string, unknown> = {};
      if (v.volume?.nocopy) opts.NoCopy = true;
      if (v.volume?.subpath) opts.Subpath = v.volume.subpath;
      if (Object.keys(opts).length) m.VolumeOptions = opts;
    } else if (v.type === 'bind') {
      m.Source = v.source;
      const opts: Record<string, unknown> = {};
      if (v.bind?.propagation) opts.Propagation = v.bind.propagation;
      if (v.bind?.create_host_path) opts.CreateMountpoint = true;
      if (Object.keys(opts).length) m.BindOptions = opts;
    } else if (v.tmpfs) {
      const opts: Record<string, unknown> = {};
      if (v.tmpfs.size !== undefined) opts.SizeBytes = v.tmpfs.size;
      if (v.tmpfs.mode !== undefined) opts.Mode = v.tmpfs.mode;
      m.TmpfsOptions = opts;
    }
    mounts.push(m);
  }
  for (const [kind, dir] of [['secrets', '/run/secrets/'], ['configs', '/']] as const) {
    for (const r of svc[kind]) {
      const obj = project[kind][r.source];
      const target = r.target ? (r.target.startsWith('/') ? r.target : dir + r.target) : dir + r.source;
      mounts.push({ Type: 'bind', Source: obj.file, Target: target, ReadOnly: true });
    }
  }

  const limits = svc.deploy?.resources?.limits;
  const reservations = svc.deploy?.resources?.reservations;
  const host: Record<string, unknown> = {
    Mounts: mounts,
    PortBindings: bindings,
    Init: svc.init,
    Privileged: svc.privileged,
    ReadonlyRootfs: svc.read_only,
    CapAdd: svc.cap_add,
    CapDrop: svc.cap_drop,
    Dns: svc.dns,
    DnsSearch: svc.dns_search,
    ExtraHosts: svc.extra_hosts ? Object.entries(svc.extra_hosts).map(([h, ip]) => `${h}:${ip}`) : undefined,
    GroupAdd: svc.group_add,
    SecurityOpt: svc.security_opt,
    Sysctls: svc.sysctls,
    ShmSize: svc.shm_size,
    PidMode: svc.pid,
    IpcMode: svc.ipc,
    Memory: limits?.memory ?? svc.mem_limit,
    NanoCpus: (limits?.cpus ?? svc.cpus) !== undefined ? Math.round((limits?.cpus ?? svc.cpus)! * 1e9) : undefined,
    PidsLimit: limits?.pids ?? svc.pids_limit,
    MemoryReservation: reservations?.memory,
    RestartPolicy: inp.oneoff ? undefined : restartPolicy(svc),
    Ulimits: svc.ulimits ? Object.entries(svc.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) : undefined,
    LogConfig: svc.logging ? { Type: svc.logging.driver ?? 'json-file', Config: svc.logging.options ?? {} } : undefined,
    Tmpfs: svc.tmpfs ? Object.fromEntries(svc.tmpfs.map((t) => {
      const i = t.indexOf(':');
      return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
    })) : undefined,
  };

  const endpoints: Record<string, unknown> = {};
  const nm = svc.network_mode;
  if (nm) {
    if (nm.startsWith('service:')) {
      const c = inp.containerOf?.(nm.slice(8));
      if (!c) throw new ComposeError(`services.${svc.name}.network_mode`, `service "${nm.slice(8)}" has no container to share its network`);
      host.NetworkMode = `container:${c}`;
    } else host.NetworkMode = nm;
  } else {
    const nets = serviceNetworks(svc);
    nets.forEach((k, i) => {
      const cfg = svc.networks?.[k];
      const ep: Record<string, unknown> = {};
      if (inp.aliases !== false) ep.Aliases = [svc.name, ...(cfg?.aliases ?? [])];
      if (cfg?.ipv4_address || cfg?.ipv6_address) ep.IPAMConfig = { IPv4Address: cfg.ipv4_address, IPv6Address: cfg.ipv6_address };
      if (i === 0 && svc.links?.length) {
        ep.Links = svc.links.map((l) => {
          const [s, alias = s] = l.split(':');
          const target = project.services[s];
          return `${target ? containerName(project, target, 1) : s}:${alias}`;
        });
      }
      endpoints[project.networks[k].name] = ep;
    });
    if (nets.length) host.NetworkMode = project.networks[nets[0]].name;
  }

  const hc = svc.healthcheck;
  let health: Record<string, unknown> | undefined;
  if (hc?.disable) health = { Test: ['NONE'] };
  else if (hc) {
    health = {
      Test: hc.test,
      Interval: ns(hc.interval),
      Timeout: ns(hc.timeout),
      Retries: hc.retries,
      StartPeriod: ns(hc.start_period),
      StartInterval: ns(hc.start_interval),
    };
  }

  const body: Record<string, unknown> = {
    Image: imageName(project, svc),
    Cmd: inp.command ?? svc.command ?? undefined,
    Entrypoint: inp.entrypoint ?? svc.entrypoint ?? undefined,
    Env: env,
    Labels: labels,
    ExposedPorts: exposed,
    Tty: inp.tty ?? svc.tty,
    OpenStdin: inp.stdin ?? svc.stdin_open,
    AttachStdin: inp.stdin,
    StdinOnce: inp.stdin,
    AttachStdout: inp.oneoff,
    AttachStderr: inp.oneoff,
    User: inp.user ?? svc.user,
    WorkingDir: inp.workdir ?? svc.working_dir,
    Hostname: svc.hostname,
    Domainname: svc.domainname,
    MacAddress: svc.mac_address,
    StopSignal: svc.stop_signal,
    StopTimeout: svc.stop_grace_period !== undefined ? Math.floor(parseGoDuration(svc.stop_grace_period) / 1e9) : undefined,
    Healthcheck: health,
    HostConfig: host,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return { name, body: JSON.parse(JSON.stringify(body)) };
}

export interface Existing {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
  ImageID: string;
}

export type Action =
  | { kind: 'create'; number: number }
  | { kind: 'recreate'; number: number; container: Existing }
  | { kind: 'start'; number: number; container: Existing }
  | { kind: 'keep'; number: number; container: Existing }
  | { kind: 'remove'; container: Existing };

// What `up` does for one service, given its containers: the first `scale`
// numbers are kept, started, recreated (another hash or image, or
// --force-recreate) or created; the ones beyond are removed.
export function planService(svc: Service, containers: Existing[], hash: string, imageId: string | undefined, opts: { forceRecreate?: boolean; noRecreate?: boolean }): Action[] {
  const scale = scaleOf(svc);
  const byNumber = new Map<number, Existing>();
  const extra: Existing[] = [];
  for (const c of [...containers].sort((a, b) => Number(a.Labels[L.number]) - Number(b.Labels[L.number]))) {
    const n = Number(c.Labels[L.number]);
    if (!Number.isInteger(n) || n < 1 || byNumber.has(n)) extra.push(c);
    else byNumber.set(n, c);
  }
  const actions: Action[] = [];
  // Keep the lowest-numbered containers, filling gaps with new ones.
  const kept = [...byNumber.keys()].sort((a, b) => a - b);
  const keep = kept.slice(0, scale);
  for (const n of kept.slice(scale)) extra.push(byNumber.get(n)!);
  for (const n of keep) {
    const c = byNumber.get(n)!;
    const stale = c.Labels[L.hash] !== hash || (imageId !== undefined && c.ImageID !== imageId);
    if (!opts.noRecreate && (opts.forceRecreate || stale)) actions.push({ kind: 'recreate', number: n, container: c });
    else if (c.State !== 'running') actions.push({ kind: 'start', number: n, container: c });
    else actions.push({ kind: 'keep', number: n, container: c });
  }
  let next = 1;
  while (actions.filter((a) => a.kind !== 'remove').length < scale) {
    while (byNumber.has(next) && keep.includes(next)) next++;
    if (!keep.includes(next)) {
      actions.push({ kind: 'create', number: next });
      keep.push(next);
    }
    next++;
  }
  for (const c of extra) actions.push({ kind: 'remove', container: c });
  return actions;
}

// Runs `fn` for every service once the services it depends on (within
// `names`) have finished theirs; `reverse` waits for the dependents instead
// (stopping). Services that do not wait on each other run in parallel.
export async function inDependencyOrder(project: Project, names: string[], fn: (name: string) => Promise<void>, reverse = false): Promise<void> {
  const set = new Set(names);
  const deps = new Map<string, string[]>();
  for (const n of names) deps.set(n, []);
  for (const n of names) {
    const svc = project.services[n] ?? project.disabled[n];
    const on = Object.keys(svc?.depends_on ?? {}).filter((d) => set.has(d));
    const nm = svc?.network_mode?.startsWith('service:') ? [svc.network_mode.slice(8)].filter((d) => set.has(d)) : [];
    for (const d of [...on, ...nm]) {
      if (reverse) deps.get(d)!.push(n);
      else deps.get(n)!.push(d);
    }
  }
  const done = new Map<string, Promise<void>>();
  const run = (n: string): Promise<void> => {
    let p = done.get(n);
    if (!p) {
      p = Promise.all(deps.get(n)!.map(run)).then(() => fn(n));
      done.set(n, p);
    }
    return p;
  };
  await Promise.all(names.map(run));
}

// A service and the ones it needs, transitively.
export function withDependencies(project: Project, names: string[]): string[] {
  const out: string[] = [];
  const visit = (n: string) => {
    if (out.includes(n)) return;
    const svc = project.services[n];
    if (!svc) throw new ComposeError('', `no such service: ${n}`);
    for (const d of Object.keys(svc.depends_on)) if (project.services[d]) visit(d);
    if (svc.network_mode?.startsWith('service:')) visit(svc.network_mode.slice(8));
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}
