// A container's security settings, checked at create (what can be known
// then: capability names, sysctls against its namespaces, device paths and
// rules, the seccomp profile, the working directory's spelling) and turned
// into what the OCI spec takes at start (capabilities, seccomp, devices,
// groups). The same capabilities and no_new_privs go to its exec sessions.
import * as path from 'node:path';
import { invalidArgument } from '../../errors';
import { resolveInRoot } from '../../util/rootfs';
import { devicesFromPath, hostDevices, type OciDevice } from '../runtime/devices';
import { seccompFor, type OciSeccomp } from '../runtime/seccomp';
import { parseDockerProfile } from '../runtime/seccomp-profile';
import { checkSysctls, containerCapabilities, parseDeviceCgroupRule, resolveGroupAdd, type OciDeviceRule } from '../runtime/security';
import type { ContainerSpec } from './spec';

export function checkSecurity(spec: ContainerSpec, held: string[]): void {
  const s = spec.security;
  containerCapabilities(s, held);
  if (s.sysctls && Object.keys(s.sysctls).length) {
    checkSysctls(s.sysctls, { ipcHost: spec.ipc.mode === 'host', netHost: spec.network.mode === 'host', utsHost: spec.uts.mode === 'host' });
  }
  for (const r of s.deviceCgroupRules ?? []) parseDeviceCgroupRule(r);
  for (const d of s.devices ?? []) {
    if (!d.containerPath.startsWith('/')) throw invalidArgument(`${d.containerPath} is not an absolute path`);
    if (d.permissions && !/^[rwm]{1,3}$/.test(d.permissions)) throw invalidArgument(`invalid device permissions ${JSON.stringify(d.permissions)}: some of rwm`);
    devicesFromPath(d);
  }
  if (s.seccomp.mode === 'custom') parseDockerProfile(s.seccomp.profile);
  checkWorkdir(spec.process.cwd);
}

// runc mounts /proc and /sys over whatever the image has there, so a
// working directory inside them is not a directory of the image: it can be
// /proc/self/fd/N, a descriptor runc leaked from the host (CVE-2024-21626;
// runc 1.1.5 here has that bug), or the same through the links runc makes
// in /dev (fd, stdin, stdout, stderr, core). /dev itself and its tmpfs
// mounts (/dev/shm) stay allowed, as in Docker. The path is checked as
// written and, at start, as resolved in the root (an image's WORKDIR can be
// a link to such a path).
export function checkWorkdir(cwd: string, resolved?: string): void {
  for (const p of [cwd, resolved]) {
    if (!p) continue;
    const clean = path.posix.normalize(`/${p}`);
    if (/^\/(proc|sys|dev\/(fd|stdin|stdout|stderr|core))(\/|$)/.test(clean)) {
      throw invalidArgument(`the working directory ${cwd} is refused: ${clean === cwd ? 'it is' : `it resolves to ${clean},`} inside ${clean.startsWith('/dev/') ? 'a link the runtime makes to /proc/self/fd' : `/${clean.split('/')[1]}, which the runtime mounts over`} (a descriptor there can reach the host: CVE-2024-21626)`);
    }
  }
}

// The working directory as the container will see it, its links resolved
// inside the root; refused when it lands in /proc, /sys or runc's /dev links.
export async function checkWorkdirInRoot(rootfs: string, cwd: string): Promise<void> {
  checkWorkdir(cwd);
  const resolved = await resolveInRoot(rootfs, cwd);
  checkWorkdir(cwd, `/${path.relative(rootfs, resolved)}`);
}

export interface SecurityOf {
  capabilities: string[];
  seccomp: OciSeccomp | null;
  noNewPrivileges: boolean;
  groups: number[];
  sysctl?: Record<string, string>;
  devices: OciDevice[];
  deviceRules: OciDeviceRule[];
  privileged: boolean;
}

export function securityOf(spec: ContainerSpec, held: string[], groupText: string | undefined, kernel: string): SecurityOf {
  const s = spec.security;
  const capabilities = containerCapabilities(s, held);
  const devices: OciDevice[] = [];
  const deviceRules: OciDeviceRule[] = [];
  if (s.privileged) devices.push(...hostDevices());
  for (const d of s.devices ?? []) {
    const got = devicesFromPath(d);
    devices.push(...got.devices);
    deviceRules.push(...got.rules);
  }
  for (const r of s.deviceCgroupRules ?? []) deviceRules.push(parseDeviceCgroupRule(r));
  // A device named twice (privileged and --device) is made once, the last wins.
  const byPath = new Map(devices.map((d) => [d.path, d]));
  return {
    capabilities,
    // Privileged containers run without a filter, as in Docker.
    seccomp: s.privileged ? null : seccompFor(s.seccomp, { capabilities, kernel }),
    noNewPrivileges: !!s.noNewPrivileges,
    groups: resolveGroupAdd(s.groupAdd ?? [], groupText),
    ...(s.sysctls && Object.keys(s.sysctls).length ? { sysctl: { ...s.sysctls } } : {}),
    devices: [...byPath.values()],
    deviceRules,
    privileged: !!s.privileged,
  };
}
