// docker create's flags (run has these and a few of its own), and the
// create request they make, field for field as the docker CLI 28 sends it.
// Flags whose API fields berthd does not apply yet are known but refused.
// The resource flags (memory, cpus, ulimit, …) are read in limits.ts.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { ContainerCreateRequest, EndpointSettings, HostConfig } from '../../../api/types';
import type { FlagSpec, Parsed } from '../../args';
import { UsageError } from '../../args';
import { HELP_FLAG } from '../../command';
import { validateIPAddress } from '../../opts/ip';
import { parseMount, parseTmpfs, parseVolumeFlags } from '../../opts/mounts';
import { checkMAC, networkEndpoints, parseNetworkOpt, validateDNSSearch, validateExtraHost, validateLink } from '../../opts/network';
import { parsePorts } from '../../opts/ports';

// A flag whose value is checked as docker's pflag Value checks it, and
// kept as given (parsed again when the request is built).
function checked(parse: (v: string) => unknown): (v: string) => string {
  return (v) => {
    parse(v);
    return v;
  };
}
import { resourceFields, validateBps, validateIops, validateUlimit, validateWeightDevice } from './limits';
import { isNoRestart, parseRestartPolicy } from '../../opts/restart';

// -a: docker's validateAttach.
function attachStream(v: string): string {
  const s = v.toLowerCase();
  if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw new Error('valid streams are STDIN, STDOUT and STDERR');
  return s;
}

export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'list', desc: 'Add a custom host-to-IP mapping (host:ip)', validate: validateExtraHost },
  { name: 'annotation', type: 'list', meta: 'map', desc: 'Add an annotation to the container (passed through to the OCI runtime)' },
  { name: 'attach', short: 'a', type: 'list', desc: 'Attach to STDIN, STDOUT or STDERR', validate: attachStream },
  { name: 'blkio-weight', type: 'uint16', desc: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'blkio-weight-device', type: 'list', desc: 'Block IO weight (relative device weight)', validate: validateWeightDevice },
  { name: 'cap-add', type: 'list', desc: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', desc: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', type: 'string', desc: 'Optional parent cgroup for the container' },
  {
    name: 'cgroupns',
    type: 'string',
    desc: "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker host's cgroup namespace\n'private': Run the container in its own private cgroup namespace\n'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)",
  },
  { name: 'cidfile', type: 'string', desc: 'Write the container ID to the file' },
  { name: 'cpu-count', type: 'int', desc: 'CPU count (Windows only)', unsupported: true },
  { name: 'cpu-percent', type: 'int', desc: 'CPU percent (Windows only)', unsupported: true },
  { name: 'cpu-period', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', type: 'int', desc: 'Limit CPU real-time period in microseconds', unsupported: true },
  { name: 'cpu-rt-runtime', type: 'int', desc: 'Limit CPU real-time runtime in microseconds', unsupported: true },
  { name: 'cpu-shares', short: 'c', type: 'int', desc: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'decimal', desc: 'Number of CPUs' },
  { name: 'cpuset-cpus', type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'device', type: 'list', desc: 'Add a host device to the container', validate: validateDevice },
  { name: 'device-cgroup-rule', type: 'list', desc: 'Add a rule to the cgroup allowed devices list', validate: validateDeviceCgroupRule },
  { name: 'device-read-bps', type: 'list', desc: 'Limit read rate (bytes per second) from a device', validate: validateBps },
  { name: 'device-read-iops', type: 'list', desc: 'Limit read rate (IO per second) from a device', validate: validateIops },
  { name: 'device-write-bps', type: 'list', desc: 'Limit write rate (bytes per second) to a device', validate: validateBps },
  { name: 'device-write-iops', type: 'list', desc: 'Limit write rate (IO per second) to a device', validate: validateIops },
  // berth verifies no signatures, which is what the default asks for.
  { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image verification', unsupported: true },
  { name: 'dns', type: 'list', desc: 'Set custom DNS servers', validate: validateIPAddress },
  { name: 'dns-option', type: 'list', aliases: ['dns-opt'], desc: 'Set DNS options' },
  { name: 'dns-search', type: 'list', desc: 'Set custom DNS search domains', validate: validateDNSSearch },
  { name: 'domainname', type: 'string', desc: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', desc: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
  { name: 'env-file', type: 'list', desc: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', desc: 'Expose a port or a range of ports' },
  { name: 'gpus', type: 'list', meta: 'gpu-request', desc: "GPU devices to add to the container ('all' to pass all GPUs)", unsupported: true },
  { name: 'group-add', type: 'list', desc: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', desc: 'Command to run to check health' },
  { name: 'health-interval', type: 'duration', desc: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', desc: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'duration', desc: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', type: 'duration', desc: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'duration', desc: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  HELP_FLAG,
  { name: 'hostname', short: 'h', type: 'string', desc: 'Container host name' },
  { name: 'init', type: 'bool', desc: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
  { name: 'io-maxbandwidth', type: 'bytes', desc: 'Maximum IO bandwidth limit for the system drive (Windows only)', unsupported: true },
  { name: 'io-maxiops', type: 'uint', desc: 'Maximum IOps limit for the system drive (Windows only)', unsupported: true },
  { name: 'ip', type: 'string', desc: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', desc: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', type: 'string', desc: 'IPC mode to use' },
  { name: 'isolation', type: 'string', desc: 'Container isolation technology', unsupported: true },
  { name: 'kernel-memory', type: 'bytes', desc: 'Kernel memory limit', unsupported: true },
  { name: 'label', short: 'l', type: 'list', desc: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', desc: 'Read in a line delimited file of labels' },
  { name: 'link', type: 'list', desc: 'Add link to another container', validate: validateLink },
  { name: 'link-local-ip', type: 'list', desc: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'log-driver', type: 'string', desc: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', desc: 'Log driver options' },
  { name: 'mac-address', type: 'string', desc: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'memory', short: 'm', type: 'bytes', desc: 'Memory limit' },
  { name: 'memory-reservation', type: 'bytes', desc: 'Memory soft limit' },
  { name: 'memory-swap', type: 'bytes', desc: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'memory-swappiness', type: 'int', default: -1, desc: 'Tune container memory swappiness (0 to 100)' },
  { name: 'mount', type: 'list', meta: 'mount', desc: 'Attach a filesystem mount to the container', validate: checked(parseMount) },
  { name: 'name', type: 'string', desc: 'Assign a name to the container' },
  { name: 'network', type: 'list', meta: 'network', aliases: ['net'], desc: 'Connect a container to a network', validate: checked(parseNetworkOpt) },
  { name: 'network-alias', type: 'list', aliases: ['net-alias'], desc: 'Add network-scoped alias for the container' },
  { name: 'no-healthcheck', type: 'bool', desc: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', desc: 'Disable OOM Killer' },
  { name: 'oom-score-adj', type: 'int', desc: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pid', type: 'string', desc: 'PID namespace to use' },
  { name: 'pids-limit', type: 'int', desc: 'Tune container pids limit (set -1 for unlimited)' },
  // berthd does not take a platform on create.
  { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable', unsupported: true },
  { name: 'privileged', type: 'bool', desc: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', desc: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', desc: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', default: 'missing', desc: 'Pull image before running ("always", "missing", "never")' },
  { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', desc: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', default: 'no', desc: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', desc: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', desc: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', desc: 'Security Options' },
  { name: 'shm-size', type: 'bytes', desc: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', desc: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', desc: 'Timeout (in seconds) to stop a container' },
  { name: 'storage-opt', type: 'list', desc: 'Storage driver options for the container', unsupported: true },
  { name: 'sysctl', type: 'list', meta: 'map', desc: 'Sysctl options', validate: validateSysctl },
  { name: 'tmpfs', type: 'list', desc: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', meta: 'ulimit', desc: 'Ulimit options', validate: validateUlimit },
  { name: 'use-api-socket', type: 'bool', desc: 'Bind mount Docker API socket and required auth', unsupported: true },
  { name: 'user', short: 'u', type: 'string', desc: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', desc: 'User namespace to use' },
  { name: 'uts', type: 'string', desc: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', desc: 'Bind mount a volume' },
  { name: 'volume-driver', type: 'string', desc: 'Optional volume driver for the container' },
  { name: 'volumes-from', type: 'list', desc: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
];

// The create request berth makes: docker's fields, only those berth sets.
export type CreateBody = ContainerCreateRequest & {
  Hostname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  HostConfig: NonNullable<ContainerCreateRequest['HostConfig']> & { AutoRemove: boolean; NetworkMode: string };
};

const WHITESPACE = ' \t\n\v\f\r';

// docker's kvfile.Parse (--env-file, --label-file): KEY=VALUE lines kept
// verbatim; a bare KEY is taken from our environment when `env` is given
// (and dropped when unset there, or always for labels); # starts a comment.
export function parseEnvFile(text: string, file: string, env: NodeJS.ProcessEnv | undefined): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    line = line.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    let key = eq >= 0 ? line.slice(0, eq) : line;
    key = key.replace(/^[ \t\n\v\f\r]+/, '');
    if ([...key].some((c) => WHITESPACE.includes(c))) {
      throw new UsageError(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    }
    if (!key) throw new UsageError(`invalid env file (${file}): no variable name on line '${line}'`);
    if (eq >= 0) out.push(`${key}=${line.slice(eq + 1)}`);
    else if (env?.[key] !== undefined) out.push(`${key.trim()}=${env[key]}`);
  });
  return out;
}

export function readKVFiles(files: string[], env: NodeJS.ProcessEnv | undefined): string[] {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(err.code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${err.message}`);
    }
    out.push(...parseEnvFile(text, file, env));
  }
  return out;
}

// docker's opts.ValidateEnv: a bare KEY takes our value when we have one.
export function parseEnvFlag(value: string, env: NodeJS.ProcessEnv): string {
  const eq = value.indexOf('=');
  const key = eq >= 0 ? value.slice(0, eq) : value;
  if (!key) throw new UsageError(`invalid environment variable: ${value}`);
  if (eq >= 0) return value;
  return env[key] !== undefined ? `${key}=${env[key]}` : value;
}

export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid label '${v}': empty name`);
    if (eq < 0) labels[v] = '';
    else labels[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return labels;
}

// docker's MapOpts (--annotation): KEY=VALUE, or KEY for an empty value.
function parseMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

// --expose PORT[/PROTO] or START-END[/PROTO]: ExposedPorts keys, as docker
// spells them ("80/tcp").
export function parseExpose(values: string[]): Record<string, Record<string, never>> {
  return parsePorts([], values).exposed;
}

// encoding/json.Compact: the same JSON without insignificant whitespace
// (key order and number spelling kept, unlike a parse and stringify).
function compactJSON(text: string): string {
  JSON.parse(text);
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!' \t\r\n'.includes(c)) {
      out += c;
    }
  }
  return out;
}

// docker's parseSecurityOpts: seccomp=unconfined|builtin and other options
// pass through (berthd judges them), a seccomp profile file is sent as its
// JSON.
export function parseSecurityOpts(values: string[]): string[] {
  return values.map((opt) => {
    let eq = opt.indexOf('=');
    if (eq < 0 && opt !== 'no-new-privileges') eq = opt.indexOf(':');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (!value && key !== 'no-new-privileges') throw new UsageError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (key !== 'seccomp' || value === 'unconfined' || value === 'builtin') return opt;
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(`opening seccomp profile (${value}) failed: open ${value}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    }
    try {
      return `seccomp=${compactJSON(text)}`;
    } catch (e) {
      throw new UsageError(`compacting json for seccomp profile (${value}) failed: ${(e as Error).message}`);
    }
  });
}

// An error of docker's parse (after the flags were read): a usage error.
function wrapUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
}

// --cap-add/--cap-drop as docker 28 sends them: upper case, CAP_ prefixed
// (ALL kept), once each, sorted; the daemon applies the drops, then the adds.
function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u === 'ALL' || u === 'RESET' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}
export function effectiveCaps(add: string[], drop: string[]): { capAdd: string[]; capDrop: string[] } {
  return { capAdd: [...new Set(add.map(normalizeCap))].sort(), capDrop: [...new Set(drop.map(normalizeCap))].sort() };
}

// --device: docker's validateLinuxPath with validDeviceMode, giving the
// cleaned value parseLinuxDevice then reads.
const validDeviceMode = (m: string) => m !== '' && [...m].every((c, i) => 'rwm'.includes(c) && m.indexOf(c) === i);
const cleanPath = (p: string) => posix.normalize(p).replace(/(.)\/$/, '$1');
function validateDevice(val: string): string {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let out: string;
  if (split.length === 1) {
    containerPath = split[0];
    out = cleanPath(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1])) {
      containerPath = split[0];
      out = `${cleanPath(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1];
      out = `${split[0]}:${cleanPath(containerPath)}`;
    }
  } else {
    containerPath = split[1];
    if (!validDeviceMode(split[2])) throw new Error(`bad mode specified: ${split[2]}`);
    out = val;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  return out;
}

// docker's parseLinuxDevice.
function parseDevice(device: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const arr = device.split(':');
  let src = arr[0];
  let dst = '';
  let permissions = 'rwm';
  if (arr.length === 3) permissions = arr[2];
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1])) permissions = arr[1];
    else dst = arr[1];
  }
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: permissions };
}

function validateDeviceCgroupRule(v: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(v)) return v;
  throw new Error(`invalid device cgroup format '${v}'`);
}

// docker's ValidateSysctl: the namespaced ones only.
const SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
function validateSysctl(v: string): string {
  const k = v.split('=')[0];
  if (v.includes('=') && (SYSCTLS.includes(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.'))) return v;
  throw new Error(`sysctl '${v}' is not allowed`);
}

// The security fields of HostConfig, as docker fills them (zero ones left out).
function securityFields(f: Parsed['flags']): Record<string, unknown> {
  const { capAdd, capDrop } = effectiveCaps(f['cap-add'] as string[], f['cap-drop'] as string[]);
  const devices = (f.device as string[]).map(parseDevice);
  const sysctls = parseMap(f.sysctl as string[]);
  return {
    ...(capAdd.length ? { CapAdd: capAdd } : {}),
    ...(capDrop.length ? { CapDrop: capDrop } : {}),
    ...(f.privileged ? { Privileged: true } : {}),
    ...((f['group-add'] as string[]).length ? { GroupAdd: f['group-add'] } : {}),
    ...(Object.keys(sysctls).length ? { Sysctls: sysctls } : {}),
    ...(devices.length ? { Devices: devices } : {}),
    ...((f['device-cgroup-rule'] as string[]).length ? { DeviceCgroupRules: f['device-cgroup-rule'] } : {}),
  };
}

// docker's healthcheck flags: --no-healthcheck is Test NONE and excludes
// the others; any of them makes a HealthConfig (Test only with --health-cmd,
// run through the shell; zeros left out, as Go's omitempty leaves them).
function healthcheck(f: Parsed['flags']): Record<string, unknown> | undefined {
  const cmd = (f['health-cmd'] as string | undefined) ?? '';
  const n = (k: string) => (f[k] as number | undefined) ?? 0;
  const durations: [string, string][] = [['Interval', 'health-interval'], ['Timeout', 'health-timeout'], ['StartPeriod', 'health-start-period'], ['StartInterval', 'health-start-interval']];
  const any = cmd !== '' || durations.some(([, k]) => n(k) !== 0) || n('health-retries') !== 0;
  if (f['no-healthcheck']) {
    if (any) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  for (const k of ['health-interval', 'health-timeout', 'health-retries', 'health-start-period', 'health-start-interval']) {
    if (n(k) < 0) throw new UsageError(`--${k} cannot be negative`);
  }
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    ...Object.fromEntries(durations.filter(([, k]) => n(k)).map(([field, k]) => [field, n(k)])),
    ...(n('health-retries') ? { Retries: n('health-retries') } : {}),
  };
}

// consoleSize: our terminal's [height, width], sent with -t as docker does.
export function buildConfig(p: Parsed, env: NodeJS.ProcessEnv, opts: { detach: boolean; consoleSize?: [number, number] }): CreateBody {
  const f = p.flags;
  const [image, ...cmd] = p.args;
  const attach = new Set(f.attach as string[]);
  // Errors here are docker's parse errors: the run/create usage error.
  const ports = wrapUsage(() => parsePorts(f.publish, f.expose));
  const exposed = ports.exposed;
  wrapUsage(() => checkMAC(f['mac-address'] ?? ''));
  const vols = wrapUsage(() => parseVolumeFlags(f.volume));
  const mounts = (f.mount as string[]).map((m) => parseMount(m));
  const tmpfs = parseTmpfs(f.tmpfs);
  const net = wrapUsage(() =>
    networkEndpoints({
      networks: f.network,
      aliases: f['network-alias'],
      links: f.link,
      ipv4: f.ip ?? '',
      ipv6: f.ip6 ?? '',
      mac: f['mac-address'] ?? '',
      linkLocalIPs: f['link-local-ip'],
    }),
  );
  const restartPolicy = wrapUsage(() => parseRestartPolicy(f.restart ?? ''));
  const envList = readKVFiles(f['env-file'], env);
  for (const e of f.env as string[]) envList.push(parseEnvFlag(e, env));
  const labels = [...readKVFiles(f['label-file'], undefined), ...(f.label as string[])];
  // docker's parseSystemPaths: systempaths=unconfined is the client's, sent as
  // empty masked and read-only path lists.
  const unconfinedPaths = (f['security-opt'] as string[]).includes('systempaths=unconfined');
  const securityOpt = parseSecurityOpts((f['security-opt'] as string[]).filter((o) => o !== 'systempaths=unconfined'));
  const annotations = parseMap(f.annotation);
  const logOpts: string[] = f['log-opt'] ?? [];
  // The docker CLI's own check.
  if (f['log-driver'] === 'none' && logOpts.length) throw new UsageError('invalid logging opts for driver none');

  let entrypoint: string[] | null = null;
  if (f.entrypoint) entrypoint = [f.entrypoint];
  else if (p.changed.has('entrypoint')) entrypoint = [''];

  const interactive = Boolean(f.interactive);
  let attachStdin = attach.has('stdin') || interactive;
  let attachStdout = attach.has('stdout') || attach.size === 0;
  let attachStderr = attach.has('stderr') || attach.size === 0;
  // Closing the attached stdin ends the container's stdin (docker: -i on an attached run).
  let stdinOnce = interactive && attachStdin;
  if (opts.detach) attachStdin = attachStdout = attachStderr = stdinOnce = false;

  const health = healthcheck(f);
  if (f.rm && !isNoRestart(restartPolicy)) throw new UsageError('conflicting options: cannot specify both --restart and --rm');

  // Without --network docker names the endpoint it wants ("default"); with
  // one and nothing to say about it, it leaves the endpoint to the daemon.
  const endpoints: Record<string, EndpointSettings> = net.endpoints;
  return {
    Hostname: f.hostname ?? '',
    ...(f.domainname ? { Domainname: f.domainname } : {}),
    User: f.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: Boolean(f.tty),
    OpenStdin: interactive,
    StdinOnce: stdinOnce,
    Env: envList.length ? envList : null,
    Cmd: cmd.length ? cmd : null,
    ...(health ? { Healthcheck: health } : {}),
    Image: image,
    WorkingDir: f.workdir ?? '',
    Entrypoint: entrypoint,
    ...(Object.keys(vols.volumes).length ? { Volumes: vols.volumes } : {}),
    Labels: parseLabels(labels),
    ...(f['stop-signal'] ? { StopSignal: f['stop-signal'] } : {}),
    ...(p.changed.has('stop-timeout') ? { StopTimeout: f['stop-timeout'] } : {}),
    HostConfig: {
      ...(f.cidfile ? { ContainerIDFile: f.cidfile } : {}),
      ...(f.tty && opts.consoleSize ? { ConsoleSize: opts.consoleSize } : {}),
      AutoRemove: Boolean(f.rm),
      NetworkMode: net.mode,
      ...(p.changed.has('restart') ? { RestartPolicy: restartPolicy as NonNullable<HostConfig['RestartPolicy']> } : {}),
      ...(vols.binds.length ? { Binds: vols.binds } : {}),
      ...(Object.keys(ports.bindings).length ? { PortBindings: ports.bindings } : {}),
      ...(f['publish-all'] ? { PublishAllPorts: true } : {}),
      ...(f.link.length ? { Links: f.link } : {}),
      ...(f.dns.length ? { Dns: f.dns } : {}),
      ...(f['dns-option'].length ? { DnsOptions: f['dns-option'] } : {}),
      ...(f['dns-search'].length ? { DnsSearch: f['dns-search'] } : {}),
      ...(f['add-host'].length ? { ExtraHosts: f['add-host'] } : {}),
      ...(f['volumes-from'].length ? { VolumesFrom: f['volumes-from'] } : {}),
      ...(f['volume-driver'] ? { VolumeDriver: f['volume-driver'] } : {}),
      ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
      // The type goes as given; the daemon names one it does not know.
      ...(mounts.length ? { Mounts: mounts as NonNullable<HostConfig['Mounts']> } : {}),
      ...(f['read-only'] ? { ReadonlyRootfs: true } : {}),
      // As docker: sent only when given, so --init=false opts out of the daemon's default.
      ...(p.changed.has('init') ? { Init: Boolean(f.init) } : {}),
      ...securityFields(f),
      ...(unconfinedPaths ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
      ...(securityOpt.length ? { SecurityOpt: securityOpt } : {}),
      ...(f.runtime ? { Runtime: f.runtime } : {}),
      ...(Object.keys(annotations).length ? { Annotations: annotations } : {}),
      // Namespaces and the log driver go as given; berthd refuses, by name,
      // the values it does not apply.
      ...(f.pid ? { PidMode: f.pid } : {}),
      ...(f.ipc ? { IpcMode: f.ipc } : {}),
      ...(f.uts ? { UTSMode: f.uts } : {}),
      ...(f.userns ? { UsernsMode: f.userns } : {}),
      ...(f.cgroupns ? { CgroupnsMode: f.cgroupns } : {}),
      ...resourceFields(p),
      ...(f['log-driver'] || logOpts.length ? { LogConfig: { Type: f['log-driver'] ?? '', Config: parseMap(logOpts) } } : {}),
    },
    ...(Object.keys(endpoints).length ? { NetworkingConfig: { EndpointsConfig: endpoints } } : {}),
  };
}
