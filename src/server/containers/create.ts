// `POST /containers/create`: Docker's body becomes the engine's
// ContainerSpec. Here, and only here, live the body's types and checks (the
// field table), the merge with the image's config, and NetworkMode's
// spellings. The body as merged is kept with the container (meta) for
// inspect and commit.
import { DEFAULT_JSON_FILE_OPTS, DEFAULT_LOG_DRIVER, logSettings, mergeLogConfig } from '../../engine/logs/settings';
import { invalidArgument, notFound } from '../../errors';
import type { ContainerSpec, DeviceSpec, HealthcheckSpec, Namespace } from '../../engine/containers/spec';
import { parseReference } from '../../oci/reference';
import type { ImageRecord } from '../../engine/images/types';
import { formatPlatform, hostPlatform, normalizePlatform } from '../../oci/platform';
import { checkFields, checkTypes, containerOf, type CreateBodyView } from '../compat/fields';
import { adaptHostConfig, checkHostLimits, checkResources, limitsOf } from './resources';
import { mountsOf } from './mounts';
import { securityOptions } from './seccomp';
import { normalizeCapabilities } from '../../engine/runtime/security';
import { networkSpecOf } from './network';
import type { DockerConfig, DockerHostConfig, DockerMeta } from './meta';
import { dockerRestartPolicy, restartPolicyOf, type DockerRestartPolicy } from './restart';

export interface CreateBody extends Record<string, unknown> {
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  Labels?: Record<string, string> | null;
  HostConfig: Record<string, unknown>;
}

// Type-checks the body as Go's decoder would (a string Cmd or Entrypoint
// is one argument). Unknown fields pass here; checkFields judges them.
export function validateCreateBody(body: Record<string, unknown> | undefined): CreateBody {
  if (!body) throw invalidArgument('config cannot be empty in order to create a container');
  if (body.HostConfig !== undefined && body.HostConfig !== null && (typeof body.HostConfig !== 'object' || Array.isArray(body.HostConfig))) {
    throw invalidArgument(`json: cannot unmarshal ${Array.isArray(body.HostConfig) ? 'array' : typeof body.HostConfig} into field Config.HostConfig of type object`);
  }
  const hc = (body.HostConfig as Record<string, unknown>) ?? {};
  checkTypes({ config: body, hostConfig: hc }, body.NetworkingConfig);
  const strs = (v: unknown) => (typeof v === 'string' ? [v] : (v as string[] | null | undefined));
  return { ...body, Cmd: strs(body.Cmd), Entrypoint: strs(body.Entrypoint), HostConfig: hc } as CreateBody;
}

export interface Translated {
  spec: ContainerSpec;
  meta: DockerMeta;
  // For the create response's Warnings, as dockerd gives them.
  warnings: string[];
}

// The image named by a create body, or 400/404 as dockerd answers.
export function imageOf(ref: string | undefined, resolve: (ref: string) => ImageRecord | undefined): ImageRecord {
  if (!ref) throw invalidArgument('No image specified');
  const image = resolve(ref); // 400 for a malformed reference
  if (image) return image;
  const parsed = ref.startsWith('sha256:') ? undefined : parseReference(ref);
  throw notFound(`No such image: ${parsed && !parsed.tag && !parsed.digest ? `${ref}:latest` : ref}`);
}

// The daemon's log-driver and log-opts (daemon.json), merged into each
// container's LogConfig as dockerd does.
export interface LogDefaults {
  type: string;
  config: Record<string, string>;
}

const BERTH_LOG_DEFAULTS: LogDefaults = { type: DEFAULT_LOG_DRIVER, config: DEFAULT_JSON_FILE_OPTS };

export function translateCreate(raw: Record<string, unknown> | undefined, resolve: (ref: string) => ImageRecord | undefined, logDefaults: LogDefaults = BERTH_LOG_DEFAULTS): Translated {
  const cfg = validateCreateBody(raw);
  const hc = cfg.HostConfig;
  const view: CreateBodyView = { config: cfg, hostConfig: hc };
  checkFields(view, (cfg.NetworkingConfig as Record<string, unknown> | undefined) ?? undefined);
  checkResources(hc, false);
  checkHostLimits(hc);
  const image = imageOf(cfg.Image, resolve);
  const img = image.config.config ?? {};

  const s = (k: string) => (typeof cfg[k] === 'string' ? (cfg[k] as string) : '');
  const entrypoint = cfg.Entrypoint !== undefined && cfg.Entrypoint !== null ? cfg.Entrypoint : img.Entrypoint ?? null;
  // An entrypoint given on create drops the image's CMD, as in Docker.
  const cmd = cfg.Cmd && cfg.Cmd.length ? cfg.Cmd : cfg.Entrypoint && cfg.Entrypoint.length ? null : img.Cmd ?? null;
  // (The engine refuses an empty command and a relative working directory.)
  const workdir = s('WorkingDir') || img.WorkingDir || '';

  const netWarnings: string[] = [];
  const network = networkSpecOf(hc, cfg, { ...(img.ExposedPorts ?? {}), ...((cfg.ExposedPorts as Record<string, object>) ?? {}) }, netWarnings);
  const stopSignal = s('StopSignal') || img.StopSignal || '';
  const config: DockerConfig = {
    Hostname: s('Hostname'),
    Domainname: s('Domainname'),
    User: s('User') || img.User || '',
    AttachStdin: !!cfg.AttachStdin,
    AttachStdout: cfg.AttachStdout !== false,
    AttachStderr: cfg.AttachStderr !== false,
    Tty: !!cfg.Tty,
    OpenStdin: !!cfg.OpenStdin,
    StdinOnce: !!cfg.StdinOnce,
    Env: mergeEnv(img.Env ?? [], cfg.Env ?? []),
    Cmd: cmd,
    Image: cfg.Image!,
    WorkingDir: workdir,
    Entrypoint: entrypoint,
    Labels: { ...(img.Labels ?? {}), ...(cfg.Labels ?? {}) },
    ...(stopSignal ? { StopSignal: stopSignal } : {}),
    ...(typeof cfg.StopTimeout === 'number' ? { StopTimeout: cfg.StopTimeout } : {}),
    ...(img.ExposedPorts || cfg.ExposedPorts ? { ExposedPorts: { ...(img.ExposedPorts ?? {}), ...((cfg.ExposedPorts as Record<string, object>) ?? {}) } } : {}),
    ...(img.Volumes || cfg.Volumes ? { Volumes: { ...(img.Volumes ?? {}), ...((cfg.Volumes as Record<string, object>) ?? {}) } } : {}),
    ...(cfg.OnBuild ? { OnBuild: cfg.OnBuild as string[] } : {}),
    ...(cfg.Shell || img.Shell ? { Shell: (cfg.Shell as string[]) ?? img.Shell } : {}),
    ...(cfg.NetworkDisabled ? { NetworkDisabled: true } : {}),
  };
  const healthcheck = mergeHealthcheck(cfg.Healthcheck as DockerHealthcheck | null | undefined, img.Healthcheck as DockerHealthcheck | null | undefined);
  if (healthcheck) config.Healthcheck = healthcheck;
  const lc = (hc.LogConfig ?? {}) as { Type?: string | null; Config?: Record<string, string> | null };
  const logConfig = mergeLogConfig(lc.Type ?? '', lc.Config ?? {}, logDefaults);
  const log = logSettings(logConfig.type, logConfig.config, { labels: config.Labels ?? {}, env: config.Env });
  const hostConfig: DockerHostConfig = {
    ...adaptHostConfig(hc),
    NetworkMode: network.spec.mode === 'container' ? `container:${network.spec.container}` : !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : String(hc.NetworkMode),
    AutoRemove: !!hc.AutoRemove,
    RestartPolicy: dockerRestartPolicy(hc.RestartPolicy as DockerRestartPolicy | undefined),
    LogConfig: { Type: logConfig.type, Config: logConfig.config },
    Binds: (hc.Binds as string[] | undefined) ?? null,
    ReadonlyRootfs: !!hc.ReadonlyRootfs,
    Privileged: !!hc.Privileged,
  };
  const { mounts, volumesFrom } = mountsOf({
    binds: hc.Binds as string[] | null,
    mounts: hc.Mounts as Parameters<typeof mountsOf>[0]['mounts'],
    tmpfs: hc.Tmpfs as Record<string, string> | null,
    volumesFrom: hc.VolumesFrom as string[] | null,
    volumes: config.Volumes,
  });
  const privileged = !!hc.Privileged;
  const secOpts = securityOptions(hc.SecurityOpt as string[] | null, privileged);
  const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  const spec: ContainerSpec = {
    image: { id: image.id, ref: cfg.Image! },
    process: {
      entrypoint,
      cmd,
      env: config.Env,
      cwd: workdir,
      user: config.User,
      terminal: config.Tty,
      ...(config.Tty && consoleSize(hc.ConsoleSize) ? { consoleSize: consoleSize(hc.ConsoleSize) } : {}),
      stdin: config.OpenStdin,
      stdinOnce: config.StdinOnce,
    },
    hostname: config.Hostname,
    domainname: config.Domainname,
    labels: config.Labels,
    annotations: (hc.Annotations as Record<string, string>) ?? {},
    network: network.spec,
    ipc: namespace(String(hc.IpcMode ?? '')),
    pid: namespace(String(hc.PidMode ?? '')),
    uts: namespace(String(hc.UTSMode ?? '')),
    mounts,
    ...(volumesFrom.length ? { volumesFrom } : {}),
    security: {
      readonlyRootfs: !!hc.ReadonlyRootfs,
      seccomp: secOpts.seccomp,
      ...(privileged ? { privileged } : {}),
      ...(secOpts.noNewPrivileges ? { noNewPrivileges: true } : {}),
      ...(strs(hc.CapAdd).length ? { capAdd: normalizeCapabilities(strs(hc.CapAdd)) } : {}),
      ...(strs(hc.CapDrop).length ? { capDrop: normalizeCapabilities(strs(hc.CapDrop)) } : {}),
      ...(strs(hc.GroupAdd).length ? { groupAdd: strs(hc.GroupAdd) } : {}),
      ...(hc.Sysctls && Object.keys(hc.Sysctls).length ? { sysctls: { ...(hc.Sysctls as Record<string, string>) } } : {}),
      ...(Array.isArray(hc.Devices) && hc.Devices.length ? { devices: devicesOf(hc.Devices as DockerDevice[]) } : {}),
      ...(strs(hc.DeviceCgroupRules).length ? { deviceCgroupRules: strs(hc.DeviceCgroupRules) } : {}),
      ...(hc.MaskedPaths ? { maskedPaths: hc.MaskedPaths as string[] } : {}),
      ...(hc.ReadonlyPaths ? { readonlyPaths: hc.ReadonlyPaths as string[] } : {}),
    },
    stop: {
      ...(stopSignal ? { signal: stopSignal } : {}),
      ...(typeof cfg.StopTimeout === 'number' ? { timeout: cfg.StopTimeout } : {}),
    },
    // Unset (null) is the daemon's default, decided at each start.
    ...(typeof hc.Init === 'boolean' ? { init: hc.Init } : {}),
    ...(hc.UsernsMode === 'host' ? { userns: 'host' as const } : {}),
    autoRemove: !!hc.AutoRemove,
    ...(restartPolicyOf(hostConfig.RestartPolicy) ? { restart: restartPolicyOf(hostConfig.RestartPolicy) } : {}),
    runtime: typeof hc.Runtime === 'string' ? hc.Runtime : '',
    ...(limitsOf(hostConfig) ? { limits: limitsOf(hostConfig) } : {}),
    log,
    ...(healthcheckSpec(healthcheck, config.Shell) ? { healthcheck: healthcheckSpec(healthcheck, config.Shell) } : {}),
  };
  return { spec, meta: { Config: config, HostConfig: hostConfig }, warnings: [...platformWarnings(image), ...netWarnings] };
}

// dockerd warns when an image was made for another platform than the host's
// (it may still run, under emulation, or fail with "exec format error").
function platformWarnings(image: ImageRecord): string[] {
  const host = hostPlatform();
  const c = image.config;
  if (!c.os || !c.architecture) return [];
  const want = normalizePlatform({ os: host.os, architecture: host.architecture });
  const got = normalizePlatform({ os: c.os, architecture: c.architecture, variant: c.variant });
  if (got.os === want.os && got.architecture === want.architecture) return [];
  return [`The requested image's platform (${formatPlatform(got)}) does not match the detected host platform (${formatPlatform(host)}) and no specific platform was requested`];
}

export interface DockerHealthcheck {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

// dockerd's merge of a create's Healthcheck with the image's: without one,
// the image's; with one, each field it leaves zero is the image's.
// Zero fields are left out, as Go's omitempty leaves them in inspect.
export function mergeHealthcheck(user: DockerHealthcheck | null | undefined, image: DockerHealthcheck | null | undefined): DockerHealthcheck | undefined {
  if (!user && !image) return undefined;
  const out: DockerHealthcheck = {};
  const test = user?.Test?.length ? user.Test : image?.Test;
  if (test?.length) out.Test = test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const v = user?.[k] || image?.[k];
    if (v) out[k] = v;
  }
  return out;
}

// The engine's healthcheck: none for NONE, no test, or a test berth cannot
// run (an image's of an unknown type, which dockerd ignores too); CMD-SHELL
// runs through the container's shell (Config.Shell), /bin/sh -c by default.
export function healthcheckSpec(h: DockerHealthcheck | undefined, shell: string[] | undefined): HealthcheckSpec | undefined {
  const test = h?.Test ?? [];
  if (!h || test.length < 2 || (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL')) return undefined;
  const ms = (ns: number | undefined) => (typeof ns === 'number' && ns > 0 ? ns / 1e6 : 0);
  return {
    cmd: test[0] === 'CMD' ? test.slice(1) : [...(shell && shell.length ? shell : ['/bin/sh', '-c']), ...test.slice(1)],
    interval: ms(h.Interval),
    timeout: ms(h.Timeout),
    startPeriod: ms(h.StartPeriod),
    startInterval: ms(h.StartInterval),
    retries: typeof h.Retries === 'number' && h.Retries > 0 ? h.Retries : 0,
  };
}

interface DockerDevice { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }

// Docker's DeviceMapping: the container path defaults to the host's, the
// permissions to rwm.
function devicesOf(v: DockerDevice[]): DeviceSpec[] {
  return v.map((d) => ({ hostPath: d.PathOnHost, containerPath: d.PathInContainer || d.PathOnHost, permissions: d.CgroupPermissions || 'rwm' }));
}

// HostConfig.ConsoleSize is [height, width]; [0, 0] (what clients send
// without a terminal) means no size.
function consoleSize(v: unknown): { height: number; width: number } | undefined {
  if (!Array.isArray(v) || (!v[0] && !v[1])) return undefined;
  return { height: Number(v[0]) || 0, width: Number(v[1]) || 0 };
}

function namespace(mode: string): Namespace {
  if (mode === 'host') return { mode: 'host' };
  const other = containerOf(mode);
  if (other !== undefined) return { mode: 'container', container: other };
  return { mode: 'private' };
}

// The image's env, overridden key by key; "-e FOO" with FOO unset on the
// client arrives without "=" and is dropped.
export function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const kv of over) {
    if (!kv.includes('=')) continue;
    const k = kv.split('=')[0];
    const i = out.findIndex((e) => e.split('=')[0] === k);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}
