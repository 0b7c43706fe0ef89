// pull, push, login, logout: registry commands. Credentials come from (and
// go to) docker's config.json, so docker and berth share logins; the daemon
// gets them in the X-Registry-Auth header.
import { Writable, type Readable } from 'node:stream';
import { ClientError } from '../../client/client';
import { HELP_FLAG, StatusError, errorText, type Command, type Context } from '../command';
import { convertToHostname, encodeAuthHeader, type AuthConfig } from '../config';
import { isTTY, loadConfig, readAllText, readLine, readPassword } from '../io';
import { displayStream, terminalOf } from '../jsonmessage';
import {
  INDEX_SERVER,
  ReferenceError,
  authConfigKey,
  fullName,
  isNameOnly,
  parseNormalizedNamed,
  refString,
  withDefaultTag,
  type Reference,
} from '../../oci/reference';

function parseRef(s: string): Reference {
  try {
    return parseNormalizedNamed(s);
  } catch (e) {
    if (e instanceof ReferenceError) throw new StatusError(1, e.message);
    throw e;
  }
}

// The X-Registry-Auth value for a registry (docker sends "e30=", {}, when
// there are no credentials).
export async function registryAuthHeader(ctx: Context, domain: string): Promise<string> {
  const cfg = loadConfig(ctx);
  let auth: AuthConfig = {};
  try {
    auth = await cfg.getAuth(authConfigKey(domain));
  } catch (e) {
    ctx.err.write(`WARNING: could not read credentials for ${authConfigKey(domain)}: ${(e as Error).message}\n`);
  }
  return encodeAuthHeader(auth);
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

// Shows a progress stream on stdout (or nowhere with -q); an error in the
// stream becomes the command's error.
async function showProgress(ctx: Context, body: Readable, quiet: boolean): Promise<void> {
  if (quiet) await displayStream(body, discard());
  else await displayStream(body, ctx.out, terminalOf(ctx.out));
}

export const pullCommand: Command = {
  name: 'pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image verification', hidden: true },
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { ref, all } = targetRef(ctx, p.args[0], f['all-tags'], f.quiet);
    const platform: string = f.platform || ctx.env.DOCKER_DEFAULT_PLATFORM || '';
    const res = await ctx.client().request('POST', '/images/create', {
      query: {
        fromImage: fullName(ref),
        tag: all ? undefined : ref.digest || ref.tag,
        platform: platform ? platform.toLowerCase() : undefined,
      },
      headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
    });
    await showProgress(ctx, res.body, f.quiet);
    ctx.out.write(`${refString(ref)}\n`);
    return 0;
  },
};

// pull and push share docker's rules: -a takes a bare name; otherwise a
// bare name means ":latest", which docker announces.
function targetRef(ctx: Context, name: string, all: boolean, quiet: boolean) {
  let ref = parseRef(name);
  if (all && !isNameOnly(ref)) throw new StatusError(1, "tag can't be used with --all-tags/-a");
  if (!all && isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!quiet) ctx.out.write(`Using default tag: ${ref.tag}\n`);
  }
  return { ref, all };
}

export const pushCommand: Command = {
  name: 'push',
  usage: '[OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image signing', hidden: true },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { ref, all } = targetRef(ctx, p.args[0], f['all-tags'], f.quiet);
    if (ref.digest) throw new StatusError(1, 'cannot push a digest reference');
    const path = `/images/${fullName(ref).split('/').map(encodeURIComponent).join('/')}/push`;
    const res = await ctx.client().request('POST', path, {
      query: { tag: all ? undefined : ref.tag },
      headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
    });
    await showProgress(ctx, res.body, f.quiet);
    if (f.quiet) ctx.out.write(`${refString(ref)}\n`);
    return 0;
  },
};

const REGISTER_SUGGEST =
  "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.";

const UNENCRYPTED_WARNING = (file: string) =>
  `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

interface AuthResponse {
  Status?: string;
  IdentityToken?: string;
}

async function storeCredentials(ctx: Context, key: string, a: AuthConfig): Promise<void> {
  const cfg = loadConfig(ctx);
  let changed: boolean;
  try {
    changed = await cfg.storeAuth(key, a);
  } catch (e) {
    throw new StatusError(1, `Error saving credentials: ${(e as Error).message}`);
  }
  if (changed && a.password && !cfg.helperFor(key)) ctx.err.write(UNENCRYPTED_WARNING(cfg.filename));
}

async function promptCredentials(ctx: Context, user: string, password: string, defaultUser: string, serverAddress: string): Promise<AuthConfig> {
  user = user.trim();
  if (!user) {
    if (serverAddress === INDEX_SERVER) ctx.out.write(`${REGISTER_SUGGEST}\n`);
    defaultUser = defaultUser.trim();
    ctx.out.write(defaultUser ? `Username (${defaultUser}): ` : 'Username: ');
    user = ((await readLine(ctx.in)) ?? '').trim();
    if (!user) user = defaultUser;
    if (!user) throw new StatusError(1, 'Error: Non-null Username Required');
  }
  password = password.trim();
  if (!password) {
    ctx.out.write('Password: ');
    password = ((await readPassword(ctx.in)) ?? '').trim();
    ctx.out.write('\n');
    if (!password) throw new StatusError(1, 'Error: Password Required');
  }
  return { username: user, password, serveraddress: serverAddress };
}

export const loginCommand: Command = {
  name: 'login',
  usage: '[OPTIONS] [SERVER]',
  summary: 'Authenticate to a registry',
  maxArgs: 1,
  flags: [
    { name: 'password', short: 'p', type: 'string', desc: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', type: 'bool', desc: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', type: 'string', desc: 'Username' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    if (p.changed.has('password-stdin')) {
      if (p.changed.has('password')) throw new StatusError(1, 'conflicting options: cannot specify both --password and --password-stdin');
      if (!p.changed.has('username')) throw new StatusError(1, 'the --password-stdin option requires --username to be set');
    }
    if (p.changed.has('username') && !f.username) throw new StatusError(1, 'username is empty');
    if (p.changed.has('password') && !f.password) throw new StatusError(1, 'password is empty');
    const user: string = f.username ?? '';
    let password: string = f.password ?? '';
    if (password) ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (f['password-stdin']) {
      if (!user) throw new StatusError(1, 'username is empty');
      password = (await readAllText(ctx.in)).replace(/\n$/, '').replace(/\r$/, '');
    }

    const arg: string | undefined = p.args[0];
    // "docker.io" (and its old name) mean Docker Hub, whose key is its v1 index URL.
    const serverAddress = arg && arg !== 'docker.io' && arg !== 'index.docker.io' ? arg : INDEX_SERVER;
    const key = serverAddress === INDEX_SERVER ? serverAddress : convertToHostname(serverAddress);

    const login = async (a: AuthConfig): Promise<AuthResponse> => {
      const body: Record<string, string> = {};
      for (const k of ['username', 'password', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) if (a[k]) body[k] = a[k]!;
      return (await ctx.client().json<AuthResponse>('POST', '/auth', { body })) ?? {};
    };
    const withToken = (a: AuthConfig, r: AuthResponse): AuthConfig => (r.IdentityToken ? { ...a, password: '', identitytoken: r.IdentityToken } : a);

    // With no credentials given, try the stored ones first.
    let stored: AuthConfig = {};
    if (!user && !password) {
      try {
        stored = await loadConfig(ctx).getAuth(key);
      } catch {
        stored = {};
      }
    }
    if (stored.username && stored.password) {
      ctx.err.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      ctx.err.write("\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\n");
      const a: AuthConfig = { username: stored.username, password: stored.password, serveraddress: key };
      try {
        const r = await login(a);
        await storeCredentials(ctx, key, withToken(a, r));
        if (r.Status) ctx.out.write(`${r.Status}\n`);
        return 0;
      } catch (e) {
        if (e instanceof ClientError && e.status === 401) ctx.err.write('Stored credentials invalid or expired\n');
        else ctx.err.write(`Login did not succeed, error: ${errorText(e)}\n`);
      }
    }

    if ((!user || !password) && !isTTY(ctx.in)) throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
    const a = await promptCredentials(ctx, user, password, stored.username ?? '', key);
    const r = await login(a);
    await storeCredentials(ctx, key, withToken(a, r));
    if (r.Status) ctx.out.write(`${r.Status}\n`);
    return 0;
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  usage: '[SERVER]',
  summary: 'Log out from a registry',
  maxArgs: 1,
  flags: [HELP_FLAG],
  async run(ctx, p) {
    const arg: string | undefined = p.args[0];
    const isDefault = !arg || arg === 'docker.io' || arg === 'index.docker.io';
    const serverAddress = isDefault ? INDEX_SERVER : arg;
    const hostname = isDefault ? serverAddress : convertToHostname(serverAddress);
    const keys = isDefault ? [serverAddress] : [...new Set([serverAddress, hostname, `http://${hostname}`, `https://${hostname}`])];
    ctx.out.write(`Removing login credentials for ${hostname}\n`);
    const cfg = loadConfig(ctx);
    const errs: string[] = [];
    for (const k of keys) {
      try {
        await cfg.eraseAuth(k);
      } catch (e) {
        errs.push(`${k}: ${(e as Error).message}`);
      }
    }
    if (errs.length === keys.length) ctx.err.write(`WARNING: could not erase credentials:\n${errs.join('\n')}\n`);
    return 0;
  },
};
