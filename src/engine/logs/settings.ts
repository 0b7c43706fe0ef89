// A container's log driver and its options, in the engine's words, and
// Docker's log-opt vocabulary read into them (with dockerd's checks and
// words), shared by the create path and the daemon's defaults.
import * as path from 'node:path';
import { invalidArgument } from '../../errors';

// 'k8s-file': conmon's own file, what containers made before the log
// drivers had; read, never chosen.
export type LogDriver = 'json-file' | 'local' | 'none' | 'k8s-file';

export interface LogSettings {
  driver: LogDriver;
  // Bytes per file before rotating; 0 means never rotate.
  maxSize: number;
  // Files kept, the one being written included.
  maxFile: number;
  // Rotated files are gzipped.
  compress: boolean;
  // labels/env attributes, written with every record (--details shows them).
  attrs?: Record<string, string>;
}

// docker's own default is json-file without a cap; berth caps it (the
// daemon's log-opts when daemon.json names none).
export const DEFAULT_LOG_DRIVER = 'json-file';
export const DEFAULT_JSON_FILE_OPTS: Record<string, string> = { 'max-size': '10m', 'max-file': '3' };

// docker's local driver defaults: 20 MB x 5, compressed.
const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
const LOCAL_MAX_FILE = 5;

// Drivers dockerd has that berth does not (refused by name, not as unknown).
const OTHER_DOCKER_DRIVERS = ['syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];

const ATTR_OPTS = ['labels', 'labels-regex', 'env', 'env-regex'];

// go-units FromHumanSize: decimal units ("10m" is 10,000,000 bytes).
export function fromHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw invalidArgument(`invalid size: '${s}'`);
  const unit = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Math.trunc(Number(m[1]) * unit);
}

function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw invalidArgument(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  throw invalidArgument(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

// The driver name checked as dockerd does at create.
export function checkDriver(type: string): asserts type is 'json-file' | 'local' | 'none' {
  if (type === 'json-file' || type === 'local' || type === 'none') return;
  if (OTHER_DOCKER_DRIVERS.includes(type)) throw invalidArgument(`berth does not implement the ${type} log driver yet (json-file, local and none are served)`);
  throw invalidArgument(`logger: no log driver named '${type}' is registered`);
}

// Docker's LogConfig after the daemon's defaults are merged in (as dockerd's
// mergeAndVerifyLogConfig: the daemon's log-opts apply to a container of
// the daemon's driver, for the keys it does not set).
export function mergeLogConfig(type: string, config: Record<string, string>, defaults: { type: string; config: Record<string, string> }): { type: string; config: Record<string, string> } {
  const t = type || defaults.type;
  const c = { ...config };
  if (t === defaults.type) for (const [k, v] of Object.entries(defaults.config)) if (!(k in c)) c[k] = v;
  return { type: t, config: c };
}

// What labels/env options attach to each record, from the container's
// labels and environment (dockerd's logger.Info.ExtraAttributes).
function attributes(opts: Record<string, string>, labels: Record<string, string>, env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const envMap = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  for (const k of list(opts.labels)) if (k in labels) out[k] = labels[k];
  if (opts['labels-regex']) {
    const re = new RegExp(opts['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) out[k] = v;
  }
  for (const k of list(opts.env)) if (envMap.has(k)) out[k] = envMap.get(k)!;
  if (opts['env-regex']) {
    const re = new RegExp(opts['env-regex']);
    for (const [k, v] of envMap) if (re.test(k)) out[k] = v;
  }
  return out;
}

// Reads a merged LogConfig into settings, refusing what dockerd refuses
// (in its words) and what berth does not do (by name).
export function logSettings(type: string, opts: Record<string, string>, ctx: { labels?: Record<string, string>; env?: string[] } = {}): LogSettings {
  checkDriver(type);
  const keys = Object.keys(opts);
  if (type === 'none') {
    if (keys.length) throw invalidArgument(`the none log driver takes no options (log opt '${keys[0]}')`);
    return { driver: 'none', maxSize: 0, maxFile: 1, compress: false };
  }
  for (const k of keys) {
    if (k === 'mode') {
      if (opts.mode !== 'blocking' && opts.mode !== 'non-blocking') throw invalidArgument(`logger: logging mode not supported: ${opts.mode}`);
      if (opts.mode === 'non-blocking') throw invalidArgument('log opt mode=non-blocking is not supported by berth: the container waits for its logger (blocking)');
      continue;
    }
    if (k === 'max-buffer-size') throw invalidArgument(`log opt 'max-buffer-size' is not supported by berth (it only applies to mode=non-blocking)`);
    if (k === 'tag') throw invalidArgument(`log opt 'tag' is not supported by berth yet`);
    if (['max-size', 'max-file', 'compress', ...ATTR_OPTS].includes(k)) continue;
    throw invalidArgument(type === 'json-file' ? `unknown log opt '${k}' for json-file log driver` : `unknown log opt '${k}' for log driver local`);
  }
  for (const k of ['labels-regex', 'env-regex']) {
    if (opts[k] === undefined) continue;
    try {
      new RegExp(opts[k]);
    } catch {
      throw invalidArgument(`error parsing ${k}: invalid regular expression ${JSON.stringify(opts[k])}`);
    }
  }
  const attrs = attributes(opts, ctx.labels ?? {}, ctx.env ?? []);
  const withAttrs = Object.keys(attrs).length ? { attrs } : {};
  if (type === 'local') {
    let maxSize = LOCAL_MAX_SIZE;
    let maxFile = LOCAL_MAX_FILE;
    let compress = true;
    if (opts['max-size'] !== undefined) {
      try {
        maxSize = fromHumanSize(opts['max-size']);
      } catch (err) {
        throw invalidArgument(`error parsing max-size: ${(err as Error).message}`);
      }
    }
    if (opts['max-file'] !== undefined) {
      try {
        maxFile = atoi(opts['max-file']);
      } catch (err) {
        throw invalidArgument(`error reading max-file: ${(err as Error).message}`);
      }
    }
    if (opts.compress !== undefined) {
      try {
        compress = parseBool(opts.compress);
      } catch (err) {
        throw invalidArgument(`error reading compress: ${(err as Error).message}`);
      }
    }
    if (maxSize < 0) throw invalidArgument('max size should be a positive number');
    if (maxFile < 0) throw invalidArgument('max file count cannot be less than 0');
    // Unbounded local logs (max-size 0) are refused: berth's promise is a
    // cap on every container's logs.
    if (maxSize === 0) throw invalidArgument('log opt max-size=0 (no limit) is not supported by berth: logs are always capped');
    return { driver: 'local', maxSize, maxFile: Math.max(1, maxFile), compress: compress && maxFile > 1, ...withAttrs };
  }
  // json-file
  let maxSize = 0;
  let maxFile = 1;
  let compress = false;
  if (opts['max-size'] !== undefined) {
    maxSize = fromHumanSize(opts['max-size']);
    if (maxSize <= 0) throw invalidArgument('max-size must be a positive number');
  }
  if (opts['max-file'] !== undefined) {
    maxFile = atoi(opts['max-file']);
    if (maxFile < 1) throw invalidArgument('max-file cannot be less than 1');
  }
  if (opts.compress !== undefined) {
    compress = parseBool(opts.compress);
    if (compress && (maxFile === 1 || maxSize === 0)) throw invalidArgument('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
  // dockerd: max-file only counts with max-size.
  if (maxSize === 0) maxFile = 1;
  return { driver: 'json-file', maxSize, maxFile, compress, ...withAttrs };
}

// Where a container's log lives, as dockerd names it: json-file
// `<id>-json.log` in the container's dir, local `local-logs/container.log`;
// a container from before the drivers, conmon's `container.log`.
export function logPath(dir: string, id: string, driver: LogDriver): string {
  switch (driver) {
    case 'json-file': return path.join(dir, `${id}-json.log`);
    case 'local': return path.join(dir, 'local-logs', 'container.log');
    case 'k8s-file': return path.join(dir, 'container.log');
    case 'none': return '';
  }
}
