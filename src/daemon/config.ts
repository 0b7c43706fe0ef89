// berthd configuration: dockerd's flag names, a daemon.json (flags win over it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRemap } from './userns';
import { DEFAULT_JSON_FILE_OPTS, DEFAULT_LOG_DRIVER, logSettings } from '../engine/logs/settings';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  defaultRuntime: string;
  runtimes: Record<string, string>;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  pidfile: string;
  configFile: string;
  debug: boolean;
  conmonPath: string;
  insecureRegistries: string[];
  // Docker Hub mirrors, tried in order before the Hub ("https://host:port/").
  registryMirrors: string[];
  // Registries (host:port or CIDR) that get foreign layers pushed to them.
  allowNondistributable: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  certsDir: string;
  // --exec-opt native.cgroupdriver=…; dockerd's pick when unset.
  cgroupDriver?: string;
  // The default bridge network and where new networks' subnets come from.
  network: { bridge: string; bip?: string; fixedCidr?: string; mtu?: number; pools?: { base: string; size: number }[] };
  // Exec sessions of runc containers through berth-exec rather than `runc
  // exec` (daemon.json "exec-helper", default true).
  execHelper: boolean;
  // Containers' default log driver and its options (--log-driver,
  // --log-opt, daemon.json's log-driver and log-opts).
  logDriver?: string;
  logOpts?: Record<string, string>;
  // An init (tini) as every container's pid 1 unless it says otherwise
  // (--init, daemon.json "init"), and the binary: --init-path /
  // "init-path", else docker-init or tini-static found in PATH (undefined
  // when none is: a container asking for one then fails to start, as with
  // dockerd). `initBinary` is what `docker info` shows.
  init: boolean;
  initPath?: string;
  initBinary: string;
  // userns-remap: "user[:group]" or "default" (resolved at start: daemon/userns.ts).
  usernsRemap?: string;
}

export const DEFAULTS = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  host: 'unix:///run/berth/berth.sock',
  pidfile: '/run/berth/berthd.pid', // <exec-root>/berthd.pid
  configFile: '/etc/berth/daemon.json',
  defaultRuntime: 'runc',
  certsDir: '/etc/berth/certs.d',
};

export class ConfigError extends Error {}

const USAGE = `Usage: berthd [OPTIONS]

A container engine that serves the Docker Engine API.

Options:
      --add-runtime name=path   Register an OCI runtime (repeatable)
      --config-file string      Daemon configuration file (default "${DEFAULTS.configFile}")
      --data-root string        Root of persistent state (default "${DEFAULTS.dataRoot}")
  -D, --debug                   Enable debug mode
      --exec-opt list           Runtime execution options (native.cgroupdriver=cgroupfs|systemd)
      --default-runtime string  Default OCI runtime for containers (default "${DEFAULTS.defaultRuntime}")
      --exec-root string        Root of runtime state (default "${DEFAULTS.execRoot}")
      --userns-remap string     User/Group setting for user namespaces (user[:group] or default)
      --init                    Run an init in the container to forward signals and reap processes
      --init-path string        Path to the docker-init binary (default: docker-init, else tini-static, in PATH)
      --certs-dir string        Registry CA certificates, <dir>/<host:port>/ca.crt (default "${DEFAULTS.certsDir}")
  -b, --bridge string           The default bridge network's interface (default "berth0")
      --cleanup-networks        Tear down every network's wiring (containers must be stopped) and exit
      --bip string              The default bridge network's gateway and subnet, e.g. 172.18.0.1/16
      --default-address-pool    Where networks' subnets come from: base=CIDR,size=N (repeatable)
      --fixed-cidr string       Where the default bridge network's addresses come from (within bip)
      --mtu int                 The default bridge network's MTU
  -H, --host list               Daemon socket to listen on (default ${DEFAULTS.host})
      --insecure-registry list  Registries reached over plain HTTP (host:port or CIDR; 127.0.0.0/8 always)
      --registry-mirror list    Docker Hub mirrors, tried in order before the Hub (repeatable)
      --allow-nondistributable-artifacts list
                                Registries (host:port or CIDR) that foreign layers are pushed to
      --max-concurrent-downloads int
                                Layers downloaded at once per pull (default 3)
      --max-concurrent-uploads int
                                Layers uploaded at once per push (default 5)
      --log-driver string       Default driver for container logs (default "json-file")
      --log-opt map             Default log driver options for containers (default max-size=10m, max-file=3)
  -h, --help                    Print usage
  -l, --log-level string        Set the logging level (debug|info|warn|error|fatal) (default "info")
  -p, --pidfile string          Path to use for daemon PID file (default "<exec-root>/berthd.pid")
  -v, --version                 Print version information and quit
`;

export function usage(): string {
  return USAGE;
}

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

// Parses argv; returns "help"/"version" for those flags.
export function parseArgs(argv: string[]): { flags: Record<string, string | string[] | boolean>; action?: 'help' | 'version' } {
  const flags: Record<string, string | string[] | boolean> = {};
  const multi = new Set(['host', 'add-runtime', 'insecure-registry', 'exec-opt', 'default-address-pool', 'log-opt', 'registry-mirror', 'allow-nondistributable-artifacts']);
  const alias: Record<string, string> = { H: 'host', D: 'debug', l: 'log-level', p: 'pidfile', h: 'help', v: 'version', G: 'group', b: 'bridge' };
  const boolFlags = new Set(['debug', 'help', 'version', 'cleanup-networks', 'init']);
  const known = new Set(['data-root', 'exec-root', 'host', 'default-runtime', 'add-runtime', 'log-level', 'pidfile', 'config-file', 'debug', 'help', 'version', 'group', 'insecure-registry', 'certs-dir', 'exec-opt', 'bridge', 'bip', 'fixed-cidr', 'mtu', 'default-address-pool', 'cleanup-networks', 'log-driver', 'log-opt', 'init', 'init-path', 'registry-mirror', 'allow-nondistributable-artifacts', 'max-concurrent-downloads', 'max-concurrent-uploads', 'userns-remap']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      value = eq > 0 ? a.slice(eq + 1) : undefined;
    } else if (a.startsWith('-') && a.length >= 2) {
      name = alias[a[1]] ?? a.slice(1);
      value = a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
    } else {
      throw new ConfigError(`unexpected argument: ${a}`);
    }
    if (!known.has(name)) throw new ConfigError(`unknown flag: ${a}`);
    if (boolFlags.has(name)) {
      flags[name] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ConfigError(`flag needs an argument: ${a}`);
      value = argv[++i];
    }
    if (multi.has(name)) flags[name] = [...((flags[name] as string[]) ?? []), value];
    else flags[name] = value;
  }
  if (flags.help) return { flags, action: 'help' };
  if (flags.version) return { flags, action: 'version' };
  return { flags };
}

export function loadConfig(argv: string[]): DaemonConfig {
  const { flags } = parseArgs(argv);
  const configFile = (flags['config-file'] as string) ?? DEFAULTS.configFile;
  let file: Record<string, any> = {};
  if (fs.existsSync(configFile)) {
    try {
      file = JSON.parse(fs.readFileSync(configFile, 'utf8'));
      if (!file || typeof file !== 'object' || Array.isArray(file)) throw new Error('expected a JSON object');
    } catch (err) {
      throw new ConfigError(`unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
    }
  } else if (flags['config-file']) {
    throw new ConfigError(`open ${configFile}: no such file or directory`);
  }
  // As dockerd: a key nothing reads is a mistake, refused by name.
  const unknown = Object.keys(file).filter((k) => !FILE_KEYS.has(k));
  if (unknown.length) throw new ConfigError(`unable to configure the daemon with file ${configFile}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const pick = <T>(flag: string, key: string, dflt: T): T => (flags[flag] as T) ?? (file[key] as T) ?? dflt;
  const runtimes: Record<string, string> = {};
  for (const name of ['runc', 'crun']) {
    const p = which(name);
    if (p) runtimes[name] = p;
  }
  for (const [name, v] of Object.entries((file.runtimes ?? {}) as Record<string, { path: string }>)) runtimes[name] = v.path;
  for (const spec of (flags['add-runtime'] as string[]) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid --add-runtime ${JSON.stringify(spec)}: expected name=path`);
    runtimes[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const defaultRuntime = pick('default-runtime', 'default-runtime', DEFAULTS.defaultRuntime);
  if (!runtimes[defaultRuntime]) throw new ConfigError(`default runtime ${JSON.stringify(defaultRuntime)} not found (known: ${Object.keys(runtimes).join(', ') || 'none'})`);
  const hosts = (flags.host as string[]) ?? (file.hosts as string[]) ?? [DEFAULTS.host];
  for (const h of hosts) {
    if (!h.startsWith('unix://')) {
      // A TCP socket without TLS hands root to anyone on the network.
      throw new ConfigError(`unsupported host ${JSON.stringify(h)}: only unix:// sockets are served (TCP needs TLS, which berthd does not offer yet)`);
    }
  }
  const debug = Boolean(flags.debug ?? file.debug ?? false);
  const logLevel = pick('log-level', 'log-level', debug ? 'debug' : 'info');
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(logLevel)) throw new ConfigError(`invalid log level: ${logLevel}`);
  const conmonPath = which('conmon');
  if (!conmonPath) throw new ConfigError('conmon not found in PATH (apt-get install conmon)');
  const execRoot = path.resolve(pick('exec-root', 'exec-root', DEFAULTS.execRoot));
  const log = logConfigOf(flags, file);
  return {
    logDriver: log.type,
    logOpts: log.config,
    dataRoot: path.resolve(pick('data-root', 'data-root', DEFAULTS.dataRoot)),
    execRoot,
    hosts,
    defaultRuntime,
    runtimes,
    logLevel: logLevel as DaemonConfig['logLevel'],
    // Beside the runtime state, so daemons on different roots do not collide.
    pidfile: path.resolve(pick('pidfile', 'pidfile', path.join(execRoot, 'berthd.pid'))),
    configFile,
    debug: debug || logLevel === 'debug',
    conmonPath,
    ...registryConfigOf(flags, file),
    certsDir: path.resolve(pick('certs-dir', 'certs-dir', DEFAULTS.certsDir)),
    ...cgroupDriverOf([...((file['exec-opts'] as string[]) ?? []), ...((flags['exec-opt'] as string[]) ?? [])]),
    network: networkConfig(flags, file),
    execHelper: execHelperOf(file['exec-helper']),
    ...initConfigOf(flags, file),
    ...usernsRemapOf(flags, file),
  };
}

function usernsRemapOf(flags: Record<string, unknown>, file: Record<string, any>): { usernsRemap?: string } {
  const v = flags['userns-remap'] ?? file['userns-remap'];
  if (v === undefined || v === '') return {};
  if (typeof v !== 'string') throw new ConfigError(`invalid userns-remap ${JSON.stringify(v)}: expected user[:group] or default`);
  try {
    parseRemap(v);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return { usernsRemap: v };
}

// dockerd's --init / --init-path (daemon.json "init", "init-path"). Its
// default binary is "docker-init" (Debian's docker.io links it to
// tini-static); berth falls back to Debian tini's static build, which runs
// in any image.
function initConfigOf(flags: Record<string, unknown>, file: Record<string, any>): Pick<DaemonConfig, 'init' | 'initPath' | 'initBinary'> {
  const init = flags.init ?? file.init ?? false;
  if (typeof init !== 'boolean') throw new ConfigError(`invalid init ${JSON.stringify(init)}: expected true or false`);
  const given = (flags['init-path'] as string | undefined) ?? file['init-path'];
  if (given !== undefined && (typeof given !== 'string' || given === '')) throw new ConfigError(`invalid init-path ${JSON.stringify(given)}`);
  if (given) return { init, initPath: given.includes('/') ? path.resolve(given) : which(given), initBinary: given };
  for (const name of ['docker-init', 'tini-static']) {
    const p = which(name);
    if (p) return { init, initPath: p, initBinary: name };
  }
  return { init, initBinary: 'docker-init' };
}

// The daemon.json keys berthd reads (dockerd's names; "exec-helper" is berth's own).
const FILE_KEYS = new Set([
  'data-root', 'exec-root', 'hosts', 'default-runtime', 'runtimes', 'log-level', 'pidfile', 'debug',
  'insecure-registries', 'registry-mirrors', 'allow-nondistributable-artifacts', 'max-concurrent-downloads', 'max-concurrent-uploads',
  'certs-dir', 'exec-opts', 'bridge', 'bip', 'fixed-cidr', 'mtu', 'default-address-pools', 'exec-helper', 'log-driver', 'log-opts', 'init', 'init-path',
  'userns-remap',
]);

function stringList(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${key} must be a list of strings`);
  return v as string[];
}

// A registry entry: host[:port] or an IPv4 CIDR, as dockerd's ValidateIndexName/CIDR checks.
function registryEntry(v: string, what: string): string {
  if (v.includes('://')) throw new ConfigError(`${what} ${JSON.stringify(v)}: expected host[:port] or a CIDR, without a scheme`);
  if (v.includes('/')) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(v);
    if (!m || m[1].split('.').some((o) => Number(o) > 255) || Number(m[2]) > 32) throw new ConfigError(`${what} ${JSON.stringify(v)}: invalid CIDR`);
  }
  return v;
}

// dockerd's ValidateMirror: an http(s) URL with no path, credentials, query
// or fragment; kept with a trailing slash as docker info shows it.
export function normalizeMirror(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`invalid mirror: ${JSON.stringify(v)} is not a valid URI`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`invalid mirror: unsupported scheme ${JSON.stringify(u.protocol.slice(0, -1))} in ${JSON.stringify(v)}`);
  if (u.username || u.password) throw new ConfigError(`invalid mirror: username/password not allowed in URI ${JSON.stringify(v)}`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new ConfigError(`invalid mirror: path, query, or fragment at end of the URI ${JSON.stringify(v)}`);
  return `${u.protocol}//${u.host}/`;
}

function positiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`invalid ${what}: ${v}`);
  return n;
}

// Registry settings: the file's lists and the flags' entries together, as dockerd merges them.
function registryConfigOf(flags: Record<string, unknown>, file: Record<string, any>): Pick<DaemonConfig, 'insecureRegistries' | 'registryMirrors' | 'allowNondistributable' | 'maxConcurrentDownloads' | 'maxConcurrentUploads'> {
  const both = (flag: string, key: string) => [...stringList(file[key], key), ...((flags[flag] as string[]) ?? [])];
  return {
    insecureRegistries: both('insecure-registry', 'insecure-registries').map((v) => registryEntry(v, 'insecure registry')),
    registryMirrors: [...new Set(both('registry-mirror', 'registry-mirrors').map(normalizeMirror))],
    allowNondistributable: both('allow-nondistributable-artifacts', 'allow-nondistributable-artifacts').map((v) => registryEntry(v, 'allow-nondistributable-artifacts')),
    maxConcurrentDownloads: positiveInt(flags['max-concurrent-downloads'] ?? file['max-concurrent-downloads'], 'max concurrent downloads', 3),
    maxConcurrentUploads: positiveInt(flags['max-concurrent-uploads'] ?? file['max-concurrent-uploads'], 'max concurrent uploads', 5),
  };
}

// dockerd's exec options: only native.cgroupdriver is known.
function cgroupDriverOf(opts: string[]): { cgroupDriver?: string } {
  let driver: string | undefined;
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = o.slice(0, eq < 0 ? o.length : eq).trim().toLowerCase();
    if (eq < 0 || key !== 'native.cgroupdriver') throw new ConfigError(`unknown exec-opt ${JSON.stringify(o)}: only native.cgroupdriver is known`);
    driver = o.slice(eq + 1).trim();
    if (driver !== 'cgroupfs' && driver !== 'systemd') throw new ConfigError(`native.cgroupdriver option ${driver} not supported`);
  }
  return driver ? { cgroupDriver: driver } : {};
}

// bip, fixed-cidr, mtu, bridge and default-address-pools, as dockerd takes them.
function networkConfig(flags: Record<string, string | string[] | boolean>, file: Record<string, any>): DaemonConfig['network'] {
  const str = (flag: string): string | undefined => (flags[flag] as string | undefined) ?? (typeof file[flag] === 'string' ? file[flag] : undefined);
  const cidr = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
  const out: DaemonConfig['network'] = { bridge: str('bridge') ?? 'berth0' };
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(out.bridge)) throw new ConfigError(`invalid bridge name ${JSON.stringify(out.bridge)}`);
  for (const [flag, key] of [['bip', 'bip'], ['fixed-cidr', 'fixedCidr']] as const) {
    const v = str(flag);
    if (v === undefined) continue;
    if (!cidr.test(v)) throw new ConfigError(`invalid ${flag} ${JSON.stringify(v)}: expected an IPv4 CIDR`);
    out[key] = v;
  }
  const mtu = flags.mtu ?? file.mtu;
  if (mtu !== undefined) {
    const n = Number(mtu);
    if (!Number.isInteger(n) || n < 68 || n > 65535) throw new ConfigError(`invalid mtu ${JSON.stringify(mtu)}`);
    out.mtu = n;
  }
  const pools: { base: string; size: number }[] = [];
  for (const p of (file['default-address-pools'] ?? []) as { base?: unknown; size?: unknown }[]) {
    if (typeof p?.base !== 'string' || !cidr.test(p.base) || typeof p.size !== 'number') throw new ConfigError(`invalid default-address-pools entry ${JSON.stringify(p)}`);
    pools.push({ base: p.base, size: p.size });
  }
  const flagPools = (flags['default-address-pool'] as string[] | undefined) ?? [];
  if (flagPools.length) pools.length = 0;
  for (const s of flagPools) {
    const kv = Object.fromEntries(s.split(',').map((x) => x.split('=').map((y) => y.trim())));
    if (!cidr.test(kv.base ?? '') || !/^\d+$/.test(kv.size ?? '')) throw new ConfigError(`invalid --default-address-pool ${JSON.stringify(s)}: expected base=CIDR,size=N`);
    pools.push({ base: kv.base, size: Number(kv.size) });
  }
  if (pools.length) out.pools = pools;
  return out;
}

function execHelperOf(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw new ConfigError(`invalid exec-helper ${JSON.stringify(v)}: expected true or false`);
  return v;
}

// The containers' default log driver and options, checked now as dockerd
// checks them at start. With neither log-opts nor --log-opt, json-file gets
// berth's cap (docker's default is unbounded).
function logConfigOf(flags: Record<string, unknown>, file: Record<string, any>): { type: string; config: Record<string, string> } {
  const type = (flags['log-driver'] as string) ?? (file['log-driver'] as string) ?? DEFAULT_LOG_DRIVER;
  let config: Record<string, string> | undefined;
  if (file['log-opts'] !== undefined) {
    const o = file['log-opts'];
    if (!o || typeof o !== 'object' || Array.isArray(o) || Object.values(o).some((v) => typeof v !== 'string')) throw new ConfigError('log-opts must be an object of strings');
    config = { ...o };
  }
  for (const kv of (flags['log-opt'] as string[]) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid --log-opt ${JSON.stringify(kv)}: expected key=value`);
    config = { ...(config ?? {}), [kv.slice(0, eq)]: kv.slice(eq + 1) };
  }
  if (config === undefined) config = type === 'json-file' ? { ...DEFAULT_JSON_FILE_OPTS } : {};
  try {
    logSettings(type, config);
  } catch (err) {
    throw new ConfigError(`failed to set log opts: ${(err as Error).message}`);
  }
  return { type, config };
}
