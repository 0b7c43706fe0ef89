// The local driver's options (`docker volume create -o type=… -o o=… -o
// device=…`), turned into a mount(2) call as dockerd's local driver makes
// it, and the tmpfs options of a container's tmpfs mounts. Pure: no I/O.
import { invalidArgument } from '../../errors';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC } from '../../host';

const LOCAL_OPTIONS = ['type', 'device', 'o'];

// Volume names the local driver takes (dockerd's words for the others).
export function validateVolumeName(name: string): void {
  if (name.length < 2) throw invalidArgument(`volume name is too short, names should be at least two alphanumeric characters`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw invalidArgument(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

export function validateLocalOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (k === 'size') throw invalidArgument('quota size requested but no quota support');
    if (!LOCAL_OPTIONS.includes(k)) throw invalidArgument(`invalid option: "${k}"`);
  }
  // dockerd's mandatory pairs: device and type go together, o needs both.
  const required: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };
  for (const [k, needs] of Object.entries(required)) {
    if (!(k in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw invalidArgument(`missing required option: "${n}"`);
  }
  const flags = mountOptions(opts.o ?? '');
  if ((flags.flags & MS_BIND) && !(opts.device ?? '').startsWith('/')) throw invalidArgument(`invalid option: bind mount source ${JSON.stringify(opts.device ?? '')} must be an absolute path`);
}

// Whether the volume's _data is a mount point of its own (mounted at first use).
export const needsMount = (opts: Record<string, string>): boolean => !!opts.type;

export interface MountCall {
  source: string;
  fstype: string | null;
  flags: number;
  data: string;
  // A bind mount made read-only needs a second call (the kernel ignores
  // MS_RDONLY on the first).
  remountReadonly: boolean;
}

const FLAGS: Record<string, [set: boolean, flag: number]> = {
  ro: [true, MS_RDONLY], rw: [false, MS_RDONLY],
  nosuid: [true, MS_NOSUID], suid: [false, MS_NOSUID],
  nodev: [true, MS_NODEV], dev: [false, MS_NODEV],
  noexec: [true, MS_NOEXEC], exec: [false, MS_NOEXEC],
  bind: [true, MS_BIND], rbind: [true, MS_BIND | MS_REC],
  sync: [true, 0x10], async: [false, 0x10], dirsync: [true, 0x80],
  mand: [true, 0x40], nomand: [false, 0x40],
  noatime: [true, 0x400], atime: [false, 0x400], nodiratime: [true, 0x800], diratime: [false, 0x800],
  relatime: [true, 1 << 21], norelatime: [false, 1 << 21], strictatime: [true, 1 << 24], nostrictatime: [false, 1 << 24],
  defaults: [false, 0],
};

// "o=": the flags mount(2) takes, the rest as the filesystem's data (as
// moby's mount.ParseOptions splits them).
export function mountOptions(o: string): { flags: number; data: string[] } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of o.split(',').filter(Boolean)) {
    const f = FLAGS[opt];
    if (!f) data.push(opt);
    else if (f[0]) flags |= f[1];
    else flags &= ~f[1];
  }
  return { flags, data };
}

export function mountCall(opts: Record<string, string>): MountCall {
  const { flags, data } = mountOptions(opts.o ?? '');
  const bind = (flags & MS_BIND) !== 0;
  return {
    source: opts.device || opts.type,
    fstype: bind ? null : opts.type,
    flags: bind ? flags & ~MS_RDONLY : flags,
    data: data.join(','),
    remountReadonly: bind && (flags & MS_RDONLY) !== 0,
  };
}

// Docker's tmpfs defaults, with the user's options over them: an option
// replaces its opposite (exec for noexec) or an earlier value (size=).
export function mergeTmpfsOptions(user: string[]): string[] {
  const out = ['noexec', 'nosuid', 'nodev'];
  const opposite: Record<string, string> = { exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev', rw: 'ro', ro: 'rw' };
  for (const opt of user) {
    if (!opt) continue;
    const key = opt.includes('=') ? opt.slice(0, opt.indexOf('=') + 1) : opt;
    for (let i = out.length - 1; i >= 0; i--) {
      if (out[i] === opposite[opt] || out[i] === opt || (key.endsWith('=') && out[i].startsWith(key))) out.splice(i, 1);
    }
    out.push(opt);
  }
  return out;
}
