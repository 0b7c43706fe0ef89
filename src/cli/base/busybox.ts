// Builds a busybox root filesystem tar from Debian's busybox-static, so a base
// image exists without Docker Hub. The tar is streamed to `POST /images/create`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { pack, type Pack } from 'tar-stream';

export const BUSYBOX_PATH = '/bin/busybox';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n';

export function busyboxTar(binary = BUSYBOX_PATH): Pack {
  const bin = fs.readFileSync(binary);
  if (!execFileSync(binary, ['--help'], { encoding: 'utf8' }).includes('BusyBox')) {
    throw new Error(`${binary} is not busybox`);
  }
  const applets = execFileSync(binary, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const mtime = fs.statSync(binary).mtime;
  const p = pack();
  const dir = (name: string, mode = 0o755) => p.entry({ name, type: 'directory', mode, mtime });
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'usr', 'usr/bin', 'usr/sbin', 'sbin', 'var', 'var/spool', 'var/spool/mail', 'var/www']) dir(d);
  dir('tmp', 0o1777);
  p.entry({ name: 'bin/busybox', mode: 0o755, mtime }, bin);
  p.entry({ name: 'etc/passwd', mode: 0o644, mtime }, PASSWD);
  p.entry({ name: 'etc/group', mode: 0o644, mtime }, GROUP);
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    // Hard links carry the target's mode: dockerd applies it to the shared inode.
    p.entry({ name: a, type: 'link', linkname: 'bin/busybox', mode: 0o755, mtime });
  }
  p.finalize();
  return p;
}
