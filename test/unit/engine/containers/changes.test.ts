import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { computeChanges, sameFsTime, type LowerStat } from '../../../../src/engine/containers/changes';
import { goFileMode, walkUpper, type UpperEntry } from '../../../../src/engine/layers/inroot';

const noXattrs = { lgetxattr: () => null };

function lowerOf(dir: string): (p: string) => Promise<LowerStat | undefined> {
  return async (p) => {
    try {
      const st = fs.statSync(path.join(dir, p), { bigint: true });
      return { size: Number(st.size), mode: goFileMode(Number(st.mode)), mtimeNs: st.mtimeNs };
    } catch {
      return undefined;
    }
  };
}

// As the docker CLI prints them.
const LETTER: Record<string, string> = { modified: 'C', added: 'A', deleted: 'D' };
const show = (cs: Array<{ path: string; kind: string }>) => cs.map((c) => `${LETTER[c.kind]} ${c.path}`);

describe('docker diff (computeChanges)', () => {
  it('gives what dockerd prints for touch /a; rm /etc/passwd; mkdir -p /x/y; echo > /bin/newfile', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-changes-'));
    try {
      const lower = path.join(base, 'lower');
      const upper = path.join(base, 'upper');
      for (const d of ['bin', 'etc', 'usr/lib']) fs.mkdirSync(path.join(lower, d), { recursive: true });
      fs.writeFileSync(path.join(lower, 'etc/passwd'), 'root\n');
      fs.writeFileSync(path.join(lower, 'etc/group'), 'root\n');
      // The image's directories are older than anything the container does.
      for (const d of ['bin', 'etc', 'usr/lib', 'usr']) fs.utimesSync(path.join(lower, d), 1000, 1000);
      // The upper dir as overlayfs leaves it: copied-up parents (their times
      // changed by the writes), the new files, a whiteout for the removal
      // (a char 0/0 device, given here as its walk entry: mknod needs root).
      fs.mkdirSync(path.join(upper, 'bin'), { recursive: true });
      fs.mkdirSync(path.join(upper, 'etc'));
      fs.mkdirSync(path.join(upper, 'x/y'), { recursive: true });
      fs.writeFileSync(path.join(upper, 'a'), '');
      fs.writeFileSync(path.join(upper, 'bin/newfile'), '\n');
      const entries: UpperEntry[] = [];
      for await (const e of walkUpper(upper, noXattrs)) entries.push(e);
      const at = entries.findIndex((e) => e.path === '/etc') + 1;
      entries.splice(at, 0, { path: '/etc/passwd', dir: false, size: 0, mode: goFileMode(0o020000), mtimeNs: '0', whiteout: true, opaque: false });
      const got = show(await computeChanges(entries, lowerOf(lower)));
      assert.deepEqual(got, ['A /a', 'C /bin', 'A /bin/newfile', 'C /etc', 'D /etc/passwd', 'A /x', 'A /x/y']);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('skips a directory that is only a parent, and still lists it (once) as the parent of a change', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-changes-'));
    try {
      const lower = path.join(base, 'lower');
      fs.mkdirSync(path.join(lower, 'usr/lib'), { recursive: true });
      const st = fs.statSync(path.join(lower, 'usr'), { bigint: true });
      const same = (p: string, dir = true): UpperEntry => ({ path: p, dir, size: Number(st.size), mode: goFileMode(Number(st.mode)), mtimeNs: st.mtimeNs.toString(), whiteout: false, opaque: false });
      const entries: UpperEntry[] = [same('/usr'), same('/usr/lib'), { ...same('/usr/lib/new', false), mode: 0o644 }, { ...same('/usr/lib/gone', false), whiteout: true }];
      const got = show(await computeChanges(entries, lowerOf(lower)));
      assert.deepEqual(got, ['C /usr/lib', 'A /usr/lib/new', 'D /usr/lib/gone']);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('reads an opaque directory as deleted, its new children as added, and skips aufs metadata', async () => {
    const entries: UpperEntry[] = [
      { path: '/.wh..wh.plnk', dir: true, size: 0, mode: goFileMode(0o040700), mtimeNs: '0', whiteout: false, opaque: false },
      { path: '/var', dir: true, size: 1, mode: goFileMode(0o040755), mtimeNs: '5', whiteout: false, opaque: false },
      { path: '/var/spool', dir: true, size: 1, mode: goFileMode(0o040755), mtimeNs: '5', whiteout: false, opaque: true },
      { path: '/var/spool/new', dir: false, size: 0, mode: 0o644, mtimeNs: '5', whiteout: false, opaque: false },
    ];
    const lower = async (p: string): Promise<LowerStat | undefined> => (p === '/var' || p === '/var/spool' ? { size: 1, mode: goFileMode(0o040755), mtimeNs: 1_000_000_000n } : undefined);
    assert.deepEqual(show(await computeChanges(entries, lower)), ['C /var', 'D /var/spool', 'A /var/spool/new']);
  });

  it('compares times as moby does: equal, or the same second when one side has no nanoseconds', () => {
    assert.equal(sameFsTime(1_500_000_000n, 1_500_000_000n), true);
    assert.equal(sameFsTime(1_000_000_000n, 1_500_000_000n), true);
    assert.equal(sameFsTime(1_200_000_000n, 1_500_000_000n), false);
    assert.equal(sameFsTime(1_000_000_000n, 2_000_000_000n), false);
  });
});
