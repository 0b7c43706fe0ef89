// What berth does with each field of a create body (`POST /containers/create`:
// ContainerConfig, HostConfig, NetworkingConfig in the Engine API 1.51
// spec). One table: the body is type-checked from it, values are checked,
// fields that are not applied are refused by name, docs/COMPATIBILITY.md is
// generated from it, and a unit test fails when the spec has a field the
// table lacks.
//
// Clients send every field with its zero value (the docker CLI sends
// `"Memory": 0`, `"CapAdd": null`), so a zero value is always accepted; only a
// value that asks for something is refused.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { checkDriver } from '../../engine/logs/settings';
import { invalidArgument } from '../../errors';
import { parseSignal } from '../../util/signals';
import { isSeccompOption, seccompOption } from '../containers/seccomp';

// 'object' is a struct (zero when all its fields are); 'map' and 'stringmap'
// have keys that are data (`{"/data": {}}` asks for a volume), so they are
// zero only when empty.
export type JsonType = 'string' | 'boolean' | 'integer' | 'strings' | 'strOrStrings' | 'stringmap' | 'map' | 'object' | 'array';

export type Status =
  // Applied: it takes effect (or, for metadata, is kept and shown).
  | 'applied'
  // Applied for some values; the others are refused (see `check`).
  | 'partial'
  // Refused unless zero: berth does not do this yet.
  | 'refused'
  // Accepted and without effect by design (Windows-only, or client-side);
  // the note says why. Non-zero values of Windows-only fields are refused.
  | 'ignored';

export interface FieldRule {
  type: JsonType;
  status: Status;
  // For the docs: what is applied, why not, or which issue brings it.
  note?: string;
  // Values that count as "not set" besides null, "", 0, false, [], {}.
  zero?: unknown[];
  // Rejects a malformed value whatever the status (400 naming the field).
  validate?: (v: any, body: CreateBodyView) => void;
  // For partial fields: refuses the values that are not applied.
  check?: (v: any, body: CreateBodyView) => void;
}

// What checks may look at besides the field itself.
export interface CreateBodyView {
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
}

const NETWORKING = 'with bridge networking (issue 9)';
const VOLUMES = 'with volumes (issue 9)';
const LIMITS = 'with resource limits (issue 10)';
const SECURITY = 'with the security options (issue 10)';
const SUPERVISION = 'with supervision (issue 10)';
const WINDOWS = 'Windows only';

const applied = (type: JsonType, note?: string, extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'applied', note, ...extra });
const refused = (type: JsonType, note: string, extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'refused', note, ...extra });
const ignored = (type: JsonType, note: string, extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'ignored', note, ...extra });
const partial = (type: JsonType, note: string, check: FieldRule['check'], extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'partial', note, check, ...extra });

export const notSupported = (field: string, value?: unknown): Error =>
  invalidArgument(value === undefined ? `${field} is not supported yet` : `${field} ${JSON.stringify(value)} is not supported yet`);

const nonNegative = (field: string) => (v: number) => {
  if (v < 0) throw invalidArgument(`invalid ${field}: ${v}: it must not be negative`);
};

// "container:<name|id>" modes, as Docker spells them.
export const containerOf = (mode: string): string | undefined => (mode.startsWith('container:') ? mode.slice('container:'.length) : undefined);

function namespaceMode(field: string, allowed: string[]) {
  return (v: string) => {
    if (allowed.includes(v)) return;
    const other = containerOf(v);
    if (other !== undefined) {
      if (!other) throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}: no container named`);
      return;
    }
    throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}`);
  };
}

const RESTART_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

function validatePortBindings(v: Record<string, unknown>): void {
  for (const [port, bindings] of Object.entries(v)) {
    if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/.test(port) || Number(port.split(/[-/]/)[0]) > 65535) {
      throw invalidArgument(`invalid HostConfig.PortBindings port ${JSON.stringify(port)}`);
    }
    if (bindings === null) continue;
    if (!Array.isArray(bindings)) throw invalidArgument(`invalid HostConfig.PortBindings for ${port}: expected a list`);
    for (const b of bindings as { HostIp?: unknown; HostPort?: unknown }[]) {
      const hp = b?.HostPort;
      if (hp !== undefined && hp !== null && hp !== '') {
        const m = typeof hp === 'string' ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(hp) : null;
        if (!m || Number(m[1]) > 65535 || (m[2] !== undefined && Number(m[2]) > 65535)) {
          throw invalidArgument(`invalid HostConfig.PortBindings host port ${JSON.stringify(hp)} for ${port}: ports are 0-65535`);
        }
      }
    }
  }
}

// "0-2,4": well formed, and naming only CPUs (or memory nodes) the host has.
function validateCpuset(field: string, available: () => number) {
  return (v: string) => {
    if (v === '') return;
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}`);
    const n = available();
    const top = Math.max(...v.split(/[,-]/).map(Number));
    if (top >= n) throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}: this host has ${n === 1 ? '0' : `0-${n - 1}`}`);
  };
}

const cpuCount = () => os.cpus().length;
// Memory nodes: /sys/devices/system/node/online ("0" or "0-1"); 1 without NUMA.
function memNodes(): number {
  try {
    const online = fs.readFileSync('/sys/devices/system/node/online', 'utf8').trim();
    return Math.max(...online.split(/[,-]/).map(Number)) + 1;
  } catch {
    return 1;
  }
}

export const CREATE_FIELDS: Record<string, FieldRule> = {
  // ----- ContainerConfig -----
  'Config.Hostname': applied('string', 'default: the first 12 characters of the id; the host\'s name with host networking'),
  'Config.Domainname': applied('string'),
  'Config.User': applied('string', 'resolved against the container\'s /etc/passwd and /etc/group'),
  'Config.AttachStdin': applied('boolean', 'kept for `docker start -a`'),
  'Config.AttachStdout': applied('boolean', 'kept for `docker start -a`'),
  'Config.AttachStderr': applied('boolean', 'kept for `docker start -a`'),
  'Config.ExposedPorts': applied('map', 'kept and shown; publishing them (-P) comes ' + NETWORKING),
  'Config.Tty': applied('boolean', 'a pty (conmon -t, OCI `process.terminal`), `TERM=xterm` unless set; output is one raw stream'),
  'Config.OpenStdin': applied('boolean'),
  'Config.StdinOnce': applied('boolean'),
  'Config.Env': applied('strings'),
  'Config.Cmd': applied('strOrStrings'),
  'Config.Healthcheck': partial('object', '`{"Test": ["NONE"]}` (no healthcheck) only; healthchecks, an image\'s HEALTHCHECK too, come ' + SUPERVISION, (v) => {
    if (Array.isArray(v.Test) && v.Test.length === 1 && v.Test[0] === 'NONE') return;
    throw notSupported('Config.Healthcheck');
  }, {
    validate: (v) => {
      if (v.Test !== undefined && v.Test !== null && !(Array.isArray(v.Test) && v.Test.every((x: unknown) => typeof x === 'string'))) {
        throw invalidArgument('json: cannot unmarshal into field Config.Healthcheck.Test of type []string');
      }
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
        if (v[k] !== undefined && v[k] !== null && (typeof v[k] !== 'number' || !Number.isInteger(v[k]))) {
          throw invalidArgument(`json: cannot unmarshal into field Config.Healthcheck.${k} of type int64`);
        }
        if (typeof v[k] === 'number' && v[k] < 0) throw invalidArgument(`invalid Config.Healthcheck.${k}: it must not be negative`);
      }
    },
  }),
  'Config.ArgsEscaped': ignored('boolean', WINDOWS),
  'Config.Image': applied('string'),
  'Config.Volumes': refused('map', 'anonymous volumes come ' + VOLUMES + '; until then an image\'s VOLUME paths are part of the writable layer'),
  'Config.WorkingDir': applied('string', 'an absolute path; made when missing'),
  'Config.Entrypoint': applied('strOrStrings'),
  'Config.NetworkDisabled': applied('boolean', 'the container gets a network namespace with loopback only'),
  'Config.MacAddress': refused('string', 'deprecated; comes ' + NETWORKING),
  'Config.OnBuild': applied('strings', 'kept in the config, as Docker does'),
  'Config.Labels': applied('stringmap'),
  'Config.StopSignal': applied('string', 'the signal `docker stop` sends', { validate: (v) => { if (v) parseSignalNamed('Config.StopSignal', v); } }),
  'Config.StopTimeout': applied('integer', 'seconds `docker stop` waits before SIGKILL'),
  'Config.Shell': applied('strings', 'kept in the config, as Docker does'),

  // ----- HostConfig: resources -----
  'HostConfig.CpuShares': refused('integer', LIMITS, { validate: nonNegative('HostConfig.CpuShares') }),
  'HostConfig.Memory': refused('integer', LIMITS, { validate: nonNegative('HostConfig.Memory') }),
  'HostConfig.CgroupParent': refused('string', LIMITS),
  'HostConfig.BlkioWeight': refused('integer', LIMITS, {
    validate: (v: number) => {
      if (v !== 0 && (v < 10 || v > 1000)) throw invalidArgument(`invalid HostConfig.BlkioWeight ${v}: the range is 10-1000`);
    },
  }),
  'HostConfig.BlkioWeightDevice': refused('array', LIMITS),
  'HostConfig.BlkioDeviceReadBps': refused('array', LIMITS),
  'HostConfig.BlkioDeviceWriteBps': refused('array', LIMITS),
  'HostConfig.BlkioDeviceReadIOps': refused('array', LIMITS),
  'HostConfig.BlkioDeviceWriteIOps': refused('array', LIMITS),
  'HostConfig.CpuPeriod': refused('integer', LIMITS, { validate: nonNegative('HostConfig.CpuPeriod') }),
  'HostConfig.CpuQuota': refused('integer', LIMITS),
  'HostConfig.CpuRealtimePeriod': refused('integer', LIMITS, { validate: nonNegative('HostConfig.CpuRealtimePeriod') }),
  'HostConfig.CpuRealtimeRuntime': refused('integer', LIMITS, { validate: nonNegative('HostConfig.CpuRealtimeRuntime') }),
  'HostConfig.CpusetCpus': refused('string', LIMITS, { validate: validateCpuset('HostConfig.CpusetCpus', cpuCount) }),
  'HostConfig.CpusetMems': refused('string', LIMITS, { validate: validateCpuset('HostConfig.CpusetMems', memNodes) }),
  'HostConfig.Devices': refused('array', SECURITY),
  'HostConfig.DeviceCgroupRules': refused('strings', SECURITY),
  'HostConfig.DeviceRequests': refused('array', 'GPUs and other device requests are not planned'),
  'HostConfig.KernelMemoryTCP': refused('integer', 'deprecated by Docker and not applied by cgroup v2'),
  'HostConfig.MemoryReservation': refused('integer', LIMITS, { validate: nonNegative('HostConfig.MemoryReservation') }),
  'HostConfig.MemorySwap': refused('integer', LIMITS),
  'HostConfig.MemorySwappiness': refused('integer', LIMITS, {
    zero: [-1],
    validate: (v: number) => {
      if (v < -1 || v > 100) throw invalidArgument(`invalid HostConfig.MemorySwappiness ${v}: the range is 0-100`);
    },
  }),
  'HostConfig.NanoCpus': refused('integer', LIMITS, { validate: nonNegative('HostConfig.NanoCpus') }),
  'HostConfig.OomKillDisable': refused('boolean', LIMITS),
  'HostConfig.Init': refused('boolean', 'an init process (tini) comes ' + SUPERVISION),
  'HostConfig.PidsLimit': refused('integer', LIMITS, { zero: [-1] }),
  'HostConfig.Ulimits': refused('array', LIMITS),
  'HostConfig.CpuCount': ignored('integer', WINDOWS),
  'HostConfig.CpuPercent': ignored('integer', WINDOWS),
  'HostConfig.IOMaximumIOps': ignored('integer', WINDOWS),
  'HostConfig.IOMaximumBandwidth': ignored('integer', WINDOWS),

  // ----- HostConfig: the rest -----
  'HostConfig.Binds': refused('strings', 'bind mounts come ' + VOLUMES),
  'HostConfig.ContainerIDFile': ignored('string', 'written by the client (`docker run --cidfile`); dockerd ignores it too'),
  'HostConfig.LogConfig': partial('object', '`json-file` (the default, docker\'s file and name; rotated at 10m x 3 unless daemon.json\'s `log-opts` say otherwise: docker\'s default is unbounded), `local` (docker\'s format and defaults, 20m x 5, compressed) and `none`, with `max-size`, `max-file`, `compress`, `labels`, `labels-regex`, `env`, `env-regex` and `mode=blocking`; other drivers and opts (`tag`, `mode=non-blocking`, `max-buffer-size`) are refused by name; merged with daemon.json\'s `log-driver`/`log-opts` as dockerd does', (v) => {
    if (v.Type) checkDriver(v.Type);
    if (v.Config) for (const [k, x] of Object.entries(v.Config)) if (typeof x !== 'string') throw invalidArgument(`json: cannot unmarshal into field HostConfig.LogConfig.Config.${k} of type string`);
  }, {
    validate: (v) => {
      if (v.Type !== undefined && v.Type !== null && typeof v.Type !== 'string') throw invalidArgument('json: cannot unmarshal into field HostConfig.LogConfig.Type of type string');
      if (v.Config !== undefined && v.Config !== null && (typeof v.Config !== 'object' || Array.isArray(v.Config))) {
        throw invalidArgument('json: cannot unmarshal into field HostConfig.LogConfig.Config of type map[string]string');
      }
    },
  }),
  'HostConfig.NetworkMode': partial('string', '`bridge` (the default; for now a network namespace with loopback only, bridge networking comes ' + NETWORKING + '), `none`, `host`, `container:<name|id>`; an unknown network is 404', () => {}),
  'HostConfig.PortBindings': refused('map', 'port publishing comes ' + NETWORKING, { validate: validatePortBindings }),
  'HostConfig.RestartPolicy': partial('object', '`no` only; the other policies come ' + SUPERVISION, (v) => {
    if (v.Name && v.Name !== 'no') throw notSupported('HostConfig.RestartPolicy', v.Name);
  }, {
    validate: (v) => {
      if (v.Name !== undefined && v.Name !== null && (typeof v.Name !== 'string' || !RESTART_POLICIES.includes(v.Name))) {
        throw invalidArgument(`invalid restart policy ${JSON.stringify(v.Name)} in HostConfig.RestartPolicy.Name: expected no, always, unless-stopped or on-failure`);
      }
      const n = v.MaximumRetryCount;
      if (n !== undefined && n !== null) {
        if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidArgument('json: cannot unmarshal into field HostConfig.RestartPolicy.MaximumRetryCount of type int');
        if (n < 0) throw invalidArgument('invalid HostConfig.RestartPolicy.MaximumRetryCount: it must not be negative');
        if (n > 0 && v.Name !== 'on-failure') throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
      }
    },
  }),
  'HostConfig.AutoRemove': applied('boolean'),
  'HostConfig.VolumeDriver': refused('string', VOLUMES),
  'HostConfig.VolumesFrom': refused('strings', VOLUMES),
  'HostConfig.Mounts': refused('array', VOLUMES),
  'HostConfig.ConsoleSize': applied('array', '[rows, columns] of a TTY when it starts (OCI `process.consoleSize`); resize changes it later', {
    validate: (v) => {
      // Go decodes it into [2]uint: missing entries are 0, extra ones dropped.
      if (!v.every((n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) {
        throw invalidArgument(`invalid HostConfig.ConsoleSize ${JSON.stringify(v)}: it must be [height, width], unsigned integers`);
      }
    },
  }),
  'HostConfig.Annotations': applied('stringmap', 'passed to the OCI runtime as annotations'),
  'HostConfig.CapAdd': refused('strings', SECURITY),
  'HostConfig.CapDrop': refused('strings', SECURITY),
  'HostConfig.CgroupnsMode': partial('string', '`private` (the default); `host` comes ' + LIMITS, (v) => {
    if (v !== 'private') throw notSupported('HostConfig.CgroupnsMode', v);
  }, {
    validate: (v) => {
      if (!['', 'private', 'host'].includes(v)) throw invalidArgument(`invalid HostConfig.CgroupnsMode ${JSON.stringify(v)}`);
    },
  }),
  'HostConfig.Dns': refused('strings', NETWORKING),
  'HostConfig.DnsOptions': refused('strings', NETWORKING),
  'HostConfig.DnsSearch': refused('strings', NETWORKING),
  'HostConfig.ExtraHosts': refused('strings', NETWORKING),
  'HostConfig.GroupAdd': refused('strings', SECURITY),
  'HostConfig.IpcMode': partial('string', '`private`, `shareable` (both the container\'s own), `host`, `container:<name|id>`', (v) => {
    if (v === 'none') throw notSupported('HostConfig.IpcMode', v);
  }, { validate: namespaceMode('HostConfig.IpcMode', ['', 'private', 'shareable', 'host', 'none']) }),
  'HostConfig.Cgroup': refused('string', LIMITS),
  'HostConfig.Links': refused('strings', NETWORKING),
  'HostConfig.OomScoreAdj': refused('integer', LIMITS, {
    validate: (v: number) => {
      if (v < -1000 || v > 1000) throw invalidArgument(`invalid HostConfig.OomScoreAdj ${v}: the range is -1000 to 1000`);
    },
  }),
  'HostConfig.PidMode': partial('string', '`host`, `container:<name|id>`', () => {}, { validate: namespaceMode('HostConfig.PidMode', ['', 'host']) }),
  'HostConfig.Privileged': refused('boolean', SECURITY),
  'HostConfig.PublishAllPorts': refused('boolean', NETWORKING),
  'HostConfig.ReadonlyRootfs': applied('boolean'),
  'HostConfig.SecurityOpt': partial('strings', '`seccomp=unconfined` and `seccomp=builtin`; custom profiles, `no-new-privileges`, `label` and `apparmor` come ' + SECURITY, (v: string[]) => {
    seccompOption(v); // a bad seccomp value says what is wrong with it
    const other = v.find((o) => !isSeccompOption(o));
    if (other !== undefined) throw notSupported('HostConfig.SecurityOpt', other);
  }),
  'HostConfig.StorageOpt': refused('stringmap', 'per-container storage options are not planned'),
  'HostConfig.Tmpfs': refused('stringmap', VOLUMES, {
    validate: (v: Record<string, string>) => {
      for (const p of Object.keys(v)) if (!p.startsWith('/')) throw invalidArgument(`invalid HostConfig.Tmpfs mount point ${JSON.stringify(p)}: it must be an absolute path`);
    },
  }),
  'HostConfig.UTSMode': partial('string', '`host`', () => {}, {
    validate: (v) => {
      if (!['', 'host'].includes(v)) throw invalidArgument(`invalid HostConfig.UTSMode ${JSON.stringify(v)}`);
    },
  }),
  'HostConfig.UsernsMode': partial('string', '`host` (the default: containers do not get a user namespace)', (v) => {
    if (v !== 'host') throw notSupported('HostConfig.UsernsMode', v);
  }),
  'HostConfig.ShmSize': refused('integer', LIMITS, { validate: nonNegative('HostConfig.ShmSize') }),
  'HostConfig.Sysctls': refused('stringmap', SECURITY),
  'HostConfig.Runtime': applied('string', 'a runtime the daemon knows (`--add-runtime`)'),
  'HostConfig.Isolation': partial('string', '`default` only (other values are Windows only)', (v) => {
    if (v !== 'default') throw notSupported('HostConfig.Isolation', v);
  }),
  'HostConfig.MaskedPaths': applied('strings', 'replaces the default masked paths'),
  'HostConfig.ReadonlyPaths': applied('strings', 'replaces the default read-only paths'),

  // ----- NetworkingConfig -----
  'NetworkingConfig.EndpointsConfig': partial('map', 'an entry for the container\'s own network, with no settings; aliases, addresses, links and driver options come ' + NETWORKING, (v) => {
    for (const [net, ep] of Object.entries(v as Record<string, Record<string, unknown> | null>)) {
      for (const [k, val] of Object.entries(ep ?? {})) {
        if (!isZero(val)) throw notSupported(`NetworkingConfig.EndpointsConfig.${net}.${k}`);
      }
    }
  }, {
    validate: (v: Record<string, unknown>, body) => {
      const mode = String(body.hostConfig.NetworkMode || 'default');
      const own = mode === 'default' || mode === 'bridge' ? ['default', 'bridge'] : [mode];
      for (const net of Object.keys(v)) {
        if (!own.includes(net)) throw notSupported(`NetworkingConfig.EndpointsConfig: connecting to ${JSON.stringify(net)} besides the container's network mode`);
      }
    },
  }),
};

function parseSignalNamed(field: string, v: string): void {
  try {
    parseSignal(v);
  } catch {
    throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}: not a signal`);
  }
}

// null, "", 0, false, lists holding only such values, structs whose fields
// all are, and empty maps.
export function isZero(v: unknown, t?: JsonType): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.every((x) => isZero(x));
  if (typeof v === 'object') {
    if (t === 'map' || t === 'stringmap') return Object.keys(v as object).length === 0;
    return Object.values(v as object).every((x) => isZero(x));
  }
  return false;
}

const GO_TYPE: Record<JsonType, string> = {
  string: 'string', boolean: 'boolean', integer: 'number', strings: '[]string', strOrStrings: '[]string',
  stringmap: 'map[string]string', map: 'object', object: 'object', array: 'array',
};

function typeOk(v: unknown, t: JsonType): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'strings': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'strOrStrings': return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    case 'stringmap': return typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string');
    case 'object': case 'map': return typeof v === 'object' && !Array.isArray(v);
    case 'array': return Array.isArray(v);
  }
}

// Go's message for a value of the wrong JSON type, naming the field (an
// integer field given 1.5 says "number" too).
export function checkType(field: string, v: unknown, t: JsonType): void {
  if (v === null || v === undefined || typeOk(v, t)) return;
  const got = Array.isArray(v) ? 'array' : typeof v;
  throw invalidArgument(`json: cannot unmarshal ${got} into field ${field} of type ${GO_TYPE[t]}`);
}

const SECTIONS = [['Config', (b: CreateBodyView) => b.config], ['HostConfig', (b: CreateBodyView) => b.hostConfig]] as const;

// Type-checks every known field of the body (unknown ones pass: a newer
// client may send them; checkFields refuses the ones that ask for something).
export function checkTypes(body: CreateBodyView, networking: unknown): void {
  for (const [section, get] of SECTIONS) {
    const obj = get(body);
    for (const [key, v] of Object.entries(obj)) {
      const rule = CREATE_FIELDS[`${section}.${key}`];
      if (rule) checkType(`${section}.${key}`, v, rule.type);
    }
  }
  checkType('NetworkingConfig', networking, 'object');
  const eps = (networking as Record<string, unknown> | null | undefined)?.EndpointsConfig;
  checkType('NetworkingConfig.EndpointsConfig', eps, 'object');
}

// Applies the table: malformed values and non-zero values of fields that are
// not applied (or of fields berth does not know) are 400s naming the field.
export function checkFields(body: CreateBodyView, networking: Record<string, unknown> | undefined): void {
  const view = (field: string, v: unknown): void => {
    const rule = CREATE_FIELDS[field];
    if (!rule) {
      if (!isZero(v)) throw invalidArgument(`unknown field ${field}`);
      return;
    }
    if (v === null || v === undefined) return;
    rule.validate?.(v, body);
    if (isZero(v, rule.type) || rule.zero?.includes(v)) return;
    if (rule.status === 'refused') throw notSupported(field);
    if (rule.status === 'ignored' && rule.note === WINDOWS) throw notSupported(field);
    if (rule.status === 'partial') rule.check?.(v, body);
  };
  for (const [section, get] of SECTIONS) {
    for (const [key, v] of Object.entries(get(body))) {
      if (section === 'Config' && (key === 'HostConfig' || key === 'NetworkingConfig')) continue;
      view(`${section}.${key}`, v);
    }
  }
  for (const [key, v] of Object.entries(networking ?? {})) view(`NetworkingConfig.${key}`, v);
}
