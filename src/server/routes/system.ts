// /_ping, /version, /info (/system/df is in disk.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { SystemInfo, SystemVersion } from '../../api/types';
import type { ContainerService } from '../../engine/containers/service';
import type { CgroupDriver, CgroupFeatures } from '../../engine/runtime/cgroups';
import { API_VERSION, MIN_API_VERSION, VERSION } from '../../api/version';
import type { Router } from '../router';
import { sendJSON } from '../http';
import type { ContainerViewDeps } from '../containers/inspect';
import type { ImageBackend } from './images';
import { hostPlatform } from '../../oci/platform';

// The daemon's facts that /info and /version report.
export interface DaemonFacts {
  id: string;
  debug: boolean;
  dataRoot: string;
  runtimes: Record<string, string>;
  defaultRuntime: string;
  insecureRegistries: string[];
  registryMirrors?: string[];
  allowNondistributable?: string[];
  runtimeVersion: string;
  conmonVersion: string;
  // The cgroup driver and what the host's cgroups can limit.
  cgroups?: { driver: CgroupDriver; features: CgroupFeatures };
  logDriver?: string;
  // The init binary (--init): its name or configured path, and what its
  // `--version` says (tini: "tini version 0.19.0 - git.de40ad0"); no
  // version when it could not be run.
  init?: { binary: string; version?: string };
  // userns-remap is on (dockerd lists name=userns in SecurityOptions).
  userns?: boolean;
}

// dockerd's parseInitVersion: the version and the git commit of tini's
// `--version`.
export function parseInitVersion(v: string): { version: string; commit: string } | undefined {
  const parts = v.split(' - ');
  let commit = '';
  if (parts.length >= 2) {
    const git = parts[1].trim().split('.');
    if (git.length === 2 && git[0] === 'git') commit = git[1];
  }
  const first = parts[0].trim();
  const version = first.startsWith('tini version ') ? first.slice('tini version '.length) : '';
  return version || commit ? { version, commit } : undefined;
}

// InitCommit as dockerd gives it: the git commit, "N/A" when the binary
// cannot be run; Expected (the same, "for backward compatibility") only
// below API 1.49, which dropped it.
export function initCommit(init: DaemonFacts['init'], apiVersion: string): { ID: string; Expected?: string } {
  const parsed = init?.version !== undefined ? parseInitVersion(init.version) : undefined;
  const id = init?.version === undefined ? 'N/A' : parsed?.commit ?? '';
  return cmpApi(apiVersion, '1.49') < 0 ? { ID: id, Expected: id } : { ID: id };
}

function cmpApi(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
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

  r.get('/info', async (ctx) => {
    const containers = d.containers.list();
    const count = (s: string) => containers.filter((c) => c.state.status === s).length;
    const cg = d.facts.cgroups?.features;
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
      // What the host's cgroups let berth limit (the docker CLI warns about the rest).
      MemoryLimit: !!cg?.memory,
      SwapLimit: !!cg?.swap,
      KernelMemoryTCP: false,
      CpuCfsPeriod: !!cg?.cpuCfs,
      CpuCfsQuota: !!cg?.cpuCfs,
      CPUShares: !!cg?.cpuShares,
      CPUSet: !!cg?.cpuset,
      PidsLimit: !!cg?.pids,
      OomKillDisable: !!cg?.oomKillDisable,
      IPv4Forwarding: readProc('/proc/sys/net/ipv4/ip_forward') === '1',
      Debug: d.facts.debug,
      NFd: countDir('/proc/self/fd'),
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: d.facts.logDriver ?? 'json-file',
      CgroupDriver: d.facts.cgroups?.driver ?? 'cgroupfs',
      CgroupVersion: cg ? (String(cg.version) as '1' | '2') : fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(d.facts),
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
      InitBinary: d.facts.init?.binary ?? '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: initCommit(d.facts.init, ctx.version),
      SecurityOptions: ['name=seccomp,profile=builtin', ...(d.facts.userns ? ['name=userns'] : []), 'name=cgroupns'],
      Warnings: warnings(info0(cg)),
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
      // As dockerd lists docker-init: its file name, tini's version and commit.
      ...(d.facts.init?.version !== undefined && parseInitVersion(d.facts.init.version)
        ? [{ Name: d.facts.init.binary.split('/').pop()!, Version: parseInitVersion(d.facts.init.version)!.version, Details: { GitCommit: parseInitVersion(d.facts.init.version)!.commit } }]
        : []),
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

// dockerd's RegistryConfig: Docker Hub with its mirrors, the insecure
// registries by name and by CIDR (127.0.0.0/8 always), and the registries
// foreign layers are pushed to (fields API < 1.49 clients read).
export function registryConfig(f: Pick<DaemonFacts, 'insecureRegistries' | 'registryMirrors' | 'allowNondistributable'>): SystemInfo['RegistryConfig'] & Record<string, unknown> {
  const mirrors = f.registryMirrors ?? [];
  const isCidr = (r: string) => r.includes('/');
  const index: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }> = {
    'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
  };
  for (const r of f.insecureRegistries.filter((x) => !isCidr(x))) index[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  const allow = f.allowNondistributable ?? [];
  return {
    AllowNondistributableArtifactsCIDRs: allow.filter(isCidr),
    AllowNondistributableArtifactsHostnames: allow.filter((x) => !isCidr(x)),
    InsecureRegistryCIDRs: [...new Set(['127.0.0.0/8', ...f.insecureRegistries.filter(isCidr)])],
    IndexConfigs: index,
    Mirrors: mirrors,
  };
}

function info0(cg: CgroupFeatures | undefined) {
  return { cg, ipForward: readProc('/proc/sys/net/ipv4/ip_forward') === '1', nf: [readProc('/proc/sys/net/bridge/bridge-nf-call-iptables'), readProc('/proc/sys/net/bridge/bridge-nf-call-ip6tables')] };
}

// dockerd's warnings about what the host cannot do (the docker CLI prints
// them at the end of `docker info`).
export function warnings(h: { cg?: CgroupFeatures; ipForward: boolean; nf: string[] }): string[] {
  const w: string[] = [];
  const cg = h.cg;
  if (cg) {
    if (!cg.memory) w.push('WARNING: No memory limit support');
    if (!cg.swap) w.push('WARNING: No swap limit support');
    if (!cg.oomKillDisable && cg.version !== 2) w.push('WARNING: No oom kill disable support');
    if (!cg.cpuCfs) w.push('WARNING: No cpu cfs quota support', 'WARNING: No cpu cfs period support');
    if (!cg.cpuShares) w.push('WARNING: No cpu shares support');
    if (!cg.cpuset) w.push('WARNING: No cpuset support');
    if (!cg.pids) w.push('WARNING: No pids limit support');
  }
  if (!h.ipForward) w.push('WARNING: IPv4 forwarding is disabled');
  // Only when br_netfilter is loaded and switched off (berth's bridges need neither).
  if (h.nf[0] === '0') w.push('WARNING: bridge-nf-call-iptables is disabled');
  if (h.nf[1] === '0') w.push('WARNING: bridge-nf-call-ip6tables is disabled');
  return w;
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
