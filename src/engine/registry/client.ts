// RegistryClient: the Docker Registry HTTP API v2 / OCI distribution client.
// Requests go through one dispatch: auth ∘ retry ∘ redirects ∘ node transport.
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Authenticator, type RegistryAuth } from './auth/auth';
import { pullScope, pushScope } from './auth/scope';
import { RegistryError, httpError, integrityError } from './errors';
import { withRedirects } from './http/redirect';
import { resumingBody } from './http/resume';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './http/retry';
import { createTransport, type Transport } from './http/transport';
import { discard, header, readSome, type Dispatch, type HttpRequest, type HttpResponse } from './http/types';
import type { Descriptor, Index, Manifest } from '../../oci/descriptor';
import { MANIFEST_ACCEPT, baseMediaType, isIndexType, isManifestType, isSchema1Type } from '../../oci/mediatypes';
import { checkDigest, computeDigest, digestAlgorithm, isDigest, parseManifest, sniffManifestType } from './manifest';
import { loadCertsDir, withSystemRoots, type HostTls } from './tls';
import { readCapped, verified } from './verify';

export interface RegistryOptions {
  host: string; // "localhost:5000", "registry.example.com", "docker.io" (-> registry-1.docker.io)
  insecure: boolean; // plain HTTP (and unverified HTTPS) allowed
  certsDir?: string; // <certsDir>/<host>/{ca.crt,*.crt,client.cert,client.key}
  auth?: RegistryAuth;
  userAgent?: string;
  timeoutMs?: number; // idle timeout of a request (no byte either way), default 30 s
  connectTimeoutMs?: number; // DNS + TCP + TLS handshake, default min(5 s, timeoutMs)
  retry?: Partial<RetryOptions>;
}

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
const MAX_TAGS_PAGE = 8 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_CHUNK_SIZE = 64 * 1024 * 1024;
const MAX_CHUNK_RESENDS = 3;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]{1,5})?$|^\[[0-9a-fA-F:.]+\](?::[0-9]{1,5})?$/;

// The host the client talks to for a registry name: Docker Hub's API lives
// at registry-1.docker.io.
export function registryHost(host: string): string {
  const h = host.toLowerCase();
  return h === 'docker.io' || h === 'index.docker.io' ? 'registry-1.docker.io' : host;
}

// Docker treats loopback registries as insecure without configuration.
export function isLoopbackRegistry(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function validateRepository(repo: string): void {
  if (typeof repo !== 'string' || repo === '' || repo.length > 255 || !repo.split('/').every((c) => PATH_COMPONENT.test(c))) {
    throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `invalid repository name ${JSON.stringify(repo)}`);
  }
}

function validateReference(ref: string): 'tag' | 'digest' {
  if (typeof ref === 'string' && TAG.test(ref)) return 'tag';
  if (typeof ref === 'string' && ref.includes(':')) {
    checkDigest(ref, 'reference');
    return 'digest';
  }
  throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `invalid tag or digest ${JSON.stringify(ref)}`);
}

function contentLength(res: HttpResponse): number | undefined {
  const v = header(res, 'content-length');
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

const protocolError = (msg: string) => new RegistryError('Unavailable', 'ERR_REGISTRY_PROTOCOL', msg);

// "0-1234" or "bytes=0-1234": the index of the last byte the registry has.
function parseRangeEnd(v: string | undefined): number | undefined {
  const m = v ? /^(?:bytes=)?0-(\d+)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

// <url>; rel="next" from a Link header.
export function parseNextLink(v: string | undefined): string | undefined {
  if (!v) return undefined;
  for (const part of v.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(?:;|$)/i.test(m[2])) return m[1];
  }
  return undefined;
}

interface UploadState {
  url: URL;
  uuid?: string;
}

export class RegistryClient {
  readonly name: string; // the host as given
  readonly host: string; // the host requests go to
  private readonly insecure: boolean;
  private readonly transport: Transport;
  private readonly dispatch: Dispatch;
  private readonly authn: Authenticator;
  private tls?: HostTls;
  private baseP?: Promise<URL>;
  private origin?: string;
  private readonly retry: RetryOptions;

  constructor(opts: RegistryOptions) {
    if (typeof opts.host !== 'string' || !HOST.test(opts.host)) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `invalid registry host ${JSON.stringify(opts.host)}`);
    }
    this.name = opts.host;
    this.host = registryHost(opts.host);
    this.insecure = !!opts.insecure;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const hostKey = new URL(`https://${this.host}`).host;
    this.transport = createTransport({
      connectTimeoutMs: opts.connectTimeoutMs ?? Math.min(5_000, timeoutMs),
      timeoutMs,
      userAgent: opts.userAgent ?? 'berth',
      tlsFor: (url) => {
        if (new URL(`https://${url.host}`).host !== hostKey) return { rejectUnauthorized: true };
        this.tls ??= loadCertsDir(opts.certsDir, [...new Set([this.name, this.host])]);
        return { ca: withSystemRoots(this.tls.ca), cert: this.tls.cert, key: this.tls.key, rejectUnauthorized: !this.insecure };
      },
    });
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
    const base = withRetry(withRedirects(this.transport.dispatch), this.retry);
    this.authn = new Authenticator({ creds: opts.auth, origin: () => this.origin, tokenDispatch: base });
    this.dispatch = this.authn.wrap(base);
  }

  // Number of requests made to the token server (diagnostics, tests).
  get tokenRequests(): number {
    return this.authn.tokenRequests;
  }

  close(): void {
    this.transport.close();
  }

  // ---- plumbing ----

  private base(): Promise<URL> {
    if (!this.baseP) {
      this.baseP = this.resolveBase().then(
        (u) => {
          this.origin = u.origin;
          return u;
        },
        (err) => {
          this.baseP = undefined;
          throw err;
        },
      );
    }
    return this.baseP;
  }

  // HTTPS always; an insecure registry is tried over HTTPS without
  // verification first, then over plain HTTP if TLS does not work there.
  private async resolveBase(): Promise<URL> {
    const https = new URL(`https://${this.host}/`);
    if (!this.insecure) return https;
    try {
      const res = await this.transport.dispatch({ method: 'GET', url: new URL('/v2/', https) });
      discard(res);
      return https;
    } catch (err) {
      if (!(err instanceof RegistryError) || err.kind !== 'Unavailable') throw err;
      return new URL(`http://${this.host}/`);
    }
  }

  private async send(method: HttpRequest['method'], target: string | URL, scopes: string[], headers: Record<string, string> = {}, body?: Buffer): Promise<HttpResponse> {
    const url = typeof target === 'string' ? new URL(target, await this.base()) : target;
    return this.dispatch({ method, url, headers, body, scopes });
  }

  private async failure(res: HttpResponse, context: string, notFound?: string): Promise<never> {
    const body = await readSome(res.body);
    const err = httpError(context, res.status, body);
    if (res.status === 404 && notFound && !err.errors) {
      throw new RegistryError('NotFound', 'ERR_REGISTRY_HTTP', `${context}: ${notFound}`, { status: 404 });
    }
    throw err;
  }

  private where(repo: string, ref?: string): string {
    const r = `${this.name}/${repo}`;
    if (!ref) return r;
    return isDigest(ref) || ref.includes(':') ? `${r}@${ref}` : `${r}:${ref}`;
  }

  // ---- API ----

  // GET /v2/: reachability, the v2 API, and (with credentials) a login check.
  async ping(): Promise<void> {
    const res = await this.send('GET', '/v2/', []);
    if (res.status === 200) return discard(res);
    await this.failure(res, `ping ${this.name}`);
  }

  async getManifest(repo: string, reference: string): Promise<{ descriptor: Descriptor; bytes: Buffer; manifest: Manifest | Index }> {
    validateRepository(repo);
    const kind = validateReference(reference);
    const what = `manifest ${this.where(repo, reference)}`;
    const res = await this.send('GET', `/v2/${repo}/manifests/${reference}`, [pullScope(repo)], { Accept: MANIFEST_ACCEPT });
    if (res.status !== 200) await this.failure(res, what, 'manifest unknown');
    const cl = contentLength(res);
    if (cl !== undefined && cl > MAX_MANIFEST_SIZE) {
      res.body.destroy();
      throw integrityError('ERR_REGISTRY_SIZE_EXCEEDED', `${what}: ${cl} bytes is larger than the ${MAX_MANIFEST_SIZE} byte limit for manifests`);
    }
    const bytes = await readCapped(res.body, MAX_MANIFEST_SIZE, what);
    const mediaType = this.manifestType(header(res, 'content-type'), bytes, what);
    const digest = this.checkManifestDigest(bytes, kind === 'digest' ? reference : undefined, header(res, 'docker-content-digest'), what);
    const manifest = parseManifest(bytes, mediaType);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, manifest };
  }

  // The media type of a fetched manifest: the Content-Type, unless that is
  // generic (then the document says); parseManifest checks the two agree.
  private manifestType(contentType: string | undefined, bytes: Buffer, what: string): string {
    const ct = baseMediaType(contentType);
    if (isManifestType(ct) || isIndexType(ct) || isSchema1Type(ct)) return ct;
    if (ct === '' || ct === 'application/json' || ct === 'text/plain' || ct === 'application/octet-stream') {
      const sniffed = sniffManifestType(bytes);
      if (sniffed) return sniffed;
    }
    throw integrityError('ERR_REGISTRY_MEDIA_TYPE_MISMATCH', `${what}: unexpected content type ${JSON.stringify(contentType ?? '')} for a manifest`);
  }

  private checkManifestDigest(bytes: Buffer, wanted: string | undefined, served: string | undefined, what: string): string {
    if (wanted) {
      const got = computeDigest(bytes, digestAlgorithm(wanted));
      if (got !== wanted) throw integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: digest mismatch: content has ${got}`);
      return wanted;
    }
    const digest = computeDigest(bytes);
    if (served && isDigest(served.trim())) {
      const s = served.trim();
      const mine = computeDigest(bytes, digestAlgorithm(s));
      if (mine !== s) throw integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the registry says ${s} but the content has ${mine}`);
    }
    return digest;
  }

  async headManifest(repo: string, reference: string): Promise<Descriptor | undefined> {
    validateRepository(repo);
    const kind = validateReference(reference);
    const what = `manifest ${this.where(repo, reference)}`;
    const res = await this.send('HEAD', `/v2/${repo}/manifests/${reference}`, [pullScope(repo)], { Accept: MANIFEST_ACCEPT });
    discard(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) await this.failure(res, what);
    const ct = baseMediaType(header(res, 'content-type'));
    const served = header(res, 'docker-content-digest')?.trim();
    const size = contentLength(res);
    if (size !== undefined && size > MAX_MANIFEST_SIZE) {
      throw integrityError('ERR_REGISTRY_SIZE_EXCEEDED', `${what}: ${size} bytes is larger than the ${MAX_MANIFEST_SIZE} byte limit for manifests`);
    }
    if (!served || !isDigest(served) || size === undefined || !(isManifestType(ct) || isIndexType(ct))) {
      // Not enough in the headers: fetch it (and verify it) instead.
      return (await this.getManifest(repo, reference)).descriptor;
    }
    if (kind === 'digest' && served !== reference) {
      throw integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the registry answered for ${served}`);
    }
    return { mediaType: ct, digest: served, size };
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    validateRepository(repo);
    const kind = validateReference(reference);
    const what = `push manifest ${this.where(repo, reference)}`;
    if (bytes.length > MAX_MANIFEST_SIZE) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_SIZE_EXCEEDED', `${what}: ${bytes.length} bytes is larger than the ${MAX_MANIFEST_SIZE} byte limit`);
    }
    parseManifest(bytes, mediaType); // never push what we would refuse to pull
    const digest = kind === 'digest' ? computeDigest(bytes, digestAlgorithm(reference)) : computeDigest(bytes);
    if (kind === 'digest' && digest !== reference) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the manifest's digest is ${digest}`);
    }
    const res = await this.send('PUT', `/v2/${repo}/manifests/${reference}`, [pushScope(repo)], { 'Content-Type': baseMediaType(mediaType) }, bytes);
    if (res.status < 200 || res.status > 299) await this.failure(res, what);
    discard(res);
    const served = header(res, 'docker-content-digest')?.trim();
    if (served && isDigest(served) && served.split(':')[0] === digest.split(':')[0] && served !== digest) {
      throw integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the registry stored ${served}, not ${digest}`);
    }
    return digest;
  }

  async fetchBlob(repo: string, desc: Descriptor): Promise<Readable> {
    validateRepository(repo);
    checkDigest(desc.digest);
    if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `invalid blob size ${desc.size}`);
    }
    const what = `blob ${this.where(repo, desc.digest)}`;
    const res = await this.send('GET', `/v2/${repo}/blobs/${desc.digest}`, [pullScope(repo)]);
    if (res.status !== 200) await this.failure(res, what, 'blob unknown');
    const cl = contentLength(res);
    if (cl !== undefined && cl > desc.size) {
      res.body.destroy();
      throw integrityError('ERR_REGISTRY_SIZE_EXCEEDED', `${what}: the registry announces ${cl} bytes, more than the expected ${desc.size}`);
    }
    if (cl !== undefined && cl < desc.size) {
      res.body.destroy();
      throw integrityError('ERR_REGISTRY_SHORT_READ', `${what}: the registry announces ${cl} bytes, fewer than the expected ${desc.size}`);
    }
    const rest = (offset: number) => this.send('GET', `/v2/${repo}/blobs/${desc.digest}`, [pullScope(repo)], { Range: `bytes=${offset}-` });
    return verified(resumingBody(res.body, rest, this.retry), desc.digest, desc.size, what);
  }

  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    validateRepository(repo);
    checkDigest(digest);
    return this.headBlob(repo, digest, [pullScope(repo)]);
  }

  private async headBlob(repo: string, digest: string, scopes: string[]): Promise<number | undefined> {
    const what = `blob ${this.where(repo, digest)}`;
    const res = await this.send('HEAD', `/v2/${repo}/blobs/${digest}`, scopes);
    discard(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) await this.failure(res, what);
    const size = contentLength(res);
    if (size === undefined) throw protocolError(`${what}: the registry sent no Content-Length`);
    return size;
  }

  // Cross-repository mount. True when the registry mounted it (201); false
  // when it started an upload instead (202), which is then cancelled.
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    validateRepository(repo);
    validateRepository(fromRepo);
    checkDigest(digest);
    const what = `mount ${digest} from ${fromRepo} into ${this.where(repo)}`;
    const q = new URLSearchParams({ mount: digest, from: fromRepo });
    const res = await this.send('POST', `/v2/${repo}/blobs/uploads/?${q}`, [pushScope(repo), pullScope(fromRepo)]);
    if (res.status === 201) {
      discard(res);
      return true;
    }
    if (res.status === 202) {
      discard(res);
      const loc = header(res, 'location');
      if (loc) await this.cancelUpload({ url: new URL(loc, res.url) }, [pushScope(repo)]);
      return false;
    }
    return this.failure(res, what);
  }

  async listTags(repo: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    validateRepository(repo);
    const what = `tags of ${this.where(repo)}`;
    let target: string | URL = `/v2/${repo}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`;
    const tags: string[] = [];
    const seen = new Set<string>();
    for (let page = 0; page < MAX_TAG_PAGES; page++) {
      const res = await this.send('GET', target, [pullScope(repo)], { Accept: 'application/json' });
      if (res.status !== 200) await this.failure(res, what, 'repository name not known to registry');
      const body = await readCapped(res.body, MAX_TAGS_PAGE, what);
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(body.toString());
      } catch {
        throw protocolError(`${what}: the answer is not JSON`);
      }
      if (doc.tags !== null && doc.tags !== undefined) {
        if (!Array.isArray(doc.tags) || doc.tags.some((t) => typeof t !== 'string')) throw protocolError(`${what}: "tags" is not a list of strings`);
        tags.push(...(doc.tags as string[]));
      }
      const next = parseNextLink(header(res, 'link'));
      if (!next) return tags;
      const url = new URL(next, res.url);
      if (url.origin !== res.url.origin) throw protocolError(`${what}: pagination link to another host (${url.host})`);
      if (seen.has(url.href)) throw protocolError(`${what}: pagination loops`);
      seen.add(url.href);
      target = url;
    }
    throw protocolError(`${what}: more than ${MAX_TAG_PAGES} pages`);
  }

  // ---- upload ----

  // Uploads a blob: one PUT when it fits in one chunk, else PATCH chunks
  // with Content-Range and a closing PUT ?digest=. The digest is computed
  // while reading; a given digest and size are checked against the data.
  async pushBlob(
    repo: string,
    data: Readable,
    opts: { digest?: string; size?: number; chunkSize?: number; onProgress?: (bytes: number) => void } = {},
  ): Promise<{ digest: string; size: number }> {
    validateRepository(repo);
    const what = `push blob to ${this.where(repo)}`;
    const scopes = [pushScope(repo)];
    if (opts.digest !== undefined) checkDigest(opts.digest);
    if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size < 0)) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `${what}: invalid size ${opts.size}`);
    }
    let chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `${what}: invalid chunk size ${opts.chunkSize}`);
    }
    let started: Awaited<ReturnType<RegistryClient['startUpload']>>;
    try {
      if (opts.digest) {
        const have = await this.headBlob(repo, opts.digest, scopes);
        if (have !== undefined) {
          if (opts.size !== undefined && have !== opts.size) {
            throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_PROTOCOL', `${what}: the registry has ${opts.digest} with ${have} bytes, not ${opts.size}`);
          }
          data.destroy();
          opts.onProgress?.(have);
          return { digest: opts.digest, size: have };
        }
      }
      started = await this.startUpload(repo, scopes, what);
    } catch (err) {
      data.destroy();
      throw err;
    }
    let upload = started.upload;
    // A registry may want bigger chunks (OCI-Chunk-Min-Length), within reason.
    if (started.minChunk && started.minChunk > chunkSize) chunkSize = Math.min(started.minChunk, MAX_CHUNK_SIZE);
    const reader = new ChunkReader(data, chunkSize, opts.digest ? digestAlgorithm(opts.digest) : 'sha256', opts.size, what);
    try {
      let chunk = await reader.next();
      let res: HttpResponse;
      const monolithic = reader.ended;
      if (monolithic) {
        // The whole blob is in hand: one monolithic PUT.
        const digest = reader.finish(opts.digest);
        const url = new URL(upload.url);
        url.searchParams.set('digest', digest);
        res = await this.send('PUT', url, scopes, { 'Content-Type': 'application/octet-stream' }, chunk ?? Buffer.alloc(0));
      } else {
        let offset = 0;
        while (chunk) {
          upload = await this.patchChunk(upload, chunk, offset, scopes, what);
          offset += chunk.length;
          opts.onProgress?.(offset);
          chunk = await reader.next();
        }
        const digest = reader.finish(opts.digest);
        const url = new URL(upload.url);
        url.searchParams.set('digest', digest);
        res = await this.send('PUT', url, scopes);
      }
      if (res.status !== 201 && res.status !== 204 && res.status !== 200) await this.failure(res, what);
      discard(res);
      const digest = reader.digest!;
      const served = header(res, 'docker-content-digest')?.trim();
      if (served && isDigest(served) && served.split(':')[0] === digest.split(':')[0] && served !== digest) {
        throw integrityError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the registry stored ${served}, not ${digest}`);
      }
      if (monolithic) opts.onProgress?.(reader.size);
      return { digest, size: reader.size };
    } catch (err) {
      data.destroy();
      await this.cancelUpload(upload, scopes);
      throw err;
    }
  }

  private async startUpload(repo: string, scopes: string[], what: string): Promise<{ upload: UploadState; minChunk?: number }> {
    const res = await this.send('POST', `/v2/${repo}/blobs/uploads/`, scopes);
    if (res.status !== 202) await this.failure(res, what);
    discard(res);
    const upload = this.nextUpload(res, undefined, what);
    const min = header(res, 'oci-chunk-min-length');
    return { upload, minChunk: min && /^\d+$/.test(min) ? Number(min) : undefined };
  }

  // The upload's next URL from a response (Location may be relative).
  private nextUpload(res: HttpResponse, prev: UploadState | undefined, what: string): UploadState {
    const loc = header(res, 'location');
    const uuid = header(res, 'docker-upload-uuid') ?? prev?.uuid;
    if (!loc) {
      if (prev) return { url: prev.url, uuid };
      throw protocolError(`${what}: the registry sent no upload Location`);
    }
    let url: URL;
    try {
      url = new URL(loc, res.url);
    } catch {
      throw protocolError(`${what}: invalid upload Location ${JSON.stringify(loc)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw protocolError(`${what}: invalid upload Location ${JSON.stringify(loc)}`);
    if (res.url.protocol === 'https:' && url.protocol === 'http:') throw protocolError(`${what}: refusing an upload Location that drops TLS (${url.host})`);
    if (prev?.uuid && uuid && prev.uuid !== uuid) throw protocolError(`${what}: the upload id changed from ${prev.uuid} to ${uuid}`);
    return { url, uuid };
  }

  // Sends one chunk; when the registry confirms less than all of it (Range),
  // or the connection fails and the upload status says so, sends the rest.
  private async patchChunk(upload: UploadState, chunk: Buffer, offset: number, scopes: string[], what: string): Promise<UploadState> {
    const end = offset + chunk.length - 1;
    let from = offset;
    for (let attempt = 0; ; attempt++) {
      const part = chunk.subarray(from - offset);
      let res: HttpResponse;
      try {
        res = await this.send('PATCH', upload.url, scopes, { 'Content-Type': 'application/octet-stream', 'Content-Range': `${from}-${end}` }, part);
      } catch (err) {
        if (attempt >= MAX_CHUNK_RESENDS || !(err instanceof RegistryError) || err.kind !== 'Unavailable') throw err;
        // What did the registry get? Resume from there if it is in this chunk.
        const status = await this.uploadStatus(upload, scopes, what);
        upload = status.upload;
        if (status.received < offset || status.received > end + 1) throw err;
        if (status.received === end + 1) return upload;
        from = status.received;
        continue;
      }
      if (res.status === 416 && attempt < MAX_CHUNK_RESENDS) {
        discard(res);
        const status = await this.uploadStatus(upload, scopes, what);
        upload = status.upload;
        if (status.received < offset || status.received > end + 1) {
          throw protocolError(`${what}: the registry has ${status.received} bytes of the upload, expected ${from}`);
        }
        if (status.received === end + 1) return upload;
        from = status.received;
        continue;
      }
      if (res.status !== 202 && res.status !== 204) await this.failure(res, what);
      discard(res);
      upload = this.nextUpload(res, upload, what);
      const rangeEnd = parseRangeEnd(header(res, 'range'));
      if (rangeEnd === undefined || rangeEnd === end) return upload;
      if (rangeEnd > end || rangeEnd + 1 < offset || attempt >= MAX_CHUNK_RESENDS) {
        throw protocolError(`${what}: after sending bytes ${from}-${end} the registry reports range 0-${rangeEnd}`);
      }
      from = rangeEnd + 1;
    }
  }

  private async uploadStatus(upload: UploadState, scopes: string[], what: string): Promise<{ upload: UploadState; received: number }> {
    const res = await this.send('GET', upload.url, scopes);
    if (res.status !== 204 && res.status !== 200) await this.failure(res, `${what}: upload status`);
    discard(res);
    const next = this.nextUpload(res, upload, what);
    const end = parseRangeEnd(header(res, 'range'));
    // "0-0" is ambiguous (nothing or one byte): take it as nothing.
    return { upload: next, received: end === undefined || end === 0 ? 0 : end + 1 };
  }

  private async cancelUpload(upload: UploadState, scopes: string[]): Promise<void> {
    try {
      const res = await this.send('DELETE', upload.url, scopes);
      discard(res);
    } catch {
      /* best effort: the registry expires abandoned uploads */
    }
  }
}

// Reads a stream in chunks of `chunkSize` bytes, hashing and counting as it goes.
class ChunkReader {
  private iter: AsyncIterator<unknown>;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private sourceDone = false;
  private hash: Hash;
  size = 0;
  digest?: string;

  constructor(
    data: Readable,
    private chunkSize: number,
    algorithm: string,
    private expectSize: number | undefined,
    private what: string,
  ) {
    this.iter = data[Symbol.asyncIterator]();
    this.hash = createHash(algorithm);
  }

  // True once every byte of the source has been handed out.
  get ended(): boolean {
    return this.sourceDone && this.pendingLen === 0;
  }

  // The next chunk (chunkSize bytes, except the last), or null at the end.
  async next(): Promise<Buffer | null> {
    while (!this.sourceDone && this.pendingLen < this.chunkSize) {
      const r = await this.iter.next();
      if (r.done) {
        this.sourceDone = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      this.pending.push(b);
      this.pendingLen += b.length;
      if (this.expectSize !== undefined && this.size + this.pendingLen > this.expectSize) {
        throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_SIZE_EXCEEDED', `${this.what}: the data is larger than the declared ${this.expectSize} bytes`);
      }
    }
    if (this.pendingLen === 0) return null;
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out = all.subarray(0, this.chunkSize);
    const rest = all.subarray(out.length);
    this.pending = rest.length ? [rest] : [];
    this.pendingLen = rest.length;
    this.size += out.length;
    this.hash.update(out);
    return out;
  }

  finish(expectDigest: string | undefined): string {
    if (this.expectSize !== undefined && this.size !== this.expectSize) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_SHORT_READ', `${this.what}: the data has ${this.size} bytes, not the declared ${this.expectSize}`);
    }
    const digest = `${expectDigest ? expectDigest.split(':')[0] : 'sha256'}:${this.hash.digest('hex')}`;
    if (expectDigest && digest !== expectDigest) {
      throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_DIGEST_MISMATCH', `${this.what}: the data has digest ${digest}, not the declared ${expectDigest}`);
    }
    this.digest = digest;
    return digest;
  }
}
