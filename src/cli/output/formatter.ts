// docker's formatter package: `--format` for list commands (table, json, or
// a custom Go template), with one context per row whose fields are the
// columns docker users know (`{{.Repository}}:{{.Tag}}`, `{{.Label "k"}}`).
import type { ContainerSummary, HistoryResponseItem, ImageSummary } from '../../api/types';
import { ellipsis, goQuote, humanSize, humanDuration, truncateId } from './format';
import { formatTable } from './table';
import { executeTemplate, GoStruct, HEADER_FUNCS, parseTemplate, TemplateError, type Template } from './template';

export const TABLE_FORMAT = 'table';
export const RAW_FORMAT = 'raw';
export const JSON_FORMAT = 'json';
export const QUIET_FORMAT = '{{.ID}}';

export function isTable(format: string): boolean {
  return format.startsWith(TABLE_FORMAT);
}

// docker's Context.preFormat: drop "table", map "json" to {{json .}}, trim
// spaces and expand the \t and \n escapes.
export function finalFormat(format: string): string {
  let f = format;
  if (isTable(f)) f = f.slice(TABLE_FORMAT.length);
  else if (f === JSON_FORMAT) f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function parseFormat(format: string): Template {
  try {
    return parseTemplate(finalFormat(format));
  } catch (e) {
    if (e instanceof TemplateError) throw new Error(`template parsing error: ${e.message}`);
    throw e;
  }
}

// docker's Context.Write: every row through the template, then (for a
// table) the header line, all aligned by the tabwriter.
export function formatWrite(format: string, header: GoStruct, rows: GoStruct[]): string {
  const tmpl = parseFormat(format);
  let buf = '';
  for (const row of rows) {
    try {
      buf += executeTemplate(tmpl, row);
    } catch (e) {
      if (e instanceof TemplateError) throw new Error(`template parsing error: ${e.message}`);
      throw e;
    }
    buf += '\n';
  }
  if (!isTable(format)) return buf;
  let head = '';
  try {
    head = executeTemplate(tmpl, header, HEADER_FUNCS);
  } catch (e) {
    // docker ignores errors in the header (it keeps what was written).
    if (!(e instanceof TemplateError)) throw e;
    head = (e as any).partial ?? '';
  }
  return tabwrite(`${head}\n${buf}`);
}

// text/tabwriter over tab-separated lines.
export function tabwrite(text: string): string {
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  const out = formatTable(lines.map((l) => l.split('\t')));
  return trailing ? out : out.slice(0, -1);
}

// docker's SubHeaderContext: a map of column names with a Label method.
export function headerContext(columns: Record<string, string>): GoStruct {
  return new GoStruct('formatter.SubHeaderContext', {
    Label: (name: string) => {
      const parts = String(name).split('.');
      return parts[parts.length - 1].replace(/[-_]/g, ' ');
    },
  }, columns);
}

// ---- time as Go prints it (local zone) ----

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function zoneAbbrev(d: Date): string {
  const off = -d.getTimezoneOffset();
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
    if (part && !/^GMT[+-]/.test(part)) return part === 'GMT' && off === 0 ? 'UTC' : part;
  } catch {
    // no Intl zone data
  }
  // Go names zones without an abbreviation by their offset ("+01", "-0330").
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad2(Math.floor(a / 60))}${a % 60 ? pad2(a % 60) : ''}`;
}

// Go's time.Unix(sec, 0).String(): "2006-01-02 15:04:05 -0700 MST".
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  const offset = `${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${offset} ${zoneAbbrev(d)}`;
}

// Go's time.Unix(sec, 0).Format(time.RFC3339).
export function goRFC3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
}

const ago = (unixSeconds: number, now: number) => `${humanDuration(now - unixSeconds * 1000)} ago`;

// ---- images ----

export const DEFAULT_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const DEFAULT_IMAGE_TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

// docker's NewImageFormat.
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE_FORMAT) return quiet ? QUIET_FORMAT : digest ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE;
  if (source === RAW_FORMAT) {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (isTable(source) && digest && !source.includes('{{.Digest}}')) return `${source}\t{{.Digest}}`;
  return source;
}

export const IMAGE_HEADER = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export interface ImageRow {
  repo: string;
  tag: string;
  digest: string;
  image: ImageSummary;
}

export function imageContext(r: ImageRow, trunc: boolean, now = Date.now()): GoStruct {
  const i = r.image;
  const size = i.Size ?? 0;
  const shared = i.SharedSize ?? 0;
  return new GoStruct('*formatter.imageContext', {
    ID: () => (trunc ? truncateId(i.Id) : i.Id),
    Repository: () => r.repo,
    Tag: () => r.tag,
    Digest: () => r.digest,
    CreatedSince: () => ago(i.Created ?? 0, now),
    CreatedAt: () => goTimeString(i.Created ?? 0),
    Size: () => humanSize(size, 3),
    Containers: () => (i.Containers === -1 ? 'N/A' : String(i.Containers ?? 0)),
    VirtualSize: () => humanSize(size, 4),
    SharedSize: () => (shared === -1 ? 'N/A' : humanSize(shared, 4)),
    UniqueSize: () => (size === -1 || shared === -1 ? 'N/A' : humanSize(size - shared, 4)),
  });
}

// ---- containers ----

export const DEFAULT_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

// docker's NewContainerFormat.
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE_FORMAT || source === '') {
    if (quiet) return QUIET_FORMAT;
    return size ? `${DEFAULT_CONTAINER_TABLE}\\t{{.Size}}` : DEFAULT_CONTAINER_TABLE;
  }
  if (source === RAW_FORMAT) {
    if (quiet) return 'container_id: {{.ID}}';
    let f = 'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n';
    if (size) f += 'size: {{.Size}}\\n';
    return f;
  }
  return quiet ? QUIET_FORMAT : source;
}

export const CONTAINER_HEADER = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

export interface ContainerFields {
  image: (c: ContainerSummary, trunc: boolean) => string;
  names: (c: ContainerSummary, trunc: boolean) => string;
  ports: (c: ContainerSummary) => string;
}

export function containerContext(c: ContainerSummary, trunc: boolean, f: ContainerFields, now = Date.now(), used?: Set<string>): GoStruct {
  const track = <T>(name: string, fn: () => T) => () => {
    used?.add(name);
    return fn();
  };
  return new GoStruct('*formatter.ContainerContext', {
    ID: track('ID', () => (trunc ? truncateId(c.Id ?? '') : c.Id ?? '')),
    Names: track('Names', () => f.names(c, trunc)),
    Image: track('Image', () => f.image(c, trunc)),
    Command: track('Command', () => goQuote(trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? '')),
    CreatedAt: track('CreatedAt', () => goTimeString(c.Created ?? 0)),
    RunningFor: track('RunningFor', () => ago(c.Created ?? 0, now)),
    Ports: track('Ports', () => f.ports(c)),
    State: track('State', () => c.State ?? ''),
    Status: track('Status', () => c.Status ?? ''),
    Size: track('Size', () => {
      const rw = humanSize(c.SizeRw ?? 0, 3);
      return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(c.SizeRootFs!, 3)})` : rw;
    }),
    Labels: track('Labels', () => {
      if (!c.Labels) return '';
      return Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).sort().join(',');
    }),
    Label: (name: string) => {
      used?.add('Label');
      return c.Labels?.[String(name)] ?? '';
    },
    Mounts: track('Mounts', () => (c.Mounts ?? []).map((m) => {
      const name = m.Name || m.Source || '';
      return trunc ? ellipsis(name, 15) : name;
    }).join(',')),
    LocalVolumes: track('LocalVolumes', () => String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length)),
    Networks: track('Networks', () => Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(',')),
    Platform: track('Platform', () => {
      const p = c.ImageManifestDescriptor?.platform;
      if (!p) return null;
      return [p.os ?? 'unknown', p.architecture ?? 'unknown', p.variant].filter(Boolean).join('/');
    }),
  });
}

// ---- history ----

export const DEFAULT_HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const NON_HUMAN_HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === TABLE_FORMAT) return quiet ? QUIET_FORMAT : human ? DEFAULT_HISTORY_TABLE : NON_HUMAN_HISTORY_TABLE;
  return source;
}

export const HISTORY_HEADER = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

// Before 2000-01-01 a creation date is shown as N/A.
const EPOCH_2000 = 946684800;

export function historyContext(h: HistoryResponseItem, trunc: boolean, human: boolean, now = Date.now()): GoStruct {
  const createdAt = () => goRFC3339(h.Created);
  return new GoStruct('*image.historyContext', {
    ID: () => (trunc ? truncateId(h.Id) : h.Id),
    CreatedAt: createdAt,
    CreatedSince: () => {
      if (!human) return createdAt();
      if (h.Created <= EPOCH_2000) return 'N/A';
      return ago(h.Created, now);
    },
    CreatedBy: () => {
      const by = (h.CreatedBy ?? '').replace(/\t/g, ' ');
      return trunc ? ellipsis(by, 45) : by;
    },
    Size: () => (human ? humanSize(h.Size ?? 0, 3) : String(h.Size ?? 0)),
    Comment: () => h.Comment ?? '',
  });
}
