// berth login: credentials go to docker's config.json, so docker and berth
// share logins.
import { ClientError } from '../../../client/client';
import { HELP_FLAG, StatusError, errorText, type Command, type Context } from '../../command';
import { convertToHostname, loadConfig, type AuthConfig } from '../../config';
import { isTTY, readAllText, readLine, readPassword } from '../../io';
import { INDEX_SERVER } from '../../../oci/reference';

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
