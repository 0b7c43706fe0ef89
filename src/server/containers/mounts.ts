// A create body's mounts in the engine's words: HostConfig.Binds
// (`-v src:dst[:mode]`), HostConfig.Mounts (`--mount`), HostConfig.Tmpfs
// (`--tmpfs`), HostConfig.VolumesFrom, and Config.Volumes with the image's
// VOLUMEs (anonymous volumes), with dockerd's parsing and its messages
// (moby's volume/mounts linux parser). And back: inspect's Mounts.
import type { MountPoint } from '../../api/types';
import { invalidArgument } from '../../errors';
import type { MountSpec, VolumesFromSpec } from '../../engine/containers/spec';
import { notSupported } from '../compat/fields';

type Propagation = NonNullable<MountSpec['propagation']>;
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const CONSISTENCY = ['consistent', 'cached', 'delegated', 'default'];

const specError = (raw: string) => invalidArgument(`invalid volume specification: '${raw}'`);
const mountError = (type: string, why: string) => invalidArgument(`invalid mount config for type "${type}": ${why}`);

// moby's ValidMountMode: each kind of option at most once.
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const count: Record<string, number> = {};
  for (const o of mode.split(',')) {
    const kind = o === 'rw' || o === 'ro' ? 'rw' : o === 'z' || o === 'Z' ? 'label' : PROPAGATIONS.includes(o) ? 'prop' : o === 'nocopy' ? 'copy' : CONSISTENCY.includes(o) ? 'cons' : '';
    if (!kind) return false;
    count[kind] = (count[kind] ?? 0) + 1;
    if (count[kind] > 1) return false;
  }
  return true;
}

function checkTarget(type: string, target: string): void {
  if (!target) throw mountError(type, 'field Target must not be empty');
  if (target.replace(/\/+$/, '') === '' && target.startsWith('/')) throw mountError(type, "invalid specification: destination can't be '/'");
  if (!target.startsWith('/')) throw mountError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

const clean = (p: string): string => {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (!s || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return '/' + parts.join('/');
};

// One HostConfig.Binds entry: "src:dst[:mode]", src a host path (bind) or
// a volume name.
export function parseBind(raw: string): MountSpec {
  if ((raw.match(/:/g) ?? []).length > 2) throw specError(raw);
  const arr = raw.split(':');
  if (arr[0] === '') throw specError(raw);
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) {
    target = arr[0];
  } else if (arr.length === 2) {
    if (validMode(arr[1])) throw specError(raw); // "/foo:rw": a volume cannot have a mode
    [source, target] = arr;
  } else {
    [source, target, mode] = arr;
  }
  if (!validMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
  const opts = mode ? mode.split(',') : [];
  const type = source.startsWith('/') ? 'bind' : 'volume';
  checkTarget(type, target);
  const readonly = opts.includes('ro');
  const propagation = opts.find((o) => PROPAGATIONS.includes(o)) as Propagation | undefined;
  if (type === 'bind') {
    return { type, source: clean(source), target: clean(target), readonly, mode, createHostPath: true, ...(propagation ? { propagation } : {}) };
  }
  if (propagation) throw mountError('volume', 'field BindOptions must not be specified');
  if (!source && readonly) throw mountError('volume', 'must not set ReadOnly mode when using anonymous volumes');
  return { type, source, target: clean(target), readonly, mode: mode || (source ? 'z' : ''), ...(source ? {} : { anonymous: true }), ...(opts.includes('nocopy') ? { noCopy: true } : {}) };
}

interface DockerMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  ImageOptions?: unknown;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

// One HostConfig.Mounts entry (`--mount`).
export function parseMount(m: DockerMount): MountSpec {
  if (!m || typeof m !== 'object') throw invalidArgument('json: cannot unmarshal into field HostConfig.Mounts of type mount.Mount');
  const type = m.Type ?? '';
  const target = m.Target ?? '';
  const readonly = !!m.ReadOnly;
  if (type === 'image') throw notSupported('HostConfig.Mounts.Type', 'image');
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw mountError(type, 'mount type unknown');
  checkTarget(type, target);
  if (present(m.ImageOptions)) throw mountError(type, 'field ImageOptions must not be specified');
  if (m.Consistency && !CONSISTENCY.includes(m.Consistency)) throw mountError(type, `invalid consistency: ${m.Consistency}`);
  if (type === 'bind') {
    const source = m.Source ?? '';
    if (!source) throw mountError(type, 'field Source must not be empty');
    if (present(m.VolumeOptions)) throw mountError(type, 'field VolumeOptions must not be specified');
    if (present(m.TmpfsOptions)) throw mountError(type, 'field TmpfsOptions must not be specified');
    if (!source.startsWith('/')) throw mountError(type, `invalid mount path: '${source}' mount path must be absolute`);
    const b = m.BindOptions ?? {};
    if (b.Propagation && !PROPAGATIONS.includes(b.Propagation)) throw mountError(type, `invalid propagation mode: ${b.Propagation}`);
    if (b.ReadOnlyNonRecursive) throw notSupported('HostConfig.Mounts.BindOptions.ReadOnlyNonRecursive');
    if (b.ReadOnlyForceRecursive) throw notSupported('HostConfig.Mounts.BindOptions.ReadOnlyForceRecursive');
    return {
      type: 'bind', source: clean(source), target: clean(target), readonly,
      ...(b.CreateMountpoint ? { createHostPath: true } : {}),
      ...(b.Propagation ? { propagation: b.Propagation as Propagation } : {}),
      ...(b.NonRecursive ? { nonRecursive: true } : {}),
    };
  }
  if (present(m.BindOptions)) throw mountError(type, 'field BindOptions must not be specified');
  if (type === 'volume') {
    if (present(m.TmpfsOptions)) throw mountError(type, 'field TmpfsOptions must not be specified');
    const v = m.VolumeOptions ?? {};
    if (v.Subpath) throw notSupported('HostConfig.Mounts.VolumeOptions.Subpath');
    const source = m.Source ?? '';
    if (!source && readonly) throw mountError(type, 'must not set ReadOnly mode when using anonymous volumes');
    const driver = v.DriverConfig?.Name ?? '';
    const options = v.DriverConfig?.Options ?? {};
    return {
      type: 'volume', source, target: clean(target), readonly, mode: 'z',
      ...(source ? {} : { anonymous: true }),
      ...(v.NoCopy ? { noCopy: true } : {}),
      ...(driver ? { driver } : {}),
      ...(Object.keys(options).length ? { driverOptions: options } : {}),
      ...(v.Labels && Object.keys(v.Labels).length ? { labels: v.Labels } : {}),
    };
  }
  if (m.Source) throw mountError(type, 'field Source must not be specified');
  if (present(m.VolumeOptions)) throw mountError(type, 'field VolumeOptions must not be specified');
  const t = m.TmpfsOptions ?? {};
  const opts: string[] = [];
  if (t.SizeBytes) {
    if (t.SizeBytes < 0) throw mountError(type, `invalid tmpfs size: ${t.SizeBytes}`);
    const unit = [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]].find(([, d]) => t.SizeBytes! % (d as number) === 0);
    opts.push(unit ? `size=${t.SizeBytes / (unit[1] as number)}${unit[0]}` : `size=${t.SizeBytes}`);
  }
  if (t.Mode) opts.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
  for (const o of t.Options ?? []) {
    if (!Array.isArray(o) || o.length < 1 || o.length > 2) throw mountError(type, `invalid tmpfs option ${JSON.stringify(o)}`);
    opts.push(o.join('='));
  }
  return { type: 'tmpfs', source: '', target: clean(target), readonly, tmpfsOptions: opts };
}

// HostConfig.Tmpfs: {"/run": "rw,size=64m"}.
export function parseTmpfs(map: Record<string, string>): MountSpec[] {
  return Object.entries(map).map(([target, opts]) => {
    checkTarget('tmpfs', target);
    const o = opts.split(',').filter(Boolean);
    return { type: 'tmpfs' as const, source: '', target: clean(target), readonly: o.includes('ro'), tmpfsOptions: o.filter((x) => x !== 'ro') };
  });
}

// HostConfig.VolumesFrom: "container[:ro|:rw]".
export function parseVolumesFrom(list: string[]): VolumesFromSpec[] {
  return list.map((raw) => {
    const i = raw.lastIndexOf(':');
    const [container, mode] = i > 0 ? [raw.slice(0, i), raw.slice(i + 1)] : [raw, ''];
    if (mode && mode !== 'ro' && mode !== 'rw') throw invalidArgument(`invalid mode: ${mode}`);
    if (!container) throw specError(raw);
    return { container, ...(mode ? { readonly: mode === 'ro' } : {}) };
  });
}

export interface MountFields {
  binds?: string[] | null;
  mounts?: DockerMount[] | null;
  tmpfs?: Record<string, string> | null;
  volumesFrom?: string[] | null;
  // Config.Volumes merged with the image's.
  volumes?: Record<string, unknown> | null;
}

export function mountsOf(f: MountFields): { mounts: MountSpec[]; volumesFrom: VolumesFromSpec[] } {
  const own = [
    ...(f.binds ?? []).map(parseBind),
    ...(f.mounts ?? []).map(parseMount),
    ...parseTmpfs(f.tmpfs ?? {}),
  ];
  const taken = new Set(own.map((m) => m.target));
  const anon: MountSpec[] = [];
  for (const t of Object.keys(f.volumes ?? {})) {
    checkTarget('volume', t);
    const target = clean(t);
    if (taken.has(target)) continue; // already mounted there
    taken.add(target);
    anon.push({ type: 'volume', source: '', target, readonly: false, anonymous: true });
  }
  return { mounts: [...own, ...anon], volumesFrom: parseVolumesFrom(f.volumesFrom ?? []) };
}

// inspect's Mounts, as dockerd fills them; tmpfs mounts from
// HostConfig.Tmpfs are not mount points there, and not shown.
export function mountPoints(mounts: MountSpec[], mountpoint: (volume: string) => string, tmpfsMap: Record<string, string> | null | undefined): MountPoint[] {
  const fromMap = new Set(Object.keys(tmpfsMap ?? {}).map(clean));
  const out: MountPoint[] = [];
  for (const m of mounts) {
    if (m.type === 'tmpfs') {
      if (fromMap.has(m.target)) continue;
      out.push({ Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: !m.readonly, Propagation: '' });
    } else if (m.type === 'bind') {
      out.push({ Type: 'bind', Source: m.source, Destination: m.target, Mode: m.mode ?? '', RW: !m.readonly, Propagation: m.propagation ?? 'rprivate' });
    } else {
      out.push({ Type: 'volume', Name: m.source, Source: mountpoint(m.source), Destination: m.target, Driver: m.driver || 'local', Mode: m.mode ?? '', RW: !m.readonly, Propagation: '' });
    }
  }
  return out;
}
