// The node:http(s) transport: one agent per TLS setup, a connect timeout
// that covers DNS, TCP and the TLS handshake, and an idle timeout.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RegistryError, networkError } from '../errors';
import type { Dispatch, HttpRequest, HttpResponse } from './types';

export interface TlsConfig {
  ca?: Array<string | Buffer>; // replaces the default roots: include them when adding
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export interface TransportOptions {
  // TLS setup for a URL; the registry's own host gets its certs.d files.
  tlsFor: (url: URL) => TlsConfig;
  connectTimeoutMs: number;
  timeoutMs: number;
  userAgent?: string;
}

export interface Transport {
  dispatch: Dispatch;
  close(): void;
}

export function createTransport(opts: TransportOptions): Transport {
  const agents = new Map<string, http.Agent>();
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  function agentFor(url: URL): http.Agent {
    if (url.protocol === 'http:') return httpAgent;
    const tls = opts.tlsFor(url);
    const key = JSON.stringify([tls.rejectUnauthorized, !!tls.ca, tls.ca?.length, tls.cert?.length, url.host]);
    let a = agents.get(key);
    if (!a) {
      a = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: tls.rejectUnauthorized,
      });
      agents.set(key, a);
    }
    return a;
  }

  const dispatch: Dispatch = (req: HttpRequest) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = req.url;
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        reject(new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `unsupported URL scheme in ${url.href}`));
        return;
      }
      const what = `${req.method} ${redact(url)}`;
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      if (opts.userAgent && !hasHeader(headers, 'user-agent')) headers['User-Agent'] = opts.userAgent;
      if (req.body) headers['Content-Length'] = String(req.body.length);
      else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['Content-Length'] = '0';
      const mod = url.protocol === 'https:' ? https : http;
      let settled = false;
      let response: http.IncomingMessage | undefined;
      const creq = mod.request(url, { method: req.method, headers, agent: agentFor(url) });

      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        reject(err);
      };
      const connectTimer = setTimeout(() => {
        creq.destroy(new RegistryError('Unavailable', 'ERR_REGISTRY_TIMEOUT', `${what}: timed out connecting to ${url.host} after ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      creq.on('socket', (s: Socket) => {
        const connected = () => clearTimeout(connectTimer);
        const tls = url.protocol === 'https:';
        if (!s.connecting && (!tls || (s as TLSSocket).encrypted)) connected();
        else s.once(tls ? 'secureConnect' : 'connect', connected);
      });
      // Idle timeout for the whole exchange: no byte either way for timeoutMs.
      creq.setTimeout(opts.timeoutMs, () => {
        // Data waiting for a slow reader is not a stalled server. The timer
        // re-arms when the socket sees traffic again.
        if (response && (response.readableLength > 0 || response.isPaused())) return;
        const err = new RegistryError('Unavailable', 'ERR_REGISTRY_TIMEOUT', `${what}: ${response ? 'the transfer stalled: no data' : 'no response'} for ${opts.timeoutMs} ms`);
        if (response) response.destroy(err);
        else creq.destroy(err);
      });
      creq.on('error', (err) => fail(networkError(err, what)));
      creq.on('response', (res) => {
        response = res;
        settled = true;
        clearTimeout(connectTimer);
        res.on('error', () => {}); // the consumer adds its own; avoid crashing when none does
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          headersDistinct: res.headersDistinct as Record<string, string[]>,
          body: res,
          url,
        });
      });
      creq.end(req.body);
    });

  return {
    dispatch,
    close() {
      httpAgent.destroy();
      for (const a of agents.values()) a.destroy();
      agents.clear();
    },
  };
}

function hasHeader(h: Record<string, string>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name);
}

// A URL for messages: no query (upload state, signed storage URLs) and no userinfo.
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
