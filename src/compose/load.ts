// Loading a project: the files (-f, COMPOSE_FILE, or compose.yaml found
// from the working directory up), the environment (the process's over
// .env or --env-file), interpolation, include, extends, the merge of the
// files in order, profiles, validation with key paths, and the defaults
// (the default network, resource names).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { ComposeError, keyPath } from './errors';
import { interpolateTree, Tagged, type Lookup } from './interpolate';
import { parseDotenv } from './dotenv';
import { mergeEntries, mergeService } from './merge';
import type { FileObject, Network, Project, Service, Volume } from './model';
import { applyEnvFiles, checkKeys, normaliseFileObject, normaliseNetwork, normaliseService, normaliseVolume, type Marks, type PartialService } from './normalise';
import { isMap, list, mapOf, type Raw, str, strList } from './values';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  // Reads a file, undefined when it does not exist (tests pass a map).
  readFile?: (file: string) => string | undefined;
  exists?: (file: string) => boolean;
}

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

function defaultRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

// YAML with compose's !reset and !override tags.
export function parseYaml(text: string, file: string): Raw {
  const doc = YAML.parseDocument(text, { merge: true, uniqueKeys: true });
  if (doc.errors.length) throw new ComposeError('', `${file}: ${doc.errors[0].message.split('\n')[0]}`);
  const walk = (n: unknown): void => {
    if (!YAML.isCollection(n)) return;
    for (const it of n.items) {
      const v = YAML.isPair(it) ? it.value : it;
      if (YAML.isNode(v) && (v.tag === '!reset' || v.tag === '!override')) {
        const tag = v.tag;
        v.tag = undefined;
        const js = v.toJS(doc);
        if (YAML.isPair(it)) it.value = new YAML.Scalar(new Tagged(tag, tag === '!reset' ? null : js));
      } else walk(v);
    }
  };
  walk(doc.contents);
  const bad = doc.warnings.find((w) => !/Unresolved tag: !(reset|override)/.test(w.message));
  if (bad) throw new ComposeError('', `${file}: ${bad.message.split('\n')[0]}`);
  const js = doc.toJS({ maxAliasCount: 10000 });
  if (js === null || js === undefined) return {};
  if (!isMap(js)) throw new ComposeError('', `${file}: the top level must be a mapping`);
  return js;
}

// compose's NormalizeProjectName: lower case, only [a-z0-9_-].
export function normaliseProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

const TOP_KEYS = ['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include', 'models'];

// What one file (and what it includes) contributes.
interface FileModel {
  name?: string;
  services: Record<string, { svc: PartialService; marks: Marks }>;
  networks: Record<string, Partial<Network>>;
  volumes: Record<string, Partial<Volume>>;
  secrets: Record<string, Partial<FileObject>>;
  configs: Record<string, Partial<FileObject>>;
}

class Loader {
  readonly read: (f: string) => string | undefined;
  private rawCache = new Map<string, Record<string, Raw>>();

  constructor(readonly opts: LoadOptions, readonly lookup: Lookup) {
    this.read = opts.readFile ?? defaultRead;
  }

  // A file parsed and interpolated (with the lookup of the project it belongs to).
  raw(file: string, lookup: Lookup): Record<string, Raw> {
    const cached = this.rawCache.get(file);
    if (cached) return cached;
    const text = this.read(file);
    if (text === undefined) throw new ComposeError('', `open ${file}: no such file or directory`);
    const parsed = mapOf(parseYaml(text, file), '');
    checkKeys(parsed, '', TOP_KEYS);
    if (parsed.models !== undefined) throw new ComposeError('models', 'not supported by berth compose yet');
    const m = interpolateTree(parsed, lookup) as Record<string, Raw>;
    this.rawCache.set(file, m);
    return m;
  }

  // One file: its includes first, then its own definitions (relative paths
  // resolved against `base`), with extends resolved.
  file(file: string, base: string, lookup: Lookup, chain: string[] = []): FileModel {
    if (chain.includes(file)) throw new ComposeError('include', `include cycle: ${[...chain, file].join(' -> ')}`);
    const m = this.raw(file, lookup);
    const out: FileModel = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
    if (m.name !== undefined) out.name = str(m.name, 'name');
    if (m.include !== undefined) {
      list(m.include, 'include').forEach((x, i) => {
        const ip = keyPath('include', i);
        let paths: string[];
        let projectDir: string | undefined;
        let envFiles: string[] | undefined;
        if (typeof x === 'string') paths = [x];
        else {
          const im = mapOf(x, ip);
          checkKeys(im, ip, ['path', 'project_directory', 'env_file']);
          paths = strList(im.path, `${ip}.path`);
          if (im.project_directory !== undefined) projectDir = path.resolve(base, str(im.project_directory, `${ip}.project_directory`));
          if (im.env_file !== undefined) envFiles = strList(im.env_file, `${ip}.env_file`).map((f) => path.resolve(base, f));
        }
        const abs = paths.map((p) => path.resolve(base, p));
        const incBase = projectDir ?? path.dirname(abs[0]);
        // An included project has its own .env; the including environment wins.
        let incLookup = lookup;
        const envs = envFiles ?? [path.join(incBase, '.env')];
        const vars: Record<string, string> = {};
        for (const f of envs) {
          const text = this.read(f);
          if (text === undefined) {
            if (envFiles) throw new ComposeError(`${ip}.env_file`, `env file ${f} not found`);
            continue;
          }
          Object.assign(vars, parseDotenv(text, f, lookup));
        }
        if (Object.keys(vars).length) incLookup = (n) => lookup(n) ?? vars[n];
        let inc: FileModel | undefined;
        for (const f of abs) {
          const one = this.file(f, incBase, incLookup, [...chain, file]);
          inc = inc ? mergeModels(inc, one) : one;
        }
        if (!inc) return;
        for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
          for (const [k, v] of Object.entries(inc[kind])) {
            if (out[kind][k] !== undefined && JSON.stringify(out[kind][k]) !== JSON.stringify(v)) {
              throw new ComposeError(`${ip}`, `imported compose file ${abs.join(', ')} defines conflicting ${kind.slice(0, -1)} ${k}`);
            }
            (out[kind] as Record<string, unknown>)[k] = v;
          }
        }
      });
    }
    const own: FileModel = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
    if (m.services !== undefined && m.services !== null) {
      for (const [name, raw] of Object.entries(mapOf(m.services, 'services'))) {
        if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw new ComposeError(keyPath('services', name), 'invalid service name: only [a-zA-Z0-9._-] are allowed');
        own.services[name] = normaliseService(name, raw, keyPath('services', name), base, lookup);
      }
      for (const name of Object.keys(own.services)) own.services[name] = this.extended(file, base, lookup, own.services, name, [], chain);
    }
    for (const [k, kind] of [['networks', normaliseNetwork], ['volumes', normaliseVolume]] as const) {
      if (m[k] === undefined || m[k] === null) continue;
      for (const [n, raw] of Object.entries(mapOf(m[k], k))) (own[k] as Record<string, unknown>)[n] = kind(n, raw, keyPath(k, n));
    }
    for (const k of ['secrets', 'configs'] as const) {
      if (m[k] === undefined || m[k] === null) continue;
      for (const [n, raw] of Object.entries(mapOf(m[k], k))) own[k][n] = normaliseFileObject(n, raw, keyPath(k, n), base, k);
    }
    for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
      for (const k of Object.keys(own[kind])) {
        if (out[kind][k] !== undefined) throw new ComposeError(keyPath(kind, k), `${kind.slice(0, -1)} ${k} conflicts with one imported by include`);
      }
    }
    const merged = mergeModels(out, own);
    merged.name = own.name ?? out.name;
    return merged;
  }

  // A service with its extends chain resolved (the base first, this one over it).
  private extended(file: string, base: string, lookup: Lookup, services: Record<string, { svc: PartialService; marks: Marks }>, name: string, seen: string[], chain: string[]): { svc: PartialService; marks: Marks } {
    const entry = services[name];
    const ext = entry.svc.extends;
    if (!ext) return entry;
    const id = `${file}#${name}`;
    if (seen.includes(id)) throw new ComposeError(keyPath(`services.${name}`, 'extends'), `circular reference with extends: ${[...seen, id].join(' -> ')}`);
    let parent: { svc: PartialService; marks: Marks };
    if (ext.file) {
      const f = path.resolve(base, ext.file);
      const m = this.raw(f, lookup);
      const svcs = m.services === undefined ? {} : mapOf(m.services, 'services');
      if (svcs[ext.service] === undefined) throw new ComposeError(`services.${name}.extends`, `cannot extend service "${ext.service}" in ${f}: service not found`);
      const fbase = path.dirname(f);
      const others: Record<string, { svc: PartialService; marks: Marks }> = {};
      for (const [n, raw] of Object.entries(svcs)) others[n] = normaliseService(n, raw, keyPath('services', n), fbase, lookup);
      parent = this.extended(f, fbase, lookup, others, ext.service, [...seen, id], chain);
    } else {
      if (!services[ext.service]) throw new ComposeError(`services.${name}.extends`, `cannot extend service "${ext.service}": service not found`);
      parent = this.extended(file, base, lookup, services, ext.service, [...seen, id], chain);
    }
    // depends_on is not inherited by the spec's extends? It is, except for links/volumes_from; keep all.
    const svc = mergeService(parent.svc, { ...entry.svc, extends: undefined }, entry.marks);
    delete svc.extends;
    return { svc, marks: entry.marks };
  }
}

function mergeModels(a: FileModel, b: FileModel): FileModel {
  const services: FileModel['services'] = { ...a.services };
  for (const [n, s] of Object.entries(b.services)) {
    services[n] = services[n] ? { svc: mergeService(services[n].svc, s.svc, s.marks), marks: s.marks } : s;
  }
  return {
    name: b.name ?? a.name,
    services,
    networks: mergeEntries(a.networks, b.networks),
    volumes: mergeEntries(a.volumes, b.volumes),
    secrets: mergeEntries(a.secrets, b.secrets),
    configs: mergeEntries(a.configs, b.configs),
  };
}

// The compose files to read: -f, else COMPOSE_FILE, else the first default
// name found in the working directory or a parent of it.
export function findFiles(opts: LoadOptions): string[] {
  const exists = opts.exists ?? ((f: string) => fs.existsSync(f));
  if (opts.files?.length) return opts.files.map((f) => (f === '-' ? f : path.resolve(opts.cwd, f)));
  const env = opts.env.COMPOSE_FILE;
  if (env) return env.split(opts.env.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean).map((f) => path.resolve(opts.cwd, f));
  for (let dir = opts.cwd; ; dir = path.dirname(dir)) {
    for (const n of DEFAULT_FILES) {
      const f = path.join(dir, n);
      if (exists(f)) {
        // An override file next to it is read after it, as compose does.
        const base = n.replace(/\.ya?ml$/, '');
        const over = ['.override.yaml', '.override.yml'].map((s) => path.join(dir, base + s)).find(exists);
        return over ? [f, over] : [f];
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new ComposeError('', 'no configuration file provided: not found');
}

// The environment the files are interpolated with: the process's over the
// env files' (--env-file, else <project dir>/.env).
export function projectEnv(opts: LoadOptions, projectDir: string, read: (f: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const lookup: Lookup = (n) => opts.env[n] ?? out[n];
  const files = opts.envFiles?.length ? opts.envFiles.map((f) => path.resolve(opts.cwd, f)) : [path.join(projectDir, '.env')];
  for (const f of files) {
    const text = read(f);
    if (text === undefined) {
      if (opts.envFiles?.length) throw new ComposeError('', `couldn't find env file: ${f}`);
      continue;
    }
    Object.assign(out, parseDotenv(text, f, lookup));
  }
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) out[k] = v;
  return out;
}

export function loadProject(opts: LoadOptions): Project {
  const read = opts.readFile ?? defaultRead;
  const files = findFiles(opts);
  if (files.includes('-')) throw new ComposeError('', 'reading a compose file from stdin (-f -) is not supported by berth compose yet');
  const projectDir = opts.projectDirectory ? path.resolve(opts.cwd, opts.projectDirectory) : path.dirname(files[0]);
  const env = projectEnv(opts, projectDir, read);
  const lookup: Lookup = (n) => env[n];
  const loader = new Loader({ ...opts, readFile: read }, lookup);

  let model: FileModel | undefined;
  for (const f of files) {
    const one = loader.file(f, projectDir, lookup);
    model = model ? mergeModels(model, one) : one;
  }
  if (!model) throw new ComposeError('', 'no configuration file provided: not found');

  const rawName = opts.projectName || env.COMPOSE_PROJECT_NAME || model.name || path.basename(projectDir);
  const name = normaliseProjectName(rawName);
  if (!name || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new ComposeError('name', `invalid project name "${rawName}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  if (opts.projectName && opts.projectName !== name) throw new ComposeError('', `invalid project name "${opts.projectName}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);

  const services: Record<string, Service> = {};
  for (const [n, { svc }] of Object.entries(model.services)) {
    applyEnvFiles(svc, keyPath('services', n), lookup, read);
    // A variable without a value takes the project environment's, as compose resolves it.
    for (const d of [svc.environment, svc.build?.args]) {
      for (const [k, v] of Object.entries(d ?? {})) if (v === null && lookup(k) !== undefined) d![k] = lookup(k)!;
    }
    services[n] = finishService(n, svc);
  }

  // Profiles: a service with profiles runs only when one of them is enabled.
  const profiles = new Set([...(opts.profiles ?? []), ...(env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').map((s) => s.trim()).filter(Boolean) : [])]);
  const enabled: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  for (const [n, s] of Object.entries(services)) {
    if (!s.profiles?.length || profiles.has('*') || s.profiles.some((p) => profiles.has(p))) enabled[n] = s;
    else disabled[n] = s;
  }

  const project: Project = {
    name,
    working_dir: projectDir,
    config_files: files,
    services: enabled,
    networks: {},
    volumes: {},
    secrets: {},
    configs: {},
    disabled,
  };
  finishResources(project, model);
  validate(project);
  return project;
}

function finishService(name: string, s: PartialService): Service {
  const svc: Service = {
    name,
    ...s,
    environment: s.environment ?? {},
    labels: s.labels ?? {},
    ports: s.ports ?? [],
    expose: s.expose ?? [],
    volumes: s.volumes ?? [],
    secrets: s.secrets ?? [],
    configs: s.configs ?? [],
    depends_on: s.depends_on ?? {},
  } as Service;
  delete (svc as PartialService).extends;
  delete (svc as PartialService).env_file;
  if (svc.deploy?.replicas !== undefined && svc.scale !== undefined && svc.deploy.replicas !== svc.scale) {
    throw new ComposeError(`services.${name}.scale`, `scale (${svc.scale}) and deploy.replicas (${svc.deploy.replicas}) differ`);
  }
  if (svc.network_mode !== undefined && svc.networks !== undefined) throw new ComposeError(`services.${name}.networks`, 'network_mode and networks cannot be combined');
  if (!svc.network_mode && !svc.networks) svc.networks = { default: null };
  return svc;
}

function finishResources(project: Project, model: FileModel): void {
  const needDefault = Object.values(project.services).some((s) => s.networks && 'default' in s.networks);
  const nets = { ...model.networks };
  if (needDefault && !nets.default) nets.default = {};
  for (const [k, n] of Object.entries(nets)) {
    project.networks[k] = { ...n, name: n.name ?? (n.external ? k : `${project.name}_${k}`) } as Network;
  }
  for (const [k, v] of Object.entries(model.volumes)) {
    project.volumes[k] = { ...v, name: v.name ?? (v.external ? k : `${project.name}_${k}`) } as Volume;
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [k, v] of Object.entries(model[kind])) project[kind][k] = { ...v, name: v.name ?? `${project.name}_${k}` } as FileObject;
  }
}

function validate(project: Project): void {
  const all = { ...project.services, ...project.disabled };
  for (const [n, s] of Object.entries(project.services)) {
    const p = `services.${n}`;
    if (!s.image && !s.build) throw new ComposeError(p, `service "${n}" has neither an image nor a build context specified`);
    for (const [dep, d] of Object.entries(s.depends_on)) {
      if (!all[dep]) {
        // required: false lets the dependency be absent.
        if (!d.required) continue;
        throw new ComposeError(`${p}.depends_on`, `service "${n}" depends on undefined service "${dep}"`);
      }
      if (!project.services[dep] && d.required) throw new ComposeError(`${p}.depends_on`, `service "${n}" depends on service "${dep}", which is disabled by its profiles`);
    }
    for (const net of Object.keys(s.networks ?? {})) {
      if (!project.networks[net]) throw new ComposeError(`${p}.networks.${net}`, `service "${n}" refers to undefined network ${net}`);
    }
    const nm = s.network_mode;
    if (nm?.startsWith('service:') && !all[nm.slice(8)]) throw new ComposeError(`${p}.network_mode`, `service "${n}" refers to undefined service "${nm.slice(8)}"`);
    s.volumes.forEach((v, i) => {
      if (v.type === 'volume' && v.source && !project.volumes[v.source]) throw new ComposeError(`${p}.volumes[${i}]`, `service "${n}" refers to undefined volume ${v.source}`);
    });
    for (const kind of ['secrets', 'configs'] as const) {
      s[kind].forEach((r, i) => {
        if (!project[kind][r.source]) throw new ComposeError(`${p}.${kind}[${i}]`, `service "${n}" refers to undefined ${kind.slice(0, -1)} ${r.source}`);
      });
    }
    if (s.container_name && (s.scale ?? s.deploy?.replicas ?? 1) > 1) throw new ComposeError(`${p}.container_name`, `service "${n}" has a container_name and cannot be scaled beyond 1`);
  }
  // Dependency cycles.
  const state = new Map<string, number>();
  const visit = (n: string, trail: string[]) => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) throw new ComposeError(`services.${n}.depends_on`, `dependency cycle detected: ${[...trail, n].join(' -> ')}`);
    state.set(n, 1);
    for (const d of Object.keys(project.services[n]?.depends_on ?? {})) if (project.services[d]) visit(d, [...trail, n]);
    state.set(n, 2);
  };
  for (const n of Object.keys(project.services)) visit(n, []);
}

// The project as `compose config` prints it.
export function projectToYaml(project: Project): string {
  const services: Record<string, unknown> = {};
  for (const n of Object.keys(project.services).sort()) {
    const { name: _n, ...rest } = project.services[n];
    const s: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))) {
      if (v === undefined) continue;
      if (Array.isArray(v) && v.length === 0 && k !== 'command' && k !== 'entrypoint') continue;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 && k !== 'networks') continue;
      s[k] = v;
    }
    services[n] = s;
  }
  const out: Record<string, unknown> = { name: project.name, services };
  for (const k of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    if (Object.keys(project[k]).length) out[k] = project[k];
  }
  return YAML.stringify(out, { aliasDuplicateObjects: false, lineWidth: 0 });
}
