// The engine's container records in Docker's shapes: `GET
// /containers/{id}/json` (inspect) and the list entries of `GET
// /containers/json` and `/system/df`.
import { logPath } from '../../engine/logs/settings';
import type { ContainerInspectResponse, ContainerState, ContainerSummary, EndpointSettings } from '../../api/types';
import type { ContainerRecord } from '../../engine/containers/record';
import { argvOf, type Namespace } from '../../engine/containers/spec';
import type { ContainerFiles } from '../../engine/containers/store';
import type { ImageRecord } from '../../engine/images/types';
import { humanDuration } from '../../util/duration';
import { dockerMeta } from './meta';
import { mountPoints } from './mounts';
import { networkSettings, summaryPorts, type NetworkView } from './netsettings';

// What the shapes need beyond the record.
export interface ContainerViewDeps {
  image(id: string): ImageRecord | undefined;
  files(id: string): ContainerFiles;
  sizeRw(id: string): Promise<number>;
  // The overlay dirs, for GraphDriver.
  containerDir(id: string): string;
  lowers(chainID: string): string[];
  // The exec sessions of a container not yet finished.
  execIDs?(id: string): string[];
  // Bridge networking's view of a container (absent: loopback only).
  networks?: NetworkView;
  // A volume's directory on the host (inspect's Mounts[].Source).
  volumeMountpoint?(name: string): string;
}

function mountsView(d: ContainerViewDeps, c: ContainerRecord): ReturnType<typeof mountPoints> {
  const tmpfs = dockerMeta(c).HostConfig.Tmpfs as Record<string, string> | undefined;
  return mountPoints(c.spec.mounts, (n) => d.volumeMountpoint?.(n) ?? '', tmpfs);
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function dockerState(c: ContainerRecord): ContainerState {
  const s = c.state;
  return {
    Status: s.status,
    // A container between a policy's restarts is running too, as in dockerd.
    Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting',
    Paused: s.status === 'paused',
    Restarting: s.status === 'restarting',
    OOMKilled: s.oomKilled,
    Dead: s.status === 'dead',
    Pid: s.pid,
    ExitCode: s.exitCode,
    Error: s.error,
    StartedAt: s.startedAt || ZERO_TIME,
    FinishedAt: s.finishedAt || ZERO_TIME,
    ...(s.health ? {
      Health: {
        Status: s.health.status,
        FailingStreak: s.health.failingStreak,
        Log: s.health.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })),
      },
    } : {}),
  };
}

// dockerd's words for the health in a status: "healthy", "unhealthy",
// "health: starting".
const healthText = (c: ContainerRecord) => (c.state.health ? ` (${c.state.health.status === 'starting' ? 'health: starting' : c.state.health.status})` : '');

export function statusText(c: ContainerRecord): string {
  const s = c.state;
  if (s.status === 'running') return `Up ${humanDuration(Date.now() - Date.parse(s.startedAt))}${healthText(c)}`;
  if (s.status === 'paused') return `Up ${humanDuration(Date.now() - Date.parse(s.startedAt))} (Paused)`;
  if (s.status === 'restarting') return `Restarting (${s.exitCode}) ${humanDuration(Date.now() - Date.parse(s.finishedAt))} ago`;
  if (s.status === 'removing') return 'Removal In Progress';
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${humanDuration(Date.now() - Date.parse(s.finishedAt))} ago`;
  return s.status === 'created' ? 'Created' : s.status;
}

// Docker's list view wraps arguments holding a space in single quotes.
function quoteArg(a: string): string {
  return a.includes(' ') ? `'${a}'` : a;
}

async function sizes(d: ContainerViewDeps, c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await d.sizeRw(c.id);
  return { SizeRw: rw, SizeRootFs: (d.image(c.spec.image.id)?.size ?? 0) + rw };
}

// A container as lists show it; with size, its writable layer's bytes and
// those plus its image's (SizeRw, SizeRootFs).
export async function containerSummary(d: ContainerViewDeps, c: ContainerRecord, size = false): Promise<ContainerSummary> {
  const [path, ...args] = argvOf(c.spec.process);
  const { HostConfig } = dockerMeta(c);
  return {
    Id: c.id,
    Names: [c.name],
    Image: c.spec.image.ref,
    ImageID: c.spec.image.id,
    Command: [path, ...args.map(quoteArg)].join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: (d.networks ? summaryPorts(c, d.networks, dockerMeta(c).Config.ExposedPorts ?? {}) : []) as ContainerSummary['Ports'],
    Labels: c.spec.labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: HostConfig.NetworkMode },
    NetworkSettings: { Networks: {} },
    Mounts: mountsView(d, c),
    ...(size ? await sizes(d, c) : {}),
  };
}

export async function inspectContainer(d: ContainerViewDeps, c: ContainerRecord, size: boolean): Promise<ContainerInspectResponse> {
  const layerDir = d.containerDir(c.id);
  const image = d.image(c.spec.image.id);
  const { Config, HostConfig } = dockerMeta(c);
  const [path, ...args] = argvOf(c.spec.process);
  // Containers joined are shown by id, as the engine resolved them.
  const joined = (ns: Namespace | undefined) => (ns?.mode === 'container' ? { value: `container:${ns.container}` } : undefined);
  // Joined to another container's network, the files are that container's.
  const net = c.spec.network;
  const files = d.files(net.mode === 'container' && net.container ? net.container : c.id);
  const own = d.files(c.id);
  return {
    Id: c.id,
    Created: c.created,
    Path: path,
    Args: args,
    State: dockerState(c),
    Image: c.spec.image.id,
    ResolvConfPath: files.resolvConf,
    HostnamePath: files.hostname,
    HostsPath: files.hosts,
    // dockerd keeps the local driver's path to itself (its format is not an API).
    LogPath: c.spec.log?.driver === 'local' ? '' : logPath(own.dir, c.id, c.spec.log?.driver ?? 'k8s-file'),
    Name: c.name,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: d.execIDs?.(c.id).length ? d.execIDs(c.id) : null,
    // LogConfig.Type is k8s-file for containers made before the drivers,
    // which the spec's list of drivers lacks.
    HostConfig: {
      ...HostConfig,
      Runtime: c.spec.runtime,
      ...(net.mode === 'container' ? { NetworkMode: `container:${net.container}` } : {}),
      ...(joined(c.spec.pid) ? { PidMode: joined(c.spec.pid)!.value } : {}),
      ...(joined(c.spec.ipc) ? { IpcMode: joined(c.spec.ipc)!.value } : {}),
    } as ContainerInspectResponse['HostConfig'],
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: image?.chainID ? d.lowers(image.chainID).join(':') : '',
        UpperDir: `${layerDir}/diff`,
        WorkDir: `${layerDir}/work`,
        MergedDir: `${layerDir}/merged`,
      },
    },
    ...(size ? await sizes(d, c) : {}),
    Mounts: mountsView(d, c),
    Config: { ...Config, Hostname: c.spec.hostname } as ContainerInspectResponse['Config'],
    NetworkSettings: d.networks && c.spec.network.mode === 'bridge' ? (networkSettings(c, d.networks, Config.ExposedPorts ?? {}) as unknown as ContainerInspectResponse['NetworkSettings']) : {
      Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Ports: {}, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '',
      // Go's nil pointers (IPAMConfig) are null on the wire.
      Networks: (net.mode === 'container' ? {} : { [net.mode === 'host' ? 'host' : 'none']: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', DriverOpts: null } }) as unknown as Record<string, EndpointSettings>,
    },
  };
}
