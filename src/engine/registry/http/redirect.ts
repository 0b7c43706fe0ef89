// Follows redirects for reads (blob storage behind the registry). The
// Authorization header never leaves the origin it was meant for.
import { RegistryError } from '../errors';
import { discard, header, type Dispatch, type HttpRequest } from './types';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function withRedirects(next: Dispatch, maxRedirects = 5): Dispatch {
  return async (req: HttpRequest) => {
    let cur = req;
    for (let i = 0; ; i++) {
      const res = await next(cur);
      const loc = header(res, 'location');
      if (!REDIRECTS.has(res.status) || !loc || (cur.method !== 'GET' && cur.method !== 'HEAD')) return res;
      discard(res);
      if (i >= maxRedirects) {
        throw new RegistryError('Unavailable', 'ERR_REGISTRY_PROTOCOL', `${cur.method} ${cur.url.host}${cur.url.pathname}: more than ${maxRedirects} redirects`);
      }
      let target: URL;
      try {
        target = new URL(loc, cur.url);
      } catch {
        throw new RegistryError('Unavailable', 'ERR_REGISTRY_PROTOCOL', `redirect to an invalid location ${JSON.stringify(loc)}`);
      }
      if (cur.url.protocol === 'https:' && target.protocol === 'http:') {
        throw new RegistryError('Unavailable', 'ERR_REGISTRY_PROTOCOL', `refusing a redirect from https to http (${target.host})`);
      }
      const headers = { ...(cur.headers ?? {}) };
      if (target.origin !== cur.url.origin) {
        for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      }
      // scopes are dropped too: the auth layer only acts on the registry's origin
      cur = { ...cur, url: target, headers };
    }
  };
}
