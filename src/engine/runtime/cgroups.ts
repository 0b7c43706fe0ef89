// Where a container's cgroup goes and what the host's cgroups can limit.
// The driver is dockerd's choice: `cgroupfs` (the runtime makes the
// directories itself) or `systemd` (a transient scope under a slice). The
// features are probed from the mounted hierarchies, v1 (one per controller)
// or v2 (one unified), with the root a parameter so tests read recorded
// layouts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../../errors';

export type CgroupDriver = 'cgroupfs' | 'systemd';

// dockerd's rule: `native.cgroupdriver` when given; else systemd on a
// unified (v2) host where systemd runs, cgroupfs otherwise.
export function pickDriver(option: string | undefined, v2: boolean, systemdRunning: boolean): CgroupDriver {
  if (option) {
    if (option !== 'cgroupfs' && option !== 'systemd') throw invalidArgument(`native.cgroupdriver option ${option} not supported`);
    return option;
  }
  return v2 && systemdRunning ? 'systemd' : 'cgroupfs';
}

// systemd runs when /run/systemd/system exists (sd_booted).
export const systemdRunning = (run = '/run'): boolean => fs.existsSync(path.join(run, 'systemd', 'system'));

export interface CgroupPaths {
  // The OCI spec's linux.cgroupsPath: a path (cgroupfs) or "slice:prefix:name" (systemd).
  runtime: string;
  // The container's group below each hierarchy's root, where stats read it.
  group: string;
}

// A container's cgroup: /berth/<id> (or /<parent>/<id>) with cgroupfs;
// berth-<id>.scope in system.slice (or the parent slice) with systemd.
export function cgroupPaths(driver: CgroupDriver, id: string, parent = ''): CgroupPaths {
  if (driver === 'systemd') {
    const slice = parent || 'system.slice';
    if (slice.length <= 6 || !slice.endsWith('.slice') || slice.includes('/')) {
      throw invalidArgument('cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice"');
    }
    return { runtime: `${slice}:berth:${id}`, group: `${expandSlice(slice)}/berth-${id}.scope` };
  }
  // Cleaned and absolute, so it stays inside each hierarchy; runc would take
  // a relative one below its own cgroup, which stats could not find.
  const group = path.posix.join('/', parent || 'berth', id);
  return { runtime: group, group };
}

// systemd's slice nesting: "a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice.
export function expandSlice(slice: string): string {
  if (slice === '-.slice') return '';
  const name = slice.slice(0, -'.slice'.length);
  const parts = name.split('-');
  if (parts.some((p) => p === '')) throw invalidArgument(`invalid slice name: ${slice}`);
  let out = '';
  for (let i = 1; i <= parts.length; i++) out += `/${parts.slice(0, i).join('-')}.slice`;
  return out;
}

// What the host's cgroups can limit; a limit whose controller or file is
// missing is discarded with dockerd's warning.
export interface CgroupFeatures {
  version: 1 | 2;
  memory: boolean;
  swap: boolean;
  swappiness: boolean;
  memoryReservation: boolean;
  oomKillDisable: boolean;
  pids: boolean;
  cpuShares: boolean;
  cpuCfs: boolean;
  cpuset: boolean;
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  blkioThrottle: boolean;
}

export function cgroupFeatures(root = '/sys/fs/cgroup'): CgroupFeatures {
  const has = (...p: string[]) => fs.existsSync(path.join(root, ...p));
  if (has('cgroup.controllers')) {
    // v2: the controllers the root offers; the files are in every child group.
    const ctl = new Set(fs.readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
    // io weights need a scheduler with weights (BFQ); the root has no
    // io.weight, so look at the groups below it.
    const ioWeight = ctl.has('io') && childHas(root, ['io.bfq.weight', 'io.weight']);
    return {
      version: 2,
      memory: ctl.has('memory'),
      swap: ctl.has('memory') && childHas(root, ['memory.swap.max']),
      swappiness: false,
      memoryReservation: ctl.has('memory'),
      oomKillDisable: false,
      pids: ctl.has('pids'),
      cpuShares: ctl.has('cpu'),
      cpuCfs: ctl.has('cpu'),
      cpuset: ctl.has('cpuset'),
      blkioWeight: ioWeight,
      blkioWeightDevice: ioWeight,
      blkioThrottle: ctl.has('io'),
    };
  }
  return {
    version: 1,
    memory: has('memory', 'memory.limit_in_bytes'),
    swap: has('memory', 'memory.memsw.limit_in_bytes'),
    swappiness: has('memory', 'memory.swappiness'),
    memoryReservation: has('memory', 'memory.soft_limit_in_bytes'),
    oomKillDisable: has('memory', 'memory.oom_control'),
    pids: has('pids', 'cgroup.procs'),
    cpuShares: has('cpu', 'cpu.shares'),
    cpuCfs: has('cpu', 'cpu.cfs_quota_us'),
    cpuset: has('cpuset', 'cpuset.cpus'),
    blkioWeight: has('blkio', 'blkio.weight') || has('blkio', 'blkio.bfq.weight'),
    blkioWeightDevice: has('blkio', 'blkio.weight_device') || has('blkio', 'blkio.bfq.weight_device'),
    blkioThrottle: has('blkio', 'blkio.throttle.read_bps_device'),
  };
}

// Whether a group directly below the root has one of the files.
function childHas(root: string, files: string[]): boolean {
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    if (d.isDirectory() && files.some((f) => fs.existsSync(path.join(root, d.name, f)))) return true;
  }
  return false;
}

// Whether the container's process was killed by the OOM killer: the
// oom_kill count of its memory cgroup (v1 memory.oom_control, v2
// memory.events), read before the runtime removes the group.
export function oomKilledIn(root: string, version: 1 | 2, group: string): boolean {
  const file = version === 2 ? path.join(root, group, 'memory.events') : path.join(root, 'memory', group, 'memory.oom_control');
  try {
    const m = fs.readFileSync(file, 'utf8').match(/^oom_kill (\d+)/m);
    return !!m && Number(m[1]) > 0;
  } catch {
    return false;
  }
}
