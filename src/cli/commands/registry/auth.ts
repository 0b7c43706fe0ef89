// Registry credentials for the daemon: docker's config.json (shared with
// docker) turned into the X-Registry-Auth header.
import type { Context } from '../../command';
import { encodeAuthHeader, loadConfig, type AuthConfig } from '../../config';
import { authConfigKey } from '../../../oci/reference';

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
