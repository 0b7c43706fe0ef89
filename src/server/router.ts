// A small router: method + path pattern (":name" segments), with Docker's
// optional "/vX.YY" prefix stripped and checked before matching. It also
// enforces the query-parameter table (compat/query.ts) and names the spec
// routes berth does not serve yet.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalidArgument, notFound } from '../errors';
import { refusedParam } from './compat/query';
import { SPEC_ROUTES } from './compat/spec-routes';

import { API_VERSION, MIN_API_VERSION } from '../api/version';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  version: string;
  // Set when the request arrived as an HTTP upgrade (attach, exec start).
  upgrade?: { socket: Duplex; head: Buffer };
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
  // The route as the spec names it: "GET /containers/{id}/json".
  key: string;
}

// ":id" and "*name" become the spec's "{id}" and "{name}".
export function specKey(method: string, pattern: string): string {
  return `${method} /${pattern.split('/').filter(Boolean).map((p) => (p.startsWith(':') || p.startsWith('*') ? `{${p.slice(1)}}` : p)).join('/')}`;
}

// The spec's routes as patterns: "{name}" spans segments (image and plugin
// names hold slashes); routes with more fixed segments are tried first.
const SPEC_PATTERNS = SPEC_ROUTES.map((key) => {
  const [method, p] = key.split(' ');
  const parts = p.split('/').filter(Boolean).map((s) => (s === '{name}' ? '*name' : s.replace(/^\{(.*)\}$/, ':$1')));
  return { key, method, parts, fixed: parts.filter((s) => !/^[:*]/.test(s)).length };
}).sort((a, b) => b.fixed - a.fixed);

export function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler, key: specKey(method, pattern) });
  }

  // The served routes, as the spec names them.
  keys(): string[] {
    return this.routes.map((r) => r.key);
  }
  get(p: string, h: Handler) { this.add('GET', p, h); }
  post(p: string, h: Handler) { this.add('POST', p, h); }
  delete(p: string, h: Handler) { this.add('DELETE', p, h); }
  head(p: string, h: Handler) { this.add('HEAD', p, h); }
  put(p: string, h: Handler) { this.add('PUT', p, h); }

  // Returns the handler and fills ctx.params/version, or throws NotFound;
  // a query parameter the table refuses is InvalidArgument.
  match(method: string, rawPath: string, query = new URLSearchParams()): { handler: Handler; params: Record<string, string>; version: string; route: string } {
    let segs = rawPath.split('/').filter(Boolean);
    let version = API_VERSION;
    const m = segs[0]?.match(/^v(\d+\.\d+)$/);
    if (m) {
      version = m[1];
      segs = segs.slice(1);
      if (cmpVersion(version, MIN_API_VERSION) < 0) {
        throw invalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      if (cmpVersion(version, API_VERSION) > 0) {
        throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      }
    }
    let decoded: string[];
    try {
      decoded = segs.map((s) => decodeURIComponent(s));
    } catch {
      throw invalidArgument(`malformed path: ${rawPath}`);
    }
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchParts(r.parts, decoded);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET' && !this.hasHead(r.parts))) {
        const refused = refusedParam(r.key, query);
        if (refused) throw invalidArgument(`query parameter "${refused}" of ${r.key} is not supported yet`);
        return { handler: r.handler, params, version, route: r.key };
      }
    }
    // A spec route berth lacks is named, even where another method's route
    // matches the same path (DELETE /images/{name} against /images/search).
    const spec = SPEC_PATTERNS.find((s) => s.method === method && matchParts(s.parts, decoded));
    if (spec) throw notFound(`berth does not implement ${spec.key} yet`);
    throw notFound(pathMatched ? `method ${method} not allowed for ${rawPath}` : `page not found`);
  }

  private hasHead(parts: string[]): boolean {
    return this.routes.some((r) => r.method === 'HEAD' && r.parts.join('/') === parts.join('/'));
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.startsWith('*')) {
      // A "*name" part takes one or more segments (image names contain
      // slashes); the parts after it must match the end of the path.
      const tail = parts.slice(i + 1);
      const mid = segs.length - i - tail.length;
      if (mid < 1) return undefined;
      const rest = matchParts(tail, segs.slice(i + mid));
      if (!rest) return undefined;
      params[p.slice(1)] = segs.slice(i, i + mid).join('/');
      return Object.assign(params, rest);
    }
    if (i >= segs.length) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = segs[i];
    else if (p !== segs[i]) return undefined;
  }
  return parts.length === segs.length ? params : undefined;
}
