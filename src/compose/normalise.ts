// One file's raw (interpolated) service, network, volume, secret and config
// definitions → the spec's long syntax, checked key by key. A key the spec
// has that berth compose does not apply is refused by name; a key the spec
// does not have is an error, as compose's schema makes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposeError, keyPath } from './errors';
import { Tagged } from './interpolate';
import type { Build, DependsOn, Deploy, FileObject, FileRef, Healthcheck, Network, Port, Resources, Service, ServiceNetwork, ServiceVolume, Volume } from './model';
import { bool, bytes, dict, duration, int, isMap, list, mapOf, num, type Raw, shellSplit, str, strDict, strList } from './values';
import { parseDotenv } from './dotenv';
import type { Lookup } from './interpolate';

// A service as one file (or an extends chain) gives it: only the keys it sets.
export type PartialService = Partial<Service> & { extends?: { service: string; file?: string }; env_file?: EnvFile[] };
export interface EnvFile { path: string; required: boolean }

// How a merge treats a key: `!reset` drops what came before, `!override` replaces it whole.
export interface Marks { reset: Set<string>; override: Set<string> }
export interface Normalised { svc: PartialService; marks: Marks }

// The spec's service keys that berth compose does not apply yet.
export const UNSUPPORTED_SERVICE_KEYS = [
  'annotations', 'attach', 'blkio_config', 'cgroup', 'cgroup_parent', 'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota',
  'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'cpuset', 'credential_spec', 'develop', 'device_cgroup_rules', 'devices',
  'dns_opt', 'external_links', 'gpus', 'isolation', 'label_file', 'mem_reservation', 'mem_swappiness', 'memswap_limit',
  'models', 'oom_kill_disable', 'oom_score_adj', 'post_start', 'pre_stop', 'provider', 'runtime', 'storage_opt',
  'userns_mode', 'uts', 'volumes_from', 'use_api_socket', 'configs_from',
];

interface Ctx {
  base: string; // the directory relative paths are resolved against
  lookup: Lookup;
}

type Handler = (v: Raw, p: string, c: Ctx) => unknown;

const strListH: Handler = (v, p) => strList(v, p);
const boolH: Handler = (v, p) => bool(v, p);
const strH: Handler = (v, p) => str(v, p);

function command(v: Raw, p: string): string[] | null {
  if (v === null) return null;
  if (typeof v === 'string') return shellSplit(v, p);
  return list(v, p).map((x, i) => str(x, keyPath(p, i)));
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function portNumber(s: string, p: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 0 || n > 65535) throw new ComposeError(p, `invalid port "${s}"`);
  return n;
}

function range(s: string, p: string): [number, number] {
  const [a, b] = s.split('-');
  const lo = portNumber(a, p);
  const hi = b === undefined ? lo : portNumber(b, p);
  if (hi < lo) throw new ComposeError(p, `invalid port range "${s}"`);
  return [lo, hi];
}

// "[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTOCOL]"
export function parsePortShort(spec: string, p: string): Port[] {
  let rest = spec;
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!PROTOCOLS.has(protocol)) throw new ComposeError(p, `invalid protocol "${protocol}" in "${spec}"`);
  }
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new ComposeError(p, `invalid IP address in "${spec}"`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 1).replace(/^:/, '');
  }
  const parts = rest.split(':');
  if (parts.length > 3) throw new ComposeError(p, `invalid port "${spec}": too many colons`);
  if (parts.length === 3) {
    if (hostIp !== undefined) throw new ComposeError(p, `invalid port "${spec}"`);
    hostIp = parts.shift();
  }
  const container = parts.pop() as string;
  const published = parts.pop();
  if (hostIp !== undefined && hostIp !== '' && !/^[0-9.]+$|:/.test(hostIp)) throw new ComposeError(p, `invalid IP address "${hostIp}" in "${spec}"`);
  const [clo, chi] = range(container, p);
  let plo = 0;
  let phi = 0;
  if (published) [plo, phi] = range(published, p);
  const count = chi - clo + 1;
  if (published && phi !== plo && phi - plo + 1 !== count && count !== 1) throw new ComposeError(p, `invalid port "${spec}": the ranges differ in size`);
  const out: Port[] = [];
  for (let i = 0; i < count; i++) {
    const port: Port = { mode: 'ingress', target: clo + i, protocol: protocol as Port['protocol'] };
    if (hostIp) port.host_ip = hostIp;
    if (published) port.published = count === 1 ? published : String(plo + i);
    out.push(port);
  }
  return out;
}

function ports(v: Raw, p: string): Port[] {
  const out: Port[] = [];
  list(v, p).forEach((x, i) => {
    const ip = keyPath(p, i);
    if (typeof x === 'number') out.push({ mode: 'ingress', target: portNumber(String(x), ip), protocol: 'tcp' });
    else if (typeof x === 'string') out.push(...parsePortShort(x, ip));
    else if (isMap(x)) {
      checkKeys(x, ip, ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol']);
      if (x.target === undefined) throw new ComposeError(ip, 'target is required');
      const port: Port = { mode: 'ingress', target: portNumber(str(x.target, `${ip}.target`), `${ip}.target`), protocol: 'tcp' };
      if (x.mode !== undefined) {
        const m = str(x.mode, `${ip}.mode`);
        if (m !== 'ingress' && m !== 'host') throw new ComposeError(`${ip}.mode`, `must be "ingress" or "host"`);
        port.mode = m;
      }
      if (x.host_ip !== undefined) port.host_ip = str(x.host_ip, `${ip}.host_ip`);
      if (x.published !== undefined && x.published !== '') {
        const s = str(x.published, `${ip}.published`);
        range(s, `${ip}.published`);
        port.published = s;
      }
      if (x.protocol !== undefined) {
        const pr = str(x.protocol, `${ip}.protocol`).toLowerCase();
        if (!PROTOCOLS.has(pr)) throw new ComposeError(`${ip}.protocol`, `invalid protocol "${pr}"`);
        port.protocol = pr as Port['protocol'];
      }
      if (x.name !== undefined) port.name = str(x.name, `${ip}.name`);
      if (x.app_protocol !== undefined) port.app_protocol = str(x.app_protocol, `${ip}.app_protocol`);
      out.push(port);
    } else throw new ComposeError(ip, 'must be a string, a number or a mapping');
  });
  return out;
}

function expose(v: Raw, p: string): string[] {
  return list(v, p).map((x, i) => {
    const s = str(x, keyPath(p, i));
    const [r, proto] = s.split('/');
    range(r, keyPath(p, i));
    if (proto !== undefined && !PROTOCOLS.has(proto)) throw new ComposeError(keyPath(p, i), `invalid protocol "${proto}"`);
    return s;
  });
}

function isPathLike(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[A-Za-z]:[\\/]/.test(s);
}

function expandHome(s: string, c: Ctx): string {
  if (s === '~' || s.startsWith('~/')) return path.join(c.lookup('HOME') ?? '/root', s.slice(1));
  return s;
}

function bindSource(s: string, c: Ctx): string {
  return path.resolve(c.base, expandHome(s, c));
}

const VOLUME_MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'cached', 'delegated', 'consistent']);

// "[SOURCE:]TARGET[:MODE]"
export function parseVolumeShort(spec: string, p: string, c: Ctx): ServiceVolume {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((x) => x === '')) throw new ComposeError(p, `invalid volume specification "${spec}"`);
  if (parts.length === 1) return { type: 'volume', target: parts[0] };
  let mode: string | undefined;
  if (parts.length === 3) mode = parts.pop();
  else if (parts.length === 2 && !parts[1].startsWith('/') && VOLUME_MODES.has(parts[1].split(',')[0])) {
    throw new ComposeError(p, `invalid volume specification "${spec}": the target must be an absolute path`);
  }
  const [src, target] = parts;
  if (!target.startsWith('/')) throw new ComposeError(p, `invalid volume specification "${spec}": the target must be an absolute path`);
  const vol: ServiceVolume = isPathLike(src)
    ? { type: 'bind', source: bindSource(src, c), target, bind: { create_host_path: true } }
    : { type: 'volume', source: src, target, volume: {} };
  for (const m of mode ? mode.split(',') : []) {
    if (!VOLUME_MODES.has(m)) throw new ComposeError(p, `invalid volume specification "${spec}": unknown mode "${m}"`);
    if (m === 'ro') vol.read_only = true;
    else if (m === 'nocopy' && vol.type === 'volume') vol.volume = { nocopy: true };
    else if (m === 'z' || m === 'Z') vol.bind = { ...vol.bind, selinux: m };
    else if (/shared|slave|private/.test(m) && vol.type === 'bind') vol.bind = { ...vol.bind, propagation: m };
  }
  return vol;
}

function volumes(v: Raw, p: string, c: Ctx): ServiceVolume[] {
  return list(v, p).map((x, i) => {
    const ip = keyPath(p, i);
    if (typeof x === 'string') return parseVolumeShort(x, ip, c);
    const m = mapOf(x, ip);
    checkKeys(m, ip, ['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency']);
    const type = str(m.type, `${ip}.type`);
    if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
      if (['npipe', 'cluster', 'image'].includes(type)) throw new ComposeError(`${ip}.type`, `volume type "${type}" is not supported by berth compose`);
      throw new ComposeError(`${ip}.type`, `invalid volume type "${type}"`);
    }
    if (m.target === undefined) throw new ComposeError(ip, 'target is required');
    const vol: ServiceVolume = { type, target: str(m.target, `${ip}.target`) };
    if (m.source !== undefined) {
      const s = str(m.source, `${ip}.source`);
      vol.source = type === 'bind' ? bindSource(s, c) : s;
    } else if (type === 'bind') throw new ComposeError(ip, 'a bind mount needs a source');
    if (m.read_only !== undefined) vol.read_only = bool(m.read_only, `${ip}.read_only`);
    if (m.bind !== undefined) {
      const b = mapOf(m.bind, `${ip}.bind`);
      checkKeys(b, `${ip}.bind`, ['propagation', 'create_host_path', 'selinux']);
      vol.bind = {};
      if (b.propagation !== undefined) vol.bind.propagation = str(b.propagation, `${ip}.bind.propagation`);
      if (b.create_host_path !== undefined) vol.bind.create_host_path = bool(b.create_host_path, `${ip}.bind.create_host_path`);
      if (b.selinux !== undefined) vol.bind.selinux = str(b.selinux, `${ip}.bind.selinux`);
    }
    if (m.volume !== undefined) {
      const b = mapOf(m.volume, `${ip}.volume`);
      checkKeys(b, `${ip}.volume`, ['nocopy', 'subpath']);
      vol.volume = {};
      if (b.nocopy !== undefined) vol.volume.nocopy = bool(b.nocopy, `${ip}.volume.nocopy`);
      if (b.subpath !== undefined) vol.volume.subpath = str(b.subpath, `${ip}.volume.subpath`);
    }
    if (m.tmpfs !== undefined) {
      const b = mapOf(m.tmpfs, `${ip}.tmpfs`);
      checkKeys(b, `${ip}.tmpfs`, ['size', 'mode']);
      vol.tmpfs = {};
      if (b.size !== undefined) vol.tmpfs.size = bytes(b.size, `${ip}.tmpfs.size`);
      if (b.mode !== undefined) vol.tmpfs.mode = int(b.mode, `${ip}.tmpfs.mode`, 0);
    }
    if (m.consistency !== undefined) vol.consistency = str(m.consistency, `${ip}.consistency`);
    return vol;
  });
}

const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

function dependsOn(v: Raw, p: string): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out[str(x, keyPath(p, i))] = { condition: 'service_started', restart: false, required: true };
    });
    return out;
  }
  for (const [name, x] of Object.entries(mapOf(v, p))) {
    const ip = keyPath(p, name);
    const m = x === null ? {} : mapOf(x, ip);
    checkKeys(m, ip, ['condition', 'restart', 'required']);
    const condition = m.condition === undefined ? 'service_started' : str(m.condition, `${ip}.condition`);
    if (!CONDITIONS.has(condition)) throw new ComposeError(`${ip}.condition`, `must be one of service_started, service_healthy, service_completed_successfully`);
    out[name] = {
      condition: condition as DependsOn['condition'],
      restart: m.restart === undefined ? false : bool(m.restart, `${ip}.restart`),
      required: m.required === undefined ? true : bool(m.required, `${ip}.required`),
    };
  }
  return out;
}

function serviceNetworks(v: Raw, p: string): Record<string, ServiceNetwork | null> {
  const out: Record<string, ServiceNetwork | null> = {};
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out[str(x, keyPath(p, i))] = null;
    });
    return out;
  }
  for (const [name, x] of Object.entries(mapOf(v, p))) {
    const ip = keyPath(p, name);
    if (x === null) {
      out[name] = null;
      continue;
    }
    const m = mapOf(x, ip);
    checkKeys(m, ip, ['aliases', 'ipv4_address', 'ipv6_address', 'priority', 'link_local_ips', 'mac_address', 'driver_opts', 'gw_priority', 'interface_name']);
    for (const k of ['link_local_ips', 'mac_address', 'driver_opts', 'gw_priority', 'interface_name']) {
      if (m[k] !== undefined) throw new ComposeError(keyPath(ip, k), 'not supported by berth compose yet');
    }
    const n: ServiceNetwork = {};
    if (m.aliases !== undefined) n.aliases = strList(m.aliases, `${ip}.aliases`);
    if (m.ipv4_address !== undefined) n.ipv4_address = str(m.ipv4_address, `${ip}.ipv4_address`);
    if (m.ipv6_address !== undefined) n.ipv6_address = str(m.ipv6_address, `${ip}.ipv6_address`);
    if (m.priority !== undefined) n.priority = int(m.priority, `${ip}.priority`);
    out[name] = n;
  }
  return out;
}

function healthcheck(v: Raw, p: string): Healthcheck {
  const m = mapOf(v, p);
  checkKeys(m, p, ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable']);
  const h: Healthcheck = {};
  if (m.test !== undefined) {
    if (typeof m.test === 'string') h.test = ['CMD-SHELL', m.test];
    else {
      h.test = list(m.test, `${p}.test`).map((x, i) => str(x, keyPath(`${p}.test`, i)));
      if (!['CMD', 'CMD-SHELL', 'NONE'].includes(h.test[0])) throw new ComposeError(`${p}.test`, 'must start with "CMD", "CMD-SHELL" or "NONE"');
    }
    if (h.test[0] === 'NONE') h.disable = true;
  }
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) if (m[k] !== undefined) h[k] = duration(m[k], `${p}.${k}`);
  if (m.retries !== undefined) h.retries = int(m.retries, `${p}.retries`, 0);
  if (m.disable !== undefined) h.disable = bool(m.disable, `${p}.disable`);
  return h;
}

function build(v: Raw, p: string, c: Ctx): Build {
  if (typeof v === 'string') return { context: path.resolve(c.base, v) };
  const m = mapOf(v, p);
  checkKeys(m, p, ['context', 'dockerfile', 'dockerfile_inline', 'args', 'target', 'labels', 'network', 'no_cache', 'pull', 'extra_hosts', 'tags',
    'cache_from', 'cache_to', 'ssh', 'secrets', 'platforms', 'privileged', 'shm_size', 'isolation', 'additional_contexts', 'ulimits', 'entitlements', 'provenance', 'sbom']);
  for (const k of ['cache_from', 'cache_to', 'ssh', 'secrets', 'platforms', 'privileged', 'shm_size', 'isolation', 'additional_contexts', 'ulimits', 'entitlements', 'provenance', 'sbom']) {
    if (m[k] !== undefined) throw new ComposeError(keyPath(p, k), 'not supported by berth compose yet');
  }
  const b: Build = { context: path.resolve(c.base, m.context === undefined ? '.' : str(m.context, `${p}.context`)) };
  if (/^(https?|git):\/\/|^git@/.test(String(m.context ?? ''))) throw new ComposeError(`${p}.context`, 'remote build contexts are not supported by berth compose yet');
  if (m.dockerfile !== undefined) b.dockerfile = str(m.dockerfile, `${p}.dockerfile`);
  if (m.dockerfile_inline !== undefined) b.dockerfile_inline = str(m.dockerfile_inline, `${p}.dockerfile_inline`);
  if (b.dockerfile && b.dockerfile_inline) throw new ComposeError(p, 'dockerfile and dockerfile_inline are exclusive');
  if (m.args !== undefined) b.args = dict(m.args, `${p}.args`);
  if (m.target !== undefined) b.target = str(m.target, `${p}.target`);
  if (m.labels !== undefined) b.labels = strDict(m.labels, `${p}.labels`);
  if (m.network !== undefined) b.network = str(m.network, `${p}.network`);
  if (m.no_cache !== undefined) b.no_cache = bool(m.no_cache, `${p}.no_cache`);
  if (m.pull !== undefined) b.pull = bool(m.pull, `${p}.pull`);
  if (m.extra_hosts !== undefined) b.extra_hosts = strDict(dict(m.extra_hosts, `${p}.extra_hosts`, ':'), `${p}.extra_hosts`);
  if (m.tags !== undefined) b.tags = strList(m.tags, `${p}.tags`);
  return b;
}

function resources(v: Raw, p: string): Resources {
  const m = mapOf(v, p);
  checkKeys(m, p, ['cpus', 'memory', 'pids', 'devices', 'generic_resources']);
  for (const k of ['devices', 'generic_resources']) if (m[k] !== undefined) throw new ComposeError(keyPath(p, k), 'not supported by berth compose yet');
  const r: Resources = {};
  if (m.cpus !== undefined) r.cpus = num(m.cpus, `${p}.cpus`);
  if (m.memory !== undefined) r.memory = bytes(m.memory, `${p}.memory`);
  if (m.pids !== undefined) r.pids = int(m.pids, `${p}.pids`);
  return r;
}

function deploy(v: Raw, p: string): Deploy {
  const m = mapOf(v, p);
  checkKeys(m, p, ['replicas', 'resources', 'restart_policy', 'mode', 'labels', 'placement', 'update_config', 'rollback_config', 'endpoint_mode']);
  for (const k of ['labels', 'placement', 'update_config', 'rollback_config', 'endpoint_mode']) if (m[k] !== undefined) throw new ComposeError(keyPath(p, k), 'not supported by berth compose yet');
  if (m.mode !== undefined && m.mode !== 'replicated') throw new ComposeError(`${p}.mode`, `deploy mode "${String(m.mode)}" is not supported by berth compose`);
  const d: Deploy = {};
  if (m.replicas !== undefined) d.replicas = int(m.replicas, `${p}.replicas`, 0);
  if (m.resources !== undefined) {
    const r = mapOf(m.resources, `${p}.resources`);
    checkKeys(r, `${p}.resources`, ['limits', 'reservations']);
    d.resources = {};
    if (r.limits !== undefined) d.resources.limits = resources(r.limits, `${p}.resources.limits`);
    if (r.reservations !== undefined) {
      d.resources.reservations = resources(r.reservations, `${p}.resources.reservations`);
      // Only memory has an engine setting (MemoryReservation); CPUs and pids are swarm's scheduling.
      for (const k of ['cpus', 'pids'] as const) if (d.resources.reservations[k] !== undefined) throw new ComposeError(`${p}.resources.reservations.${k}`, 'not supported by berth compose yet');
    }
  }
  if (m.restart_policy !== undefined) {
    const r = mapOf(m.restart_policy, `${p}.restart_policy`);
    checkKeys(r, `${p}.restart_policy`, ['condition', 'max_attempts', 'delay', 'window']);
    for (const k of ['delay', 'window']) if (r[k] !== undefined) throw new ComposeError(`${p}.restart_policy.${k}`, 'not supported by berth compose yet');
    d.restart_policy = {};
    if (r.condition !== undefined) {
      const cond = str(r.condition, `${p}.restart_policy.condition`);
      if (!['none', 'on-failure', 'any'].includes(cond)) throw new ComposeError(`${p}.restart_policy.condition`, 'must be one of none, on-failure, any');
      d.restart_policy.condition = cond;
    }
    if (r.max_attempts !== undefined) d.restart_policy.max_attempts = int(r.max_attempts, `${p}.restart_policy.max_attempts`, 0);
  }
  return d;
}

function fileRefs(v: Raw, p: string): FileRef[] {
  return list(v, p).map((x, i) => {
    const ip = keyPath(p, i);
    if (typeof x === 'string') return { source: x };
    const m = mapOf(x, ip);
    checkKeys(m, ip, ['source', 'target', 'uid', 'gid', 'mode']);
    if (m.source === undefined) throw new ComposeError(ip, 'source is required');
    const r: FileRef = { source: str(m.source, `${ip}.source`) };
    if (m.target !== undefined) r.target = str(m.target, `${ip}.target`);
    // Files are bind-mounted read-only as they are: their owner and mode cannot be changed.
    for (const k of ['uid', 'gid', 'mode']) if (m[k] !== undefined) throw new ComposeError(`${ip}.${k}`, 'not supported by berth compose yet (the file is bind-mounted as it is)');
    return r;
  });
}

function envFiles(v: Raw, p: string, c: Ctx): EnvFile[] {
  const items = typeof v === 'string' ? [v] : list(v, p);
  return items.map((x, i) => {
    const ip = keyPath(p, i);
    if (typeof x === 'string') return { path: path.resolve(c.base, x), required: true };
    const m = mapOf(x, ip);
    checkKeys(m, ip, ['path', 'required', 'format']);
    if (m.format !== undefined && m.format !== 'raw') throw new ComposeError(`${ip}.format`, 'not supported by berth compose yet');
    return { path: path.resolve(c.base, str(m.path, `${ip}.path`)), required: m.required === undefined ? true : bool(m.required, `${ip}.required`) };
  });
}

function ulimits(v: Raw, p: string): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const [k, x] of Object.entries(mapOf(v, p))) {
    if (typeof x === 'number' || typeof x === 'string') {
      const n = int(x, keyPath(p, k));
      out[k] = { soft: n, hard: n };
    } else {
      const m = mapOf(x, keyPath(p, k));
      out[k] = { soft: int(m.soft, `${keyPath(p, k)}.soft`), hard: int(m.hard, `${keyPath(p, k)}.hard`) };
    }
  }
  return out;
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

const HANDLERS: Record<string, Handler> = {
  image: strH,
  build,
  command: (v, p) => command(v, p),
  entrypoint: (v, p) => command(v, p),
  environment: (v, p) => dict(v, p),
  env_file: envFiles,
  labels: (v, p) => strDict(v, p),
  ports: (v, p) => ports(v, p),
  expose: (v, p) => expose(v, p),
  networks: (v, p) => serviceNetworks(v, p),
  network_mode: strH,
  volumes,
  tmpfs: strListH,
  secrets: (v, p) => fileRefs(v, p),
  configs: (v, p) => fileRefs(v, p),
  depends_on: (v, p) => dependsOn(v, p),
  healthcheck: (v, p) => healthcheck(v, p),
  restart: (v, p) => {
    const s = str(v, p);
    if (!RESTART.test(s)) throw new ComposeError(p, `invalid restart policy "${s}"`);
    return s;
  },
  deploy: (v, p) => deploy(v, p),
  init: boolH,
  user: strH,
  working_dir: strH,
  stop_grace_period: (v, p) => duration(v, p),
  stop_signal: strH,
  scale: (v, p) => int(v, p, 0),
  profiles: strListH,
  container_name: (v, p) => {
    const s = str(v, p);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s)) throw new ComposeError(p, `invalid container name "${s}"`);
    return s;
  },
  hostname: strH,
  domainname: strH,
  privileged: boolH,
  read_only: boolH,
  tty: boolH,
  stdin_open: boolH,
  cap_add: strListH,
  cap_drop: strListH,
  extra_hosts: (v, p) => strDict(dict(v, p, ':'), p),
  dns: strListH,
  dns_search: strListH,
  mem_limit: (v, p) => bytes(v, p),
  cpus: (v, p) => num(v, p),
  pids_limit: (v, p) => int(v, p),
  pull_policy: (v, p) => {
    const s = str(v, p);
    if (!['always', 'never', 'missing', 'if_not_present', 'build'].includes(s) && !/^(every_|daily|weekly)/.test(s)) throw new ComposeError(p, `invalid pull policy "${s}"`);
    if (/^(every_|daily|weekly)/.test(s)) throw new ComposeError(p, `pull policy "${s}" is not supported by berth compose yet`);
    return s === 'if_not_present' ? 'missing' : s;
  },
  platform: strH,
  shm_size: (v, p) => bytes(v, p),
  sysctls: (v, p) => strDict(v, p),
  ulimits: (v, p) => ulimits(v, p),
  group_add: strListH,
  security_opt: strListH,
  mac_address: strH,
  pid: strH,
  ipc: strH,
  logging: (v, p) => {
    const m = mapOf(v, p);
    checkKeys(m, p, ['driver', 'options']);
    const l: { driver?: string; options?: Record<string, string> } = {};
    if (m.driver !== undefined) l.driver = str(m.driver, `${p}.driver`);
    if (m.options !== undefined) l.options = strDict(m.options, `${p}.options`);
    return l;
  },
  links: strListH,
  extends: (v, p) => {
    if (typeof v === 'string') return { service: v };
    const m = mapOf(v, p);
    checkKeys(m, p, ['service', 'file']);
    if (m.service === undefined) throw new ComposeError(p, 'service is required');
    const e: { service: string; file?: string } = { service: str(m.service, `${p}.service`) };
    if (m.file !== undefined) e.file = str(m.file, `${p}.file`);
    return e;
  },
};

export function checkKeys(m: Record<string, Raw>, p: string, allowed: string[]): void {
  for (const k of Object.keys(m)) {
    if (k.startsWith('x-')) continue;
    if (!allowed.includes(k)) throw new ComposeError(keyPath(p, k), `additional property ${k} is not allowed`);
  }
}

// One service as a file writes it.
export function normaliseService(name: string, raw: Raw, p: string, base: string, lookup: Lookup): Normalised {
  const m = raw === null ? {} : mapOf(raw, p);
  const c: Ctx = { base, lookup };
  const svc: Record<string, unknown> = {};
  const marks: Marks = { reset: new Set(), override: new Set() };
  for (const [k, v0] of Object.entries(m)) {
    if (k.startsWith('x-')) continue;
    const kp = keyPath(p, k);
    const h = HANDLERS[k];
    if (!h) {
      if (UNSUPPORTED_SERVICE_KEYS.includes(k)) throw new ComposeError(kp, 'not supported by berth compose yet');
      throw new ComposeError(kp, `additional property ${k} is not allowed`);
    }
    let v = v0;
    if (v instanceof Tagged) {
      if (v.tag === '!reset') {
        marks.reset.add(k);
        continue;
      }
      marks.override.add(k);
      v = v.value;
    }
    svc[k] = h(v, kp, c);
  }
  return { svc: svc as PartialService, marks };
}

// env_file contents under environment (environment wins), as compose resolves them.
export function applyEnvFiles(svc: PartialService, p: string, lookup: Lookup, readFile: (f: string) => string | undefined): void {
  if (!svc.env_file) return;
  const env: Record<string, string | null> = {};
  svc.env_file.forEach((f, i) => {
    const text = readFile(f.path);
    if (text === undefined) {
      if (f.required) throw new ComposeError(keyPath(`${p}.env_file`, i), `env file ${f.path} not found`);
      return;
    }
    Object.assign(env, parseDotenv(text, f.path, lookup));
  });
  svc.environment = { ...env, ...svc.environment };
  delete svc.env_file;
}

function externalOf(m: Record<string, Raw>, p: string): boolean | undefined {
  if (m.external === undefined) return undefined;
  if (isMap(m.external)) {
    // The legacy `external: {name: x}`.
    return true;
  }
  return bool(m.external, `${p}.external`);
}

export function normaliseNetwork(key: string, raw: Raw, p: string): Partial<Network> {
  const m = raw === null ? {} : mapOf(raw, p);
  checkKeys(m, p, ['name', 'driver', 'driver_opts', 'external', 'internal', 'attachable', 'enable_ipv6', 'enable_ipv4', 'ipam', 'labels']);
  const n: Partial<Network> = {};
  if (m.name !== undefined) n.name = str(m.name, `${p}.name`);
  if (isMap(m.external) && m.external.name !== undefined) n.name = str(m.external.name, `${p}.external.name`);
  if (m.driver !== undefined) n.driver = str(m.driver, `${p}.driver`);
  if (m.driver_opts !== undefined) n.driver_opts = strDict(m.driver_opts, `${p}.driver_opts`);
  const ext = externalOf(m, p);
  if (ext !== undefined) n.external = ext;
  if (m.internal !== undefined) n.internal = bool(m.internal, `${p}.internal`);
  if (m.attachable !== undefined) n.attachable = bool(m.attachable, `${p}.attachable`);
  if (m.enable_ipv6 !== undefined) n.enable_ipv6 = bool(m.enable_ipv6, `${p}.enable_ipv6`);
  if (m.enable_ipv4 !== undefined && !bool(m.enable_ipv4, `${p}.enable_ipv4`)) throw new ComposeError(`${p}.enable_ipv4`, 'not supported by berth compose yet');
  if (m.labels !== undefined) n.labels = strDict(m.labels, `${p}.labels`);
  if (m.ipam !== undefined) {
    const im = mapOf(m.ipam, `${p}.ipam`);
    checkKeys(im, `${p}.ipam`, ['driver', 'config', 'options']);
    if (im.options !== undefined) throw new ComposeError(`${p}.ipam.options`, 'not supported by berth compose yet');
    n.ipam = {};
    if (im.driver !== undefined) n.ipam.driver = str(im.driver, `${p}.ipam.driver`);
    if (im.config !== undefined) {
      n.ipam.config = list(im.config, `${p}.ipam.config`).map((x, i) => {
        const ip = keyPath(`${p}.ipam.config`, i);
        const cm = mapOf(x, ip);
        checkKeys(cm, ip, ['subnet', 'ip_range', 'gateway', 'aux_addresses']);
        if (cm.aux_addresses !== undefined) throw new ComposeError(`${ip}.aux_addresses`, 'not supported by berth compose yet');
        const out: { subnet?: string; ip_range?: string; gateway?: string } = {};
        if (cm.subnet !== undefined) out.subnet = str(cm.subnet, `${ip}.subnet`);
        if (cm.ip_range !== undefined) out.ip_range = str(cm.ip_range, `${ip}.ip_range`);
        if (cm.gateway !== undefined) out.gateway = str(cm.gateway, `${ip}.gateway`);
        return out;
      });
    }
  }
  void key;
  return n;
}

export function normaliseVolume(key: string, raw: Raw, p: string): Partial<Volume> {
  const m = raw === null ? {} : mapOf(raw, p);
  checkKeys(m, p, ['name', 'driver', 'driver_opts', 'external', 'labels']);
  const v: Partial<Volume> = {};
  if (m.name !== undefined) v.name = str(m.name, `${p}.name`);
  if (isMap(m.external) && m.external.name !== undefined) v.name = str(m.external.name, `${p}.external.name`);
  if (m.driver !== undefined) v.driver = str(m.driver, `${p}.driver`);
  if (m.driver_opts !== undefined) v.driver_opts = strDict(m.driver_opts, `${p}.driver_opts`);
  const ext = externalOf(m, p);
  if (ext !== undefined) v.external = ext;
  if (m.labels !== undefined) v.labels = strDict(m.labels, `${p}.labels`);
  void key;
  return v;
}

export function normaliseFileObject(key: string, raw: Raw, p: string, base: string, kind: 'secrets' | 'configs'): Partial<FileObject> {
  const m = mapOf(raw, p);
  checkKeys(m, p, ['name', 'file', 'environment', 'content', 'external', 'labels', 'driver', 'driver_opts', 'template_driver']);
  for (const k of ['driver', 'driver_opts', 'template_driver']) if (m[k] !== undefined) throw new ComposeError(keyPath(p, k), 'not supported by berth compose yet');
  const o: Partial<FileObject> = {};
  if (m.name !== undefined) o.name = str(m.name, `${p}.name`);
  if (m.file !== undefined) o.file = path.resolve(base, str(m.file, `${p}.file`));
  if (m.content !== undefined && kind === 'secrets') throw new ComposeError(`${p}.content`, 'additional property content is not allowed');
  // Only files: they are bind-mounted; the others would need copying into the container.
  for (const k of ['environment', 'content']) if (m[k] !== undefined) throw new ComposeError(`${p}.${k}`, `not supported by berth compose yet (only ${kind} from files)`);
  const ext = externalOf(m, p);
  if (ext) throw new ComposeError(`${p}.external`, `external ${kind} are swarm objects, not supported by berth compose`);
  if (o.file === undefined && o.environment === undefined && o.content === undefined) throw new ComposeError(p, `one of file, environment${kind === 'configs' ? ', content' : ''} is required`);
  void key;
  void fs;
  return o;
}
