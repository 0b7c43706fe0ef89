// The docker CLI's config file ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json), read and written in the same format so that
// `docker login` and `berth login` share credentials: "auths" maps a
// registry key ("https://index.docker.io/v1/" for Docker Hub, else
// host[:port]) to {"auth": base64("user:password")}. Keys berth does not
// know are kept as they are. Credential helpers (credsStore, credHelpers)
// are used like docker does, through docker-credential-<name>.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Context } from './command';

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export function configDir(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return flag;
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  // node:os only without HOME: loading it costs every command's start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return path.join(env.HOME || (require('node:os') as typeof import('node:os')).homedir(), '.docker');
}

// Go's encoding/json string escaping (json.Marshal escapes <, > and &).
function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// json.MarshalIndent(v, "", "\t") for decoded JSON (object key order kept).
export function marshalIndent(v: unknown, indent = '\t', depth = 0): string {
  const pad = indent.repeat(depth + 1);
  const end = indent.repeat(depth);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => pad + marshalIndent(x, indent, depth + 1)).join(',\n')}\n${end}]`;
  }
  const keys = Object.keys(v);
  if (!keys.length) return '{}';
  return `{\n${keys.map((k) => `${pad}${goString(k)}: ${marshalIndent((v as any)[k], indent, depth + 1)}`).join(',\n')}\n${end}}`;
}

export function encodeAuth(username: string, password: string): string {
  if (!username && !password) return '';
  return Buffer.from(`${username}:${password}`).toString('base64');
}

export function decodeAuth(auth: string): { username: string; password: string } {
  if (!auth) return { username: '', password: '' };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth) || auth.length % 4 !== 0) throw new Error('illegal base64 data in auth config');
  const s = Buffer.from(auth, 'base64').toString('utf8');
  const i = s.indexOf(':');
  if (i <= 0) throw new Error('Invalid auth configuration file');
  return { username: s.slice(0, i), password: s.slice(i + 1).replace(/^\0+|\0+$/g, '') };
}

// docker's credentials.ConvertToHostname: "https://host:5000/v2/" -> "host:5000".
export function convertToHostname(maybeURL: string): string {
  let s = maybeURL;
  if (s.includes('://')) {
    try {
      const u = new URL(s);
      if (u.hostname) return u.port ? `${u.hostname}:${u.port}` : u.hostname;
    } catch {
      // not a URL: cut at the first slash below
    }
  }
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

// X-Registry-Auth: base64url of the JSON auth config, as docker's EncodeAuthConfig.
export function encodeAuthHeader(a: AuthConfig): string {
  const o: Record<string, string> = {};
  for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    if (a[k]) o[k] = a[k]!;
  }
  return Buffer.from(JSON.stringify(o)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export class ConfigFile {
  readonly filename: string;
  // The decoded file; "auths" entries are kept as written.
  data: Record<string, any>;

  private constructor(filename: string, data: Record<string, any>) {
    this.filename = filename;
    this.data = data;
  }

  static empty(dir: string): ConfigFile {
    return new ConfigFile(path.join(dir, 'config.json'), {});
  }

  static load(dir: string): ConfigFile {
    const filename = path.join(dir, 'config.json');
    let text: string;
    try {
      text = fs.readFileSync(filename, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new ConfigFile(filename, {});
      throw new Error(`loading config file: ${filename}: ${(e as Error).message}`);
    }
    let data: unknown = {};
    if (text.trim()) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        throw new Error(`loading config file: ${filename}: ${(e as Error).message}`);
      }
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`loading config file: ${filename}: not a JSON object`);
    return new ConfigFile(filename, data as Record<string, any>);
  }

  get auths(): Record<string, AuthConfig> {
    const a = this.data.auths;
    return a && typeof a === 'object' && !Array.isArray(a) ? a : {};
  }

  stringField(name: string): string {
    const v = this.data[name];
    return typeof v === 'string' ? v : '';
  }

  // The credential helper for a registry key, or '' for the file itself.
  helperFor(key: string): string {
    const helpers = this.data.credHelpers;
    if (helpers && typeof helpers === 'object' && key && typeof helpers[key] === 'string') return helpers[key];
    return this.stringField('credsStore');
  }

  // The file store's Get: the exact key, else a key whose hostname matches.
  fileGet(key: string): AuthConfig {
    const auths = this.auths;
    let addr = key;
    let entry = auths[key];
    if (!entry) {
      for (const [k, v] of Object.entries(auths)) {
        if (convertToHostname(k) === key) {
          addr = k;
          entry = v;
          break;
        }
      }
    }
    if (!entry) return {};
    const out: AuthConfig = { ...entry };
    if (entry.auth) Object.assign(out, decodeAuth(entry.auth));
    delete out.auth;
    out.serveraddress = addr;
    return out;
  }

  async getAuth(key: string): Promise<AuthConfig> {
    const helper = this.helperFor(key);
    if (!helper) return this.fileGet(key);
    const got = await credentialHelper(helper, 'get', key);
    if (!got) return { serveraddress: key };
    const c = JSON.parse(got) as { ServerURL?: string; Username?: string; Secret?: string };
    const a: AuthConfig = { serveraddress: key };
    if (c.Username === '<token>') a.identitytoken = c.Secret ?? '';
    else {
      a.username = c.Username ?? '';
      a.password = c.Secret ?? '';
    }
    const email = this.auths[key]?.email;
    if (email) a.email = email;
    return a;
  }

  // Stores credentials under `key`. Returns false when nothing changed.
  async storeAuth(key: string, a: AuthConfig): Promise<boolean> {
    const helper = this.helperFor(key);
    const auths = (this.data.auths && typeof this.data.auths === 'object' && !Array.isArray(this.data.auths)) ? this.data.auths : (this.data.auths = {});
    if (helper) {
      const secret = a.identitytoken ? a.identitytoken : a.password ?? '';
      const username = a.identitytoken ? '<token>' : a.username ?? '';
      await credentialHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: secret }));
      // docker keeps an entry (without secrets) in the file.
      const entry: Record<string, string> = {};
      if (a.email) entry.email = a.email;
      auths[key] = entry;
      this.sortAuths();
      this.save();
      return true;
    }
    const entry: Record<string, string> = {};
    const enc = encodeAuth(a.username ?? '', a.password ?? '');
    if (enc) entry.auth = enc;
    if (a.email) entry.email = a.email;
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    if (a.registrytoken) entry.registrytoken = a.registrytoken;
    const old = auths[key];
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return false;
    auths[key] = entry;
    this.sortAuths();
    this.save();
    return true;
  }

  // Removes `key`; false if there was nothing to remove.
  async eraseAuth(key: string): Promise<boolean> {
    const helper = this.helperFor(key);
    if (helper) await credentialHelper(helper, 'erase', key).catch(() => undefined);
    const auths = this.data.auths;
    if (!auths || typeof auths !== 'object' || !(key in auths)) return !!helper;
    delete auths[key];
    this.save();
    return true;
  }

  private sortAuths(): void {
    const a = this.data.auths as Record<string, unknown>;
    this.data.auths = Object.fromEntries(Object.keys(a).sort().map((k) => [k, a[k]]));
  }

  // Writes the file atomically with mode 0600 (temp file, fsync, rename),
  // through a symlink if config.json is one, like docker.
  save(): void {
    const dir = path.dirname(this.filename);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let target = this.filename;
    try {
      target = fs.realpathSync(this.filename);
    } catch {
      try {
        const link = fs.readlinkSync(this.filename);
        target = path.resolve(dir, link);
      } catch {
        // no file (or no dangling link) yet
      }
    }
    // "auths" first, as docker writes it.
    const { auths, ...rest } = this.data;
    const out = { auths: auths ?? {}, ...rest };
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeSync(fd, marshalIndent(out));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      // Keep the owner of an existing file (sudo users).
      try {
        const st = fs.statSync(target);
        fs.chownSync(tmp, st.uid, st.gid);
      } catch {
        // new file
      }
      fs.renameSync(tmp, target);
    } catch (e) {
      try { fs.closeSync(fd); } catch { /* closed */ }
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }
}

// Runs docker-credential-<helper> <action> with `input` on stdin. A "get"
// that finds nothing resolves to undefined.
// child_process is loaded here, not with the module: most commands read the
// config file and never run a helper (about 1 ms of every `berth ps`).
export async function credentialHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string | undefined> {
  const prog = `docker-credential-${helper}`;
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(prog, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.resume();
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'ENOENT' ? `exec: "${prog}": executable file not found in $PATH` : e.message));
    });
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      if (code === 0) return resolve(text);
      if (action === 'get' && /credentials not found/i.test(text)) return resolve(undefined);
      if (action === 'erase' && /credentials not found/i.test(text)) return resolve(undefined);
      reject(new Error(text || `${prog} ${action} exited with status ${code}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

// Loads config.json; a broken file is a warning (docker carries on without it).
export function loadConfig(ctx: Context): ConfigFile {
  const dir = configDir(ctx.env, ctx.configDir);
  try {
    return ConfigFile.load(dir);
  } catch (e) {
    ctx.err.write(`WARNING: Error ${(e as Error).message}\n`);
    return ConfigFile.empty(dir);
  }
}
