// Resolves Docker's `-u user[:group]` against the image's /etc/passwd and
// /etc/group (read by the caller from the container's root).
import { invalidArgument } from '../../errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0], uid, gid, home: f[5] });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.push({ name: f[0], gid, members: f[3].split(',').filter(Boolean) });
  }
  return out;
}

const isNum = (s: string) => /^\d+$/.test(s);
const MAX_ID = 2 ** 31 - 1;

export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined): ResolvedUser {
  const [userPart, groupPart] = (spec || '').split(':', 2);
  const passwd = passwdText ? parsePasswd(passwdText) : [];
  const groups = groupText ? parseGroup(groupText) : [];
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (!userPart) {
    const root = passwd.find((p) => p.uid === 0);
    if (root) ({ home, name } = root);
    else home = '/root';
  } else if (isNum(userPart)) {
    uid = Number(userPart);
    if (uid > MAX_ID) throw invalidArgument(`uids and gids must be in range 0-${MAX_ID}`);
    const p = passwd.find((e) => e.uid === uid);
    if (p) ({ gid, home, name } = p);
  } else {
    const p = passwd.find((e) => e.name === userPart);
    if (!p) throw invalidArgument(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, home, name } = p);
  }
  if (groupPart) {
    if (isNum(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) throw invalidArgument(`uids and gids must be in range 0-${MAX_ID}`);
    } else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw invalidArgument(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // Supplementary groups come from /etc/group membership, as in Docker.
  const additionalGids = name ? groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, additionalGids, home };
}
