// /_ping, /version, /info, /system/df.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { SystemInfo, SystemVersion } from '../../api/types';
import type { ContainerService } from '../../engine/containers/service';
import { API_VERSION, MIN_API_VERSION, VERSION } from '../../api/version';
import type { Router } from '../router';
import { invalidArgument } from '../../errors';
import { sendJSON } from '../http';
import { containerSummary, type ContainerViewDeps } from '../containers/inspect';
import { imageSummary, type ImageBackend } from './images';
import { hostPlatform } from '../../oci/platform';

const DF_TYPES = ['container', 'image', 'volume', 'build-cache'];

// The daemon's facts that /info and /version report.
export interface DaemonFacts {
  id: string;
  debug: boolean;
  dataRoot: string;
  runtimes: Record<string, string>;
  defaultRuntime: string;
  insecureRegistries: string[];
  runtimeVersion: string;
  conmonVersion: string;
  logDriver?: string;
}

// What the system routes need of the daemon.
export interface SystemBackend {
  facts: DaemonFacts;
  containers: Pick<ContainerService, 'list'>;
  containerView: ContainerViewDeps;
  images: ImageBackend;
}

export function systemRoutes(r: Router, d: SystemBackend): void {
  const ping = (ctx: { res: import('node:http').ServerResponse; req: import('node:http').IncomingMessage }) => {
    ctx.res.writeHead(200, {
      'API-Version': API_VERSION,
      'OSType': 'linux',
      'Docker-Experimental': 'false',
      'Builder-Version': '1',
      'Server': `berth/${VERSION}`,
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      'Pragma': 'no-cache',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2',
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  r.get('/_ping', ping);
  r.head('/_ping', ping);

  r.get('/version', (ctx) => {
    const v = version(d);
    sendJSON(ctx.res, 200, v);
  });

  // `docker system df`. No volumes or build cache exist yet: empty lists.
  r.get('/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    for (const t of types) if (!DF_TYPES.includes(t)) throw invalidArgument(`unknown type: ${t}`);
    const want = (t: string) => types.length === 0 || types.includes(t);
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const { layersSize, sharedSize } = d.images.images.diskUsage();
      out.LayersSize = layersSize;
      out.Images = d.images.images.list().map((i) => imageSummary(d.images, i, sharedSize.get(i.id) ?? 0));
    }
    if (want('container')) out.Containers = await Promise.all(d.containers.list().map((c) => containerSummary(d.containerView, c, true)));
    if (want('volume')) out.Volumes = [];
    if (want('build-cache')) out.BuildCache = [];
    sendJSON(ctx.res, 200, out);
  });

  r.get('/info', async (ctx) => {
    const containers = d.containers.list();
    const count = (s: string) => containers.filter((c) => c.state.status === s).length;
    const info: SystemInfo = {
      ID: d.facts.id,
      Containers: containers.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: containers.length - count('running') - count('paused'),
      Images: d.images.images.list().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true']],
      Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      // Only what berth applies: no resource limits yet (issue 10), so the
      // docker CLI warns about each, truthfully.
      MemoryLimit: false,
      SwapLimit: false,
      KernelMemoryTCP: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      CPUShares: false,
      CPUSet: false,
      PidsLimit: false,
      OomKillDisable: false,
      IPv4Forwarding: readProc('/proc/sys/net/ipv4/ip_forward') === '1',
      Debug: d.facts.debug,
      NFd: countDir('/proc/self/fd'),
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: d.facts.logDriver ?? 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { IndexConfigs: Object.fromEntries(d.facts.insecureRegistries.filter((r) => !r.includes('/')).map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])), InsecureRegistryCIDRs: ['127.0.0.0/8', ...d.facts.insecureRegistries.filter((r) => r.includes('/'))], Mirrors: [] },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: d.facts.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: VERSION,
      Runtimes: Object.fromEntries(Object.entries(d.facts.runtimes).map(([k, p]) => [k, { path: p }])),
      DefaultRuntime: d.facts.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
      Warnings: [],
    };
    sendJSON(ctx.res, 200, info);
  });
}

export function version(d: SystemBackend): SystemVersion {
  return {
    Platform: { Name: 'berth' },
    Components: [
      { Name: 'Engine', Version: VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: hostPlatform().architecture, KernelVersion: os.release() } },
      { Name: 'runtime', Version: d.facts.runtimeVersion, Details: { Path: d.facts.runtimes[d.facts.defaultRuntime] } },
      { Name: 'conmon', Version: d.facts.conmonVersion, Details: {} },
    ],
    Version: VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: hostPlatform().architecture,
    KernelVersion: os.release(),
    BuildTime: '',
  };
}

function readProc(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function countDir(p: string): number {
  try {
    return fs.readdirSync(p).length;
  } catch {
    return 0;
  }
}

function osName(): string {
  const m = readProc('/etc/os-release').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
  return m ? m[1] : 'Linux';
}
