// -v, --mount and --tmpfs as the docker CLI reads them: compose's
// ParseVolume for -v (a spec with a source is a bind or named volume for
// HostConfig.Binds; one without is an anonymous volume in Config.Volumes),
// opts.MountOpt's CSV for --mount (HostConfig.Mounts), and --tmpfs
// PATH[:OPTIONS] (HostConfig.Tmpfs).
import * as path from 'node:path';
import { parseBytes } from '../args';
import { readCSVRecord } from './csv';

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

const isLetter = (c: string | undefined) => c !== undefined && /^\p{L}$/u.test(c);

// compose's loader.ParseVolume (only what the CLI uses of it: the source,
// the target and the type).
export function parseVolume(spec: string): VolumeSpec {
  const chars = [...spec];
  if (chars.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { type: 'volume', source: '', target: spec };
  const v = { source: '', target: '' };
  const typeOf = (): 'bind' | 'volume' => (v.source !== '' && isFilePath(v.source) ? 'bind' : 'volume');
  let buffer: string[] = [];
  const END = '\0end';
  for (const ch of [...chars, END]) {
    if (ch === ':' && buffer.length === 1 && isLetter(buffer[0])) {
      // A Windows drive letter ("c:").
      buffer.push(ch);
    } else if (ch === ':' || ch === END) {
      const s = buffer.join('');
      let err = '';
      if (buffer.length === 0) err = 'empty section between colons';
      else if (v.source === '' && ch === END) v.target = s;
      else if (v.source === '') v.source = s;
      else if (v.target === '') v.target = s;
      else if (ch === ':') err = 'too many colons';
      // Otherwise the options (ro, rw, nocopy, propagation): the daemon reads them.
      if (err) throw new Error(`invalid spec: ${spec}: ${err}`);
      buffer = [];
    } else {
      buffer.push(ch);
    }
  }
  return { type: typeOf(), source: v.source, target: v.target };
}

function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0])) return true;
  const chars = [...source];
  if (chars.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return chars[1] === ':' && isLetter(chars[0]);
}

// -v values: Binds (a relative bind source made absolute) and the
// anonymous volumes (keyed by the spec as given). docker walks a Go map
// here, so its Binds come in no particular order; berth keeps the order
// given (and drops repeats, as the map does).
export function parseVolumeFlags(values: string[], cwd = process.cwd()): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of new Set(values)) {
    const v = parseVolume(spec);
    if (v.source === '') {
      volumes[spec] = {};
      continue;
    }
    let bind = spec;
    if (v.type === 'bind') {
      const colon = spec.indexOf(':');
      if (colon >= 0) {
        let host = spec.slice(0, colon);
        if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(cwd, host);
        bind = `${host}:${spec.slice(colon + 1)}`;
      }
    }
    binds.push(bind);
  }
  return { binds, volumes };
}

// --tmpfs PATH[:OPTIONS]; the last one for a path wins.
export function parseTmpfs(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of values) {
    const colon = t.indexOf(':');
    if (colon < 0) out[t] = '';
    else out[t.slice(0, colon)] = t.slice(colon + 1);
  }
  return out;
}

// HostConfig.Mounts[] as the Engine API spells it (Go's omitempty).
export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

// strconv.ParseBool.
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

// opts.MountOpt.Set: one --mount value.
export function parseMount(value: string, cwd = process.cwd()): Mount {
  const fields = readCSVRecord(value);
  const m: Mount = { Type: 'volume' };
  let readOnly = false;
  const volumeOptions = () => {
    m.VolumeOptions ??= { Labels: {} };
    m.VolumeOptions.DriverConfig ??= {};
    return m.VolumeOptions;
  };
  const bindOptions = () => (m.BindOptions ??= {});
  const tmpfsOptions = () => (m.TmpfsOptions ??= {});
  const imageOptions = () => (m.ImageOptions ??= {});
  const setOnMap = (target: Record<string, string>, kv: string) => {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k !== '') target[k] = eq < 0 ? '' : kv.slice(eq + 1);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') readOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const bool = (what = `invalid value for ${key}: ${val}`) => {
      const b = parseBool(val);
      if (b === undefined) throw new Error(what);
      return b;
    };
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        readOnly = bool();
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool();
        break;
      case 'bind-recursive':
        if (val === 'enabled') break;
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val === 'writable') bindOptions().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bindOptions().ReadOnlyForceRecursive = true;
        else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(`invalid value for volume-nocopy: ${val}`);
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels!, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig!.Options ??= {}), val);
        break;
      case 'image-subpath':
        imageOptions().Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = parseBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (readOnly) m.ReadOnly = true;
  if (!m.Type) throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.ImageOptions && m.Type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (m.BindOptions?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (m.BindOptions.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  // In the order of Go's mount.Mount.
  const keys: (keyof Mount)[] = ['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'BindOptions', 'VolumeOptions', 'ImageOptions', 'TmpfsOptions'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (m[k] !== undefined) out[k] = m[k];
  return out as Mount;
}
