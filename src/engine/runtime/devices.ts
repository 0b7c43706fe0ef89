// Host devices for a container's OCI spec: `--device` (one node, or every
// node under a directory, as dockerd's DevicesFromPath) and `--privileged`
// (every node of the host's /dev, as runc's HostDevices). runc makes each in
// the container's /dev from linux.devices; the cgroup rule is added beside.
// Reads the host's /dev only (stat); nothing here writes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../../errors';
import type { DeviceSpec } from '../containers/spec';
import type { OciDeviceRule } from './security';

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

// glibc's major()/minor() of a dev_t.
const major = (d: bigint) => Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
const minor = (d: bigint) => Number((d & 0xffn) | ((d >> 12n) & ~0xffn));

// The device node at `p` (followed if a link), or undefined for anything else.
function deviceAt(p: string): Omit<OciDevice, 'path'> | undefined {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(p, { bigint: true });
  } catch {
    return undefined;
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { type, major: major(st.rdev), minor: minor(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

const rule = (d: Omit<OciDevice, 'path'>, access: string): OciDeviceRule => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access });

// One --device: a node, or a directory's nodes, each at the container path
// in its place. A path that is neither is dockerd's error.
export function devicesFromPath(d: DeviceSpec): { devices: OciDevice[]; rules: OciDeviceRule[] } {
  const one = deviceAt(d.hostPath);
  if (one) return { devices: [{ path: d.containerPath, ...one }], rules: [rule(one, d.permissions)] };
  const devices: OciDevice[] = [];
  const rules: OciDeviceRule[] = [];
  let isDir = false;
  try {
    isDir = fs.statSync(d.hostPath).isDirectory();
  } catch (e) {
    throw invalidArgument(`error gathering device information while adding custom device ${JSON.stringify(d.hostPath)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (isDir) {
    const walk = (dir: string) => {
      for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, ent.name);
        if (ent.isDirectory()) walk(p);
        else if (ent.isCharacterDevice() || ent.isBlockDevice()) {
          const dev = deviceAt(p)!;
          devices.push({ path: path.join(d.containerPath, path.relative(d.hostPath, p)), ...dev });
          rules.push(rule(dev, d.permissions));
        }
      }
    };
    walk(d.hostPath);
  }
  if (!devices.length) throw invalidArgument(`error gathering device information while adding custom device ${JSON.stringify(d.hostPath)}: not a device node`);
  return { devices, rules };
}

// runc's HostDevices: every node under /dev but pts, shm, fd, mqueue and the
// console (the container has its own of each), links followed.
export function hostDevices(root = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of ents) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) {
        if (!['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(ent.name)) walk(p);
        continue;
      }
      if (ent.name === 'console' || !(ent.isCharacterDevice() || ent.isBlockDevice())) continue;
      const dev = deviceAt(p);
      if (dev) out.push({ path: p, ...dev });
    }
  };
  walk(root);
  return out;
}
