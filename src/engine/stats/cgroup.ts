// A container's resource usage as its cgroup reports it, in the engine's
// own terms (Docker's stats shape is made in server/). Two readers, cgroup
// v1 (one hierarchy per controller) and v2 (one unified hierarchy), behind
// one interface; the root is a parameter, so tests read recorded files.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { CgroupSample } from './sample';
export type { CgroupSample, IoEntry } from './sample';
import { readV1 } from './v1';
import { readV2 } from './v2';

export interface CgroupReader {
  readonly version: 1 | 2;
  // The usage of the cgroup at `group` ("/berth/<id>"). ENOENT when it does
  // not exist (the container is not running).
  read(group: string): Promise<CgroupSample>;
  // The pids in the cgroup and the cgroups below it.
  procs(group: string): Promise<number[]>;
}

export class CgroupV1 implements CgroupReader {
  readonly version = 1;
  constructor(readonly root = '/sys/fs/cgroup') {}

  read(group: string): Promise<CgroupSample> {
    return readV1((controller, file) => readPseudo(path.join(this.root, controller, group, file)));
  }

  async procs(group: string): Promise<number[]> {
    // Every process is in every controller's hierarchy; pids is always there.
    for (const c of ['pids', 'memory', 'cpu', 'freezer']) {
      const dir = path.join(this.root, c, group);
      if (fs.existsSync(dir)) return procsBelow(dir);
    }
    throw Object.assign(new Error(`no cgroup ${group}`), { code: 'ENOENT' });
  }
}

export class CgroupV2 implements CgroupReader {
  readonly version = 2;
  constructor(readonly root = '/sys/fs/cgroup') {}

  read(group: string): Promise<CgroupSample> {
    return readV2((file) => readPseudo(path.join(this.root, group, file)));
  }

  procs(group: string): Promise<number[]> {
    return procsBelow(path.join(this.root, group));
  }
}

// cgroupfs and /proc files are made by the kernel from memory as they are
// read: a synchronous read takes microseconds, where a trip through libuv's
// thread pool took milliseconds each under load (fifty containers' stats at
// once are 700 such reads).
export function readPseudo(file: string): Promise<string> {
  try {
    return Promise.resolve(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return Promise.reject(err);
  }
}

// v2 when the root is the unified hierarchy itself.
export function cgroupReader(root = '/sys/fs/cgroup'): CgroupReader {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? new CgroupV2(root) : new CgroupV1(root);
}

async function procsBelow(dir: string): Promise<number[]> {
  const out = (await fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
  for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
    if (d.isDirectory()) out.push(...(await procsBelow(path.join(dir, d.name)).catch(() => [])));
  }
  return out;
}
