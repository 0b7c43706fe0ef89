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
import { checkDriver } from '../../engine/logs/settings';
import { invalidArgument } from '../../errors';
import { parseSignal } from '../../util/signals';
import { securityOptions } from '../containers/seccomp';
import { normalizeCapabilities, parseDeviceCgroupRule } from '../../engine/runtime/security';

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

// dockerd's ValidateRestartPolicy, for create and update: "" (what clients
// before 25.0 sent for none) passes with any count.
export function validateRestartPolicy(v: { Name?: unknown; MaximumRetryCount?: unknown }, field = 'HostConfig.RestartPolicy'): void {
  if (v.Name !== undefined && v.Name !== null && typeof v.Name !== 'string') throw invalidArgument(`json: cannot unmarshal into field ${field}.Name of type string`);
  const n = v.MaximumRetryCount ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidArgument(`json: cannot unmarshal into field ${field}.MaximumRetryCount of type int`);
  switch (v.Name ?? '') {
    case '':
      return;
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (n !== 0) throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'${n < 0 ? ' and cannot be negative' : ''}`);
      return;
    case 'on-failure':
      if (n < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
      return;
    default:
      throw invalidArgument(`invalid restart policy: unknown policy '${v.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

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

// DeviceMapping entries: PathOnHost, PathInContainer, CgroupPermissions.
function validateDevices(v: unknown[]): void {
  for (const d of v as Record<string, unknown>[]) {
    if (!d || typeof d !== 'object' || typeof d.PathOnHost !== 'string' || !d.PathOnHost) {
      throw invalidArgument('invalid HostConfig.Devices entry: PathOnHost is required');
    }
    for (const k of ['PathInContainer', 'CgroupPermissions']) {
      if (d[k] !== undefined && d[k] !== null && typeof d[k] !== 'string') throw invalidArgument(`json: cannot unmarshal into field HostConfig.Devices.${k} of type string`);
    }
  }
}

// Config.Healthcheck's types, and dockerd's checks (validateHealthCheck:
// each duration set is at least 1ms, retries not negative), and a test
// berth can run.
function validateHealthcheck(v: Record<string, unknown>): void {
  if (v.Test !== undefined && v.Test !== null && !(Array.isArray(v.Test) && v.Test.every((x: unknown) => typeof x === 'string'))) {
    throw invalidArgument('json: cannot unmarshal into field Config.Healthcheck.Test of type []string');
  }
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
    if (v[k] !== undefined && v[k] !== null && (typeof v[k] !== 'number' || !Number.isInteger(v[k]))) {
      throw invalidArgument(`json: cannot unmarshal into field Config.Healthcheck.${k} of type int64`);
    }
  }
  const ns = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : 0);
  for (const k of ['Interval', 'Timeout']) if (ns(k) !== 0 && ns(k) < 1e6) throw invalidArgument(`${k} in Healthcheck cannot be less than 1ms`);
  if (ns('Retries') < 0) throw invalidArgument('Retries in Healthcheck cannot be negative');
  for (const k of ['StartPeriod', 'StartInterval']) if (ns(k) !== 0 && ns(k) < 1e6) throw invalidArgument(`${k} in Healthcheck cannot be less than 1ms`);
  const test = (v.Test as string[] | null | undefined) ?? [];
  if (test.length === 0) return; // the image's test
  if (!['NONE', 'CMD', 'CMD-SHELL'].includes(test[0])) {
    throw invalidArgument(`invalid Config.Healthcheck.Test: unknown type ${JSON.stringify(test[0])} (expected NONE, CMD or CMD-SHELL)`);
  }
  if (test[0] !== 'NONE' && test.length < 2) throw invalidArgument(`invalid Config.Healthcheck.Test: ${test[0]} needs a command`);
}

export const CREATE_FIELDS: Record<string, FieldRule> = {
  // ----- ContainerConfig -----
  'Config.Hostname': applied('string', 'default: the first 12 characters of the id; the host\'s name with host networking'),
  'Config.Domainname': applied('string'),
  'Config.User': applied('string', 'resolved against the container\'s /etc/passwd and /etc/group'),
  'Config.AttachStdin': applied('boolean', 'kept for `docker start -a`'),
  'Config.AttachStdout': applied('boolean', 'kept for `docker start -a`'),
  'Config.AttachStderr': applied('boolean', 'kept for `docker start -a`'),
  'Config.ExposedPorts': applied('map', 'kept and shown; `PublishAllPorts` (-P) publishes them'),
  'Config.Tty': applied('boolean', 'a pty (conmon -t, OCI `process.terminal`), `TERM=xterm` unless set; output is one raw stream'),
  'Config.OpenStdin': applied('boolean'),
  'Config.StdinOnce': applied('boolean'),
  'Config.Env': applied('strings'),
  'Config.Cmd': applied('strOrStrings'),
  'Config.Healthcheck': applied('object', 'run in the container as exec processes (`CMD`, `CMD-SHELL` through Config.Shell or `/bin/sh -c`; `NONE` turns off the image\'s), merged field by field over the image\'s HEALTHCHECK; dockerd\'s defaults (30s interval and timeout, 3 retries, 5s start interval) and its 1ms minimum; `State.Health`, `health_status` events', {
    validate: validateHealthcheck,
  }),
  'Config.ArgsEscaped': ignored('boolean', WINDOWS),
  'Config.Image': applied('string'),
  'Config.Volumes': applied('map', 'anonymous volumes (with the image\'s VOLUMEs), filled from the image\'s content; removed with the container by `rm -v` and `--rm`'),
  'Config.WorkingDir': applied('string', 'an absolute path; made when missing'),
  'Config.Entrypoint': applied('strOrStrings'),
  'Config.NetworkDisabled': applied('boolean', 'the container gets a network namespace with loopback only'),
  'Config.MacAddress': applied('string', 'deprecated: the MAC address on the container\'s primary network (bridge networks only)'),
  'Config.OnBuild': applied('strings', 'kept in the config, as Docker does'),
  'Config.Labels': applied('stringmap'),
  'Config.StopSignal': applied('string', 'the signal `docker stop` sends', { validate: (v) => { if (v) parseSignalNamed('Config.StopSignal', v); } }),
  'Config.StopTimeout': applied('integer', 'seconds `docker stop` waits before SIGKILL'),
  'Config.Shell': applied('strings', 'kept in the config, as Docker does'),

  // ----- HostConfig: resources -----
  // Applied through the container's cgroup (server/containers/resources.ts
  // checks them with dockerd's messages; a limit the host's cgroups lack is
  // dropped with dockerd's warning in the create response).
  'HostConfig.CpuShares': applied('integer', 'cpu.shares (cpu.weight on cgroup v2)'),
  'HostConfig.Memory': applied('integer', 'memory.limit_in_bytes (memory.max); at least 6MB; swap defaults to as much again, as in Docker'),
  'HostConfig.CgroupParent': applied('string', 'the cgroup the container\'s goes under (cgroupfs: a path, made absolute; systemd: a slice)'),
  'HostConfig.BlkioWeight': applied('integer', 'blkio.weight / io.weight where the I/O scheduler has weights (10-1000); otherwise dropped with dockerd\'s warning'),
  'HostConfig.BlkioWeightDevice': applied('array', 'per-device weights, as BlkioWeight; the device path is stat\'d on the host'),
  'HostConfig.BlkioDeviceReadBps': applied('array', 'blkio.throttle.read_bps_device (io.max rbps)'),
  'HostConfig.BlkioDeviceWriteBps': applied('array', 'blkio.throttle.write_bps_device (io.max wbps)'),
  'HostConfig.BlkioDeviceReadIOps': applied('array', 'blkio.throttle.read_iops_device (io.max riops)'),
  'HostConfig.BlkioDeviceWriteIOps': applied('array', 'blkio.throttle.write_iops_device (io.max wiops)'),
  'HostConfig.CpuPeriod': applied('integer', 'cpu.cfs_period_us (cpu.max), 1000-1000000'),
  'HostConfig.CpuQuota': applied('integer', 'cpu.cfs_quota_us (cpu.max), at least 1000'),
  'HostConfig.CpuRealtimePeriod': refused('integer', 'real-time scheduling needs the daemon\'s --cpu-rt-runtime, which berthd does not have', { validate: nonNegative('HostConfig.CpuRealtimePeriod') }),
  'HostConfig.CpuRealtimeRuntime': refused('integer', 'real-time scheduling needs the daemon\'s --cpu-rt-runtime, which berthd does not have', { validate: nonNegative('HostConfig.CpuRealtimeRuntime') }),
  'HostConfig.CpusetCpus': applied('string', 'cpuset.cpus; only CPUs the host has'),
  'HostConfig.CpusetMems': applied('string', 'cpuset.mems; only memory nodes the host has'),
  'HostConfig.Devices': applied('array', 'each host node (or every node under a host directory) made at its container path by runc, with its cgroup rule; a path that is not a device is a 400', { validate: validateDevices }),
  'HostConfig.DeviceCgroupRules': applied('strings', '`c|b|a major:minor rwm`, `*` for any number', { validate: (v: string[]) => v.forEach((r) => parseDeviceCgroupRule(r)) }),
  'HostConfig.DeviceRequests': refused('array', 'GPUs and other device requests are not planned'),
  'HostConfig.KernelMemoryTCP': refused('integer', 'deprecated by Docker and not applied by cgroup v2'),
  'HostConfig.MemoryReservation': applied('integer', 'memory.soft_limit_in_bytes (memory.low); at least 6MB'),
  'HostConfig.MemorySwap': applied('integer', 'memory plus swap (memory.memsw.limit_in_bytes; memory.swap.max on v2); -1 is unlimited'),
  'HostConfig.MemorySwappiness': applied('integer', 'memory.swappiness (cgroup v1 only; dropped with dockerd\'s warning on v2)', { zero: [-1] }),
  'HostConfig.NanoCpus': applied('integer', 'a CFS quota over a 100ms period; at most the host\'s CPUs'),
  'HostConfig.OomKillDisable': applied('boolean', 'memory.oom_control (cgroup v1 only; dropped with dockerd\'s warning on v2)'),
  'HostConfig.Init': applied('boolean', 'tini (Debian\'s static build, or the daemon\'s `init-path`) bound read-only at /sbin/docker-init runs the command as pid 1, forwarding signals and reaping orphans; unset (null) is daemon.json\'s `init`; only with a pid namespace of the container\'s own, as dockerd'),
  'HostConfig.PidsLimit': applied('integer', 'pids.max; 0 and -1 are unlimited', { zero: [-1] }),
  'HostConfig.Ulimits': applied('array', 'OCI process.rlimits; a hard limit above the daemon\'s is refused when berthd lacks CAP_SYS_RESOURCE'),
  'HostConfig.CpuCount': ignored('integer', WINDOWS),
  'HostConfig.CpuPercent': ignored('integer', WINDOWS),
  'HostConfig.IOMaximumIOps': ignored('integer', WINDOWS),
  'HostConfig.IOMaximumBandwidth': ignored('integer', WINDOWS),

  // ----- HostConfig: the rest -----
  'HostConfig.Binds': applied('strings', '`host:ctr[:ro|rw|z|Z|propagation|nocopy]` (a missing host path is made as a directory) and `name:ctr` (a named volume, made if missing)'),
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
  'HostConfig.NetworkMode': applied('string', '`bridge` (the default), `none`, `host`, `container:<name|id>`, or a user-defined bridge network by name or id; an unknown network is 404 `network <name> not found`'),
  'HostConfig.PortBindings': applied('map', 'DNAT by netavark from every host address (or `HostIp`) and 127.0.0.1; the host port is held; an empty `HostPort` is an ephemeral port; IPv4 only; sctp is refused', { validate: validatePortBindings }),
  'HostConfig.RestartPolicy': applied('object', '`no`, `always`, `unless-stopped`, `on-failure[:N]` as dockerd: a back-off of 100 ms doubled at each restart up to 1 min (back to 100 ms after a 10 s run); a container stopped or killed by a client is not restarted; at daemon start, containers that exited meanwhile are restarted by their policy, and `always` and `unless-stopped` (unless stopped by a client) ones are started; not with `AutoRemove`', {
    validate: (v) => validateRestartPolicy(v),
  }),
  'HostConfig.AutoRemove': applied('boolean'),
  'HostConfig.VolumeDriver': partial('string', '`local` only (no volume plugins)', (v) => {
    if (v !== 'local') throw notSupported('HostConfig.VolumeDriver', v);
  }),
  'HostConfig.VolumesFrom': applied('strings', '`container[:ro|:rw]`: its binds and volumes'),
  'HostConfig.Mounts': partial('array', '`bind` (ReadOnly, Propagation, NonRecursive, CreateMountpoint), `volume` (NoCopy, Labels, the `local` driver and its options), `tmpfs` (SizeBytes, Mode, Options); `image` mounts, `Subpath` and the ReadOnly*Recursive bind options are refused by name', () => {}),
  'HostConfig.ConsoleSize': applied('array', '[rows, columns] of a TTY when it starts (OCI `process.consoleSize`); resize changes it later', {
    validate: (v) => {
      // Go decodes it into [2]uint: missing entries are 0, extra ones dropped.
      if (!v.every((n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) {
        throw invalidArgument(`invalid HostConfig.ConsoleSize ${JSON.stringify(v)}: it must be [height, width], unsigned integers`);
      }
    },
  }),
  'HostConfig.Annotations': applied('stringmap', 'passed to the OCI runtime as annotations'),
  'HostConfig.CapAdd': applied('strings', 'with or without `CAP_`, any case, or `ALL`; applied after CapDrop, as Docker; `ALL` is every capability berthd holds, and one it does not hold (CAP_SYS_RESOURCE on some hosts) is refused by name', { validate: (v: string[]) => normalizeCapabilities(v) }),
  'HostConfig.CapDrop': applied('strings', 'from Docker\'s 14 defaults; `ALL` keeps only CapAdd', { validate: (v: string[]) => normalizeCapabilities(v) }),
  'HostConfig.CgroupnsMode': applied('string', '`private` (the default, also on cgroup v1, where dockerd defaults to `host`) or `host`'),
  'HostConfig.Dns': applied('strings', 'the nameservers in /etc/resolv.conf (on a user-defined network after the network\'s own DNS server)'),
  'HostConfig.DnsOptions': applied('strings', '`options` in /etc/resolv.conf'),
  'HostConfig.DnsSearch': applied('strings', '`search` in /etc/resolv.conf'),
  'HostConfig.ExtraHosts': applied('strings', '`name:ip` (or `name=ip`) lines in /etc/hosts; `host-gateway` is the default bridge\'s gateway'),
  'HostConfig.GroupAdd': applied('strings', 'names resolved in the container\'s /etc/group (read inside its root), or numeric gids; exec sessions get them too'),
  'HostConfig.IpcMode': partial('string', '`private`, `shareable` (both the container\'s own), `host`, `container:<name|id>`', (v) => {
    if (v === 'none') throw notSupported('HostConfig.IpcMode', v);
  }, { validate: namespaceMode('HostConfig.IpcMode', ['', 'private', 'shareable', 'host', 'none']) }),
  'HostConfig.Cgroup': refused('string', 'joining another container\'s cgroup is not planned'),
  'HostConfig.Links': applied('strings', '`name[:alias]`: the running container\'s address under its name, alias and short id in /etc/hosts'),
  'HostConfig.OomScoreAdj': applied('integer', 'OCI process.oomScoreAdj; a negative value is refused when berthd lacks CAP_SYS_RESOURCE (it could not lower it)'),
  'HostConfig.PidMode': partial('string', '`host`, `container:<name|id>`', () => {}, { validate: namespaceMode('HostConfig.PidMode', ['', 'host']) }),
  'HostConfig.Privileged': applied('boolean', 'every capability berthd holds (not CAP_SYS_RESOURCE where root lacks it: dockerd fails there), every host device, no seccomp, no masked or read-only paths, /sys and the cgroup tree writable, all devices allowed in the cgroup'),
  'HostConfig.PublishAllPorts': applied('boolean', 'every exposed port without a binding gets an ephemeral host port'),
  'HostConfig.ReadonlyRootfs': applied('boolean'),
  'HostConfig.SecurityOpt': partial('strings', '`seccomp=unconfined|builtin|<profile JSON>` (Docker\'s format: names, actions, args, includes/excludes), `no-new-privileges[=true|false]`, `apparmor=unconfined`, `label=disable`; other AppArmor profiles and SELinux labels are refused (neither is used by berth or present here)', (v: string[]) => {
    securityOptions(v);
  }),
  'HostConfig.StorageOpt': refused('stringmap', 'per-container storage options are not planned'),
  'HostConfig.Tmpfs': applied('stringmap', '`/path: options` (Docker\'s defaults noexec, nosuid, nodev, under the given ones)', {
    validate: (v: Record<string, string>) => {
      for (const p of Object.keys(v)) if (!p.startsWith('/')) throw invalidArgument(`invalid HostConfig.Tmpfs mount point ${JSON.stringify(p)}: it must be an absolute path`);
    },
  }),
  'HostConfig.UTSMode': partial('string', '`host`', () => {}, {
    validate: (v) => {
      if (!['', 'host'].includes(v)) throw invalidArgument(`invalid HostConfig.UTSMode ${JSON.stringify(v)}`);
    },
  }),
  'HostConfig.UsernsMode': partial('string', '`host`: no user namespace when the daemon remaps (daemon.json `userns-remap`, where every other container gets one: root in it is the remapped range\'s first id; `Privileged`, `NetworkMode` and `PidMode` `host` need it, as dockerd); without remapping, no container gets one', (v) => {
    if (v !== 'host') throw notSupported('HostConfig.UsernsMode', v);
  }),
  'HostConfig.ShmSize': applied('integer', 'the size of the /dev/shm tmpfs (64MB when 0)'),
  'HostConfig.Sysctls': applied('stringmap', 'namespaced ones only, by runc\'s rules: `net.*` (not with host networking), `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*` (not with the host\'s IPC), `kernel.domainname`; others are refused with runc\'s message'),
  'HostConfig.Runtime': applied('string', 'a runtime the daemon knows (`--add-runtime`)'),
  'HostConfig.Isolation': partial('string', '`default` only (other values are Windows only)', (v) => {
    if (v !== 'default') throw notSupported('HostConfig.Isolation', v);
  }),
  'HostConfig.MaskedPaths': applied('strings', 'replaces the default masked paths'),
  'HostConfig.ReadonlyPaths': applied('strings', 'replaces the default read-only paths'),

  // ----- NetworkingConfig -----
  'NetworkingConfig.EndpointsConfig': partial('map', 'per network: `IPAMConfig.IPv4Address`, `Aliases`, `MacAddress`, `Links` (as HostConfig.Links: in /etc/hosts); `bridge` is the primary network unless `NetworkMode` names another; a network besides the container\'s own mode is joined too (bridge networks only)', (v) => {
    for (const [net, ep] of Object.entries(v as Record<string, Record<string, unknown> | null>)) {
      for (const [k, val] of Object.entries(ep ?? {})) {
        if (['IPAMConfig', 'Aliases', 'MacAddress', 'Links', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen', 'DNSNames'].includes(k)) continue;
        if (!isZero(val)) throw notSupported(`NetworkingConfig.EndpointsConfig.${net}.${k}`);
      }
      const ipam = (ep?.IPAMConfig ?? {}) as Record<string, unknown>;
      for (const [k, val] of Object.entries(ipam)) {
        if (k !== 'IPv4Address' && !isZero(val)) throw notSupported(`NetworkingConfig.EndpointsConfig.${net}.IPAMConfig.${k}`);
      }
    }
  }, {
    validate: (v: Record<string, unknown>, body) => {
      const mode = String(body.hostConfig.NetworkMode || 'default');
      if (['host', 'none'].includes(mode) || containerOf(mode) !== undefined) {
        for (const net of Object.keys(v)) {
          if (net !== mode) throw invalidArgument(`container sharing network namespace with another container or host cannot be connected to any other network (${net})`);
        }
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
