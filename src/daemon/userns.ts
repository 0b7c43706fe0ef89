// userns-remap (dockerd's --userns-remap): containers' root is an
// unprivileged range of host ids, read from /etc/subuid and /etc/subgid
// for a user (and group); "default" is dockerd's `dockremap`, made with its
// ranges when missing (useradd, usermod from Debian's passwd; the files are
// the ones Debian's uidmap tools read).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface Remap {
  user: string;
  group: string;
  // The host ids container id 0 maps to, and how many ids follow.
  uid: number;
  gid: number;
  size: number;
}

const DEFAULT_USER = 'dockremap';

export class RemapError extends Error {}

// "user", "user:group", "uid:gid" or "default".
export function parseRemap(spec: string): { user: string; group?: string } {
  const [user, group, extra] = spec.split(':');
  if (!user || extra !== undefined || group === '') throw new RemapError(`invalid userns-remap ${JSON.stringify(spec)}: expected user[:group] or default`);
  return { user, ...(group ? { group } : {}) };
}

// A subordinate-id file's ranges ("name:start:count" lines) for a name or id.
export function subRanges(text: string, names: string[]): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [n, start, count] = line.trim().split(':');
    if (!names.includes(n) || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

// Where a new range goes: after every range in either file, at 100000 at least.
export function nextRangeStart(...texts: string[]): number {
  let end = 100000;
  for (const t of texts) for (const r of subRanges(t, t.split('\n').map((l) => l.split(':')[0]))) end = Math.max(end, r.start + r.count);
  return end;
}

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, key], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

// Resolves the remap, making dockerd's default user and its ranges first.
export function resolveRemap(spec: string, files = { subuid: '/etc/subuid', subgid: '/etc/subgid' }): Remap {
  let { user, group } = parseRemap(spec);
  if (user === 'default') {
    user = DEFAULT_USER;
    group = DEFAULT_USER;
    if (!getent('passwd', user)) execFileSync('useradd', ['--system', '--shell', '/bin/false', '--user-group', user], { stdio: 'ignore' });
    for (const f of [files.subuid, files.subgid]) if (!fs.existsSync(f)) fs.writeFileSync(f, '', { mode: 0o644 });
    if (!subRanges(read(files.subuid), [user]).length || !subRanges(read(files.subgid), [user]).length) {
      const start = nextRangeStart(read(files.subuid), read(files.subgid));
      execFileSync('usermod', ['--add-subuids', `${start}-${start + 65535}`, '--add-subgids', `${start}-${start + 65535}`, user], { stdio: 'ignore' });
    }
  }
  const pw = getent('passwd', user);
  if (!pw) throw new RemapError(`userns-remap: user ${JSON.stringify(user)} not found`);
  const groupName = group ?? pw[0];
  const gr = getent('group', groupName);
  if (!gr) throw new RemapError(`userns-remap: group ${JSON.stringify(groupName)} not found`);
  // Ranges are listed under the name or the numeric id.
  const uids = subRanges(read(files.subuid), [pw[0], pw[2]]);
  const gids = subRanges(read(files.subgid), [gr[0], gr[2]]);
  if (!uids.length) throw new RemapError(`userns-remap: no subuid ranges found for user "${pw[0]}" in ${files.subuid}`);
  if (!gids.length) throw new RemapError(`userns-remap: no subgid ranges found for group "${gr[0]}" in ${files.subgid}`);
  // One range each (the first); both as long as the shorter.
  return { user: pw[0], group: gr[0], uid: uids[0].start, gid: gids[0].start, size: Math.min(uids[0].count, gids[0].count) };
}
