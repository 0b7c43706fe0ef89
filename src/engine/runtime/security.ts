// A container's security settings as the OCI spec takes them: its
// capabilities (Docker's defaults tweaked by --cap-add/--cap-drop, or all the
// daemon holds when privileged), sysctls (namespaced ones only, by runc's
// rules), device cgroup rules and supplementary groups. Pure: unit-tested
// without root.
import { invalidArgument } from '../../errors';
import type { SecuritySpec } from '../containers/spec';
import { CAP_NAMES, DEFAULT_CAPS } from './spec';
import { parseGroup } from './user';

export const ALL_CAPABILITIES = CAP_NAMES.map((n) => `CAP_${n}`);

// Docker's NormalizeLegacyCapabilities: upper case, CAP_ prefixed, "ALL"
// kept; a name the kernel does not know is a 400 with dockerd's words.
export function normalizeCapabilities(caps: string[]): string[] {
  return caps.map((raw) => {
    let c = raw.trim().toUpperCase();
    if (c === 'ALL') return c;
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!ALL_CAPABILITIES.includes(c)) throw invalidArgument(`unknown capability: ${JSON.stringify(c)}`);
    return c;
  });
}

// Docker's TweakCapabilities, in its order: privileged gets everything; ADD
// ALL is everything but the drops; DROP ALL keeps only the adds; otherwise
// the defaults less the drops, then the adds. "Everything" is what the
// daemon itself holds (`held`, its bounding set): root on these machines
// lacks CAP_SYS_RESOURCE, and asking runc for it fails the start, so it is
// never asked for implicitly, and asking for it by name is refused.
export function containerCapabilities(s: Pick<SecuritySpec, 'capAdd' | 'capDrop' | 'privileged'>, held: string[]): string[] {
  if (s.privileged) return [...held];
  const add = normalizeCapabilities(s.capAdd ?? []);
  const drop = normalizeCapabilities(s.capDrop ?? []);
  if (!add.length && !drop.length) return [...DEFAULT_CAPS];
  for (const c of add) {
    if (c !== 'ALL' && !held.includes(c)) {
      throw invalidArgument(`cannot add capability ${c}: berthd does not hold it (its bounding set lacks it), so no container can be given it`);
    }
  }
  let caps: string[];
  if (add.includes('ALL')) caps = held.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

// runc's validator: a sysctl is allowed only in a namespace the container
// does not share with the host. The messages are runc's (what dockerd shows).
export function checkSysctls(sysctls: Record<string, string>, ns: { ipcHost: boolean; netHost: boolean; utsHost: boolean }): void {
  for (const s of Object.keys(sysctls)) {
    if (IPC_SYSCTLS.includes(s) || s.startsWith('fs.mqueue.')) {
      if (ns.ipcHost) throw invalidArgument(`sysctl ${JSON.stringify(s)} is not allowed in the hosts ipc namespace`);
      continue;
    }
    if (s.startsWith('net.')) {
      if (ns.netHost) throw invalidArgument(`sysctl ${JSON.stringify(s)} is not allowed in the hosts network namespace`);
      continue;
    }
    if (!ns.utsHost && s === 'kernel.domainname') continue;
    if (!ns.utsHost && s === 'kernel.hostname') throw invalidArgument(`sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field`);
    throw invalidArgument(`sysctl ${JSON.stringify(s)} is not in a separate kernel namespace`);
  }
}

export interface OciDeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access?: string }

// "c 1:3 mr", "a *:* rwm" (dockerd's format; '*' is any number).
export function parseDeviceCgroupRule(rule: string): OciDeviceRule {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw invalidArgument(`invalid device cgroup rule format: '${rule}'`);
  const num = (v: string) => (v === '*' ? -1 : Number(v));
  return { allow: true, type: m[1], major: num(m[2]), minor: num(m[3]), access: m[4] };
}

// --group-add: each a group of the container's /etc/group (by name or gid)
// or a number; moby/sys/user's GetAdditionalGroups, with its messages.
export function resolveGroupAdd(names: string[], groupText: string | undefined): number[] {
  const groups = groupText ? parseGroup(groupText) : [];
  const out: number[] = [];
  for (const ag of names) {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    let gid: number;
    if (g) gid = g.gid;
    else {
      if (!/^-?\d+$/.test(ag)) throw invalidArgument(`Unable to find group ${ag}: no matching entries in group file`);
      gid = Number(ag);
      if (gid < 0 || gid > 2 ** 31 - 1) throw invalidArgument('uids and gids must be in range 0-2147483647');
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}
