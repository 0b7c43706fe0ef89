// Registry auth as a wrapper around the dispatch: it answers 401 challenges
// (Basic, or Bearer through the token server), caches tokens per scope until
// they expire, and afterwards authorizes requests up front.
import { RegistryError, httpError, parseRemoteErrors } from '../errors';
import { discard, readSome, type Dispatch, type HttpRequest, type HttpResponse } from '../http/types';
import { parseWWWAuthenticate, type Challenge } from './challenge';
import { mergeScopes } from './scope';

export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string; // an OAuth refresh token (docker login's identity token)
  registrytoken?: string; // a bearer token to send as is
}

type Known = { scheme: 'basic' } | { scheme: 'bearer'; realm: URL; service?: string };

interface CachedToken {
  token: string;
  expiresAt: number;
}

export interface AuthOptions {
  creds?: RegistryAuth;
  // The registry's origin: credentials go to no other host.
  origin: () => string | undefined;
  // For token requests (through the retry/redirect layers, without auth).
  tokenDispatch: Dispatch;
  clientId?: string;
  now?: () => number;
}

const EARLY_MS = 10_000; // renew tokens this long before they expire
const TOKEN_BODY_LIMIT = 1024 * 1024;

export class Authenticator {
  private known?: Known;
  private tokens = new Map<string, CachedToken>();
  private pending = new Map<string, Promise<CachedToken>>();
  tokenRequests = 0; // for tests and diagnostics

  constructor(private opts: AuthOptions) {}

  wrap(next: Dispatch): Dispatch {
    return async (req: HttpRequest) => {
      if (req.url.origin !== this.opts.origin()) return next(req);
      const first = await this.authorization(req.scopes ?? [], false);
      const res = await next(withAuthorization(req, first));
      if (res.status !== 401) return res;
      const challenges = parseWWWAuthenticate(res.headersDistinct['www-authenticate']);
      const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
      const basic = challenges.find((c) => c.scheme === 'basic');
      if (!bearer && !basic) return res;
      const known = bearer ? this.learnBearer(bearer) : ({ scheme: 'basic' } as const);
      if (!known) return res;
      // The challenge may name more scope than we asked for (or, with
      // error="insufficient_scope", the scope we lack).
      const scopes = mergeScopes([...(req.scopes ?? []), ...(bearer?.params.scope ? [bearer.params.scope] : [])]);
      const hadAuth = first !== undefined;
      this.known = known;
      if (known.scheme === 'basic' && !this.hasBasic()) return res;
      const second = await this.authorization(scopes, hadAuth);
      if (second === undefined || second === first) return res;
      discard(res); // the first answer is no longer needed
      return next(withAuthorization(req, second));
    };
  }

  private hasBasic(): boolean {
    const c = this.opts.creds;
    return !!(c?.username !== undefined && c.password !== undefined && (c.username || c.password));
  }

  private learnBearer(c: Challenge): Known | undefined {
    let realm: URL;
    try {
      realm = new URL(c.params.realm);
    } catch {
      throw new RegistryError('Unavailable', 'ERR_REGISTRY_AUTH', `registry sent an invalid token realm ${JSON.stringify(c.params.realm)}`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new RegistryError('Unavailable', 'ERR_REGISTRY_AUTH', `registry sent a token realm with an unsupported scheme: ${realm.href}`);
    }
    return { scheme: 'bearer', realm, service: c.params.service };
  }

  // The Authorization value for a request, if the registry's scheme is known.
  private async authorization(scopes: string[], refresh: boolean): Promise<string | undefined> {
    const k = this.known;
    if (!k) return undefined;
    if (k.scheme === 'basic') {
      if (!this.hasBasic()) return undefined;
      const { username = '', password = '' } = this.opts.creds!;
      return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
    }
    if (this.opts.creds?.registrytoken) return `Bearer ${this.opts.creds.registrytoken}`;
    const key = JSON.stringify([k.realm.href, k.service ?? '', mergeScopes(scopes)]);
    const now = (this.opts.now ?? Date.now)();
    const hit = this.tokens.get(key);
    if (!refresh && hit && hit.expiresAt - EARLY_MS > now) return `Bearer ${hit.token}`;
    if (refresh) this.tokens.delete(key);
    let p = this.pending.get(key);
    if (!p) {
      p = this.fetchToken(k, mergeScopes(scopes)).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const t = await p;
    this.tokens.set(key, t);
    return `Bearer ${t.token}`;
  }

  private async fetchToken(k: Extract<Known, { scheme: 'bearer' }>, scopes: string[]): Promise<CachedToken> {
    this.tokenRequests++;
    const creds = this.opts.creds;
    const clientId = this.opts.clientId ?? 'berth';
    const url = new URL(k.realm.href);
    let req: HttpRequest;
    if (creds?.identitytoken) {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', creds.identitytoken);
      form.set('client_id', clientId);
      if (k.service) form.set('service', k.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      req = {
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: Buffer.from(form.toString()),
      };
    } else {
      if (k.service) url.searchParams.set('service', k.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (this.hasBasic()) {
        url.searchParams.set('account', creds!.username!);
        headers.Authorization = 'Basic ' + Buffer.from(`${creds!.username}:${creds!.password}`).toString('base64');
      }
      url.searchParams.set('client_id', clientId);
      req = { method: 'GET', url, headers };
    }
    const what = `token request to ${k.realm.host}${k.realm.pathname}`;
    let res: HttpResponse;
    try {
      res = await this.opts.tokenDispatch(req);
    } catch (err) {
      const e = err as RegistryError;
      throw new RegistryError(e.kind ?? 'Unavailable', e.code ?? 'ERR_REGISTRY_AUTH', `${what}: ${e.message}`, { cause: err });
    }
    const body = await readSome(res.body, TOKEN_BODY_LIMIT);
    if (res.status !== 200) {
      const base = httpError(what, res.status, body);
      // The token server's own OAuth error ({"error","error_description"}).
      let detail = '';
      if (!parseRemoteErrors(body)) {
        try {
          const j = JSON.parse(body.toString());
          detail = [j.error, j.error_description, j.details].filter((x) => typeof x === 'string').join(': ');
        } catch {
          /* not JSON */
        }
      }
      const kind = res.status === 401 ? 'Unauthorized' : res.status === 403 ? 'Forbidden' : base.kind;
      throw new RegistryError(kind, 'ERR_REGISTRY_AUTH', detail ? `${base.message}: ${detail}` : base.message, { status: res.status, errors: base.errors });
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(body.toString());
    } catch {
      throw new RegistryError('Unavailable', 'ERR_REGISTRY_AUTH', `${what}: the answer is not JSON`);
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
    if (!token) throw new RegistryError('Unavailable', 'ERR_REGISTRY_AUTH', `${what}: the answer has no token`);
    // Per the token spec: expires_in defaults to 60 s and is at least 60 s.
    let expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    if (expiresIn < 60) expiresIn = 60;
    let issued = (this.opts.now ?? Date.now)();
    if (typeof doc.issued_at === 'string') {
      const t = Date.parse(doc.issued_at);
      // A clock far off from ours is ignored: our own clock decides.
      if (!Number.isNaN(t) && Math.abs(t - issued) < 5 * 60_000) issued = Math.min(issued, t);
    }
    return { token, expiresAt: issued + expiresIn * 1000 };
  }
}

function withAuthorization(req: HttpRequest, value: string | undefined): HttpRequest {
  if (value === undefined) return req;
  const headers = { ...(req.headers ?? {}) };
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
  headers.Authorization = value;
  return { ...req, headers };
}
