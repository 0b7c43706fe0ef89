// Fixtures for pull-push.test.ts: a fake registry on node:http (127.0.0.1
// only) that serves images generated here, counts every request, and can
// lie on purpose (wrong bytes, short bodies, endless bodies, huge manifests,
// wrong Content-Type, slow bodies); image builders (gzip, zstd, plain tar
// layers; Docker or OCI manifests; OCI indexes); and a look at what a pull
// left in a daemon's data root.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { TestDaemon } from './harness';

export const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociTar: 'application/vnd.oci.image.layer.v1.tar',
  ociGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

// ---- layers and images ----

// A tar with the given regular files (and their parent dirs).
export function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  const dirs = new Set<string>();
  const mtime = new Date('2024-01-01T00:00:00Z');
  for (const name of Object.keys(files)) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        p.entry({ name: d, type: 'directory', mode: 0o755, mtime });
      }
    }
    p.entry({ name, mode: 0o644, mtime }, files[name]);
  }
  p.finalize();
  return done;
}

export function zstd(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

export type Compression = 'gzip' | 'zstd' | 'none';

export interface LayerSpec {
  tar: Buffer;
  compression: Compression;
  mediaType?: string; // default: by compression and manifest flavour
}

export interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  data: Buffer;
}

export interface Image {
  manifest: Buffer;
  digest: string; // of the manifest
  mediaType: string;
  config: Blob;
  layers: Array<Blob & { diffID: string }>;
}

export function buildImage(opts: { layers: LayerSpec[]; oci?: boolean; arch?: string; label?: string }): Image {
  const oci = opts.oci ?? true;
  const layers = opts.layers.map((l) => {
    const data = l.compression === 'gzip' ? gzipSync(l.tar) : l.compression === 'zstd' ? zstd(l.tar) : l.tar;
    const mediaType = l.mediaType ?? (oci ? { gzip: MT.ociGzip, zstd: MT.ociZstd, none: MT.ociTar }[l.compression] : MT.dockerLayer);
    return { digest: sha256(data), size: data.length, mediaType, data, diffID: sha256(l.tar) };
  });
  const created = '2024-01-01T00:00:00Z';
  const cfg = Buffer.from(
    JSON.stringify({
      architecture: opts.arch ?? hostArch(),
      os: 'linux',
      created,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], Labels: opts.label ? { 'berth.test': opts.label } : undefined },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
      history: layers.map(() => ({ created, created_by: 'berth test' })),
    }),
  );
  const config = { digest: sha256(cfg), size: cfg.length, mediaType: oci ? MT.ociConfig : MT.dockerConfig, data: cfg };
  const mediaType = oci ? MT.ociManifest : MT.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { manifest, digest: sha256(manifest), mediaType, config, layers };
}

export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[os.arch()] ?? os.arch();
}

export function buildIndex(entries: Array<{ image: Image; os: string; architecture: string; variant?: string }>): { bytes: Buffer; digest: string } {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: entries.map((e) => ({
        mediaType: e.image.mediaType,
        digest: e.image.digest,
        size: e.image.manifest.length,
        platform: { os: e.os, architecture: e.architecture, ...(e.variant ? { variant: e.variant } : {}) },
      })),
    }),
  );
  return { bytes, digest: sha256(bytes) };
}

// ---- the fake registry ----

export type Hook = (req: http.IncomingMessage, res: http.ServerResponse, data: Buffer) => unknown;

interface ManifestEntry {
  bytes: Buffer;
  contentType: string;
}

export class FakeRegistry {
  host = '';
  port = 0;
  // every request, as "METHOD /path"
  requests: string[] = [];
  readonly blobs = new Map<string, Blob>();
  private manifests = new Map<string, ManifestEntry>(); // "repo:tag" and "repo@digest"
  // Serve a blob (by digest) or a manifest (by "repo:ref") another way.
  readonly blobHooks = new Map<string, Hook>();
  readonly manifestHooks = new Map<string, Hook>();
  private server: http.Server;
  private sockets = new Set<net.Socket>();

  constructor() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // TLS probes (berthd tries HTTPS first on insecure registries) are not HTTP.
    this.server.on('clientError', (_e, s) => s.destroy());
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    this.host = `127.0.0.1:${this.port}`;
    return this;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  addBlob(b: Blob): void {
    this.blobs.set(b.digest, b);
  }

  addManifest(repo: string, ref: string, bytes: Buffer, contentType: string): void {
    this.manifests.set(`${repo}:${ref}`, { bytes, contentType });
    this.manifests.set(`${repo}@${sha256(bytes)}`, { bytes, contentType });
  }

  addImage(repo: string, tag: string, img: Image): Image {
    for (const l of img.layers) this.addBlob(l);
    this.addBlob(img.config);
    this.addManifest(repo, tag, img.manifest, img.mediaType);
    return img;
  }

  // How many times a blob's bytes were asked for (GET, any repository).
  blobGets(digest: string): number {
    return this.requests.filter((r) => r.startsWith('GET ') && r.endsWith(`/blobs/${digest}`)).length;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    for await (const _ of req) void _;
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-Api-Version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tags) {
      const list = [...this.manifests.keys()].filter((k) => k.startsWith(`${tags[1]}:`)).map((k) => k.slice(tags[1].length + 1));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ name: tags[1], tags: list }));
      return;
    }
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound(res, 'UNSUPPORTED', 'not here');
    const [, repo, kind, ref] = m;
    if (kind === 'manifests') {
      const key = ref.includes(':') ? `${repo}@${ref}` : `${repo}:${ref}`;
      const hook = this.manifestHooks.get(key);
      const e = this.manifests.get(key);
      if (hook) return void (await hook(req, res, e?.bytes ?? Buffer.alloc(0)));
      if (!e) return notFound(res, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'Content-Type': e.contentType, 'Content-Length': e.bytes.length, 'Docker-Content-Digest': sha256(e.bytes) });
      res.end(req.method === 'HEAD' ? undefined : e.bytes);
      return;
    }
    const b = this.blobs.get(ref);
    if (!b) return notFound(res, 'BLOB_UNKNOWN', 'blob unknown to registry');
    const hook = this.blobHooks.get(ref);
    if (hook && req.method === 'GET') return void (await hook(req, res, b.data));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': b.size, 'Docker-Content-Digest': b.digest });
    res.end(req.method === 'HEAD' ? undefined : b.data);
  }
}

function notFound(res: http.ServerResponse, code: string, message: string): void {
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Writes `data` in `piece`-byte writes with `delayMs` between them; stops
// early when the client goes away. `onSent` sees the running total. With
// `end` false the response is then held open until the client goes.
export async function trickle(res: http.ServerResponse, data: Buffer, piece: number, delayMs: number, onSent?: (n: number) => void, end = true): Promise<void> {
  let closed = false;
  const gone = new Promise<void>((r) =>
    res.on('close', () => {
      closed = true;
      r();
    }),
  );
  for (let off = 0; off < data.length && !closed; off += piece) {
    res.write(data.subarray(off, off + piece));
    onSent?.(Math.min(off + piece, data.length));
    await sleep(delayMs);
  }
  if (closed) return;
  if (end) res.end();
  else await gone;
}

// Writes `piece` until the client goes away or `cap` bytes are out;
// resolves with the number of bytes written.
export function endless(res: http.ServerResponse, piece: Buffer, cap: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve(sent);
    });
    const pump = () => {
      while (!closed && sent < cap) {
        sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
}

// ---- what a daemon holds ----

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface StoreState {
  blobs: string[]; // content/blobs/sha256
  ingest: string[]; // content/ingest
  layers: string[]; // overlay/layers
  tmp: string[]; // overlay/tmp
}

export function storeState(d: TestDaemon): StoreState {
  return {
    blobs: list(path.join(d.dataRoot, 'content', 'blobs', 'sha256')),
    ingest: list(path.join(d.dataRoot, 'content', 'ingest')),
    layers: list(path.join(d.dataRoot, 'overlay', 'layers')),
    tmp: list(path.join(d.dataRoot, 'overlay', 'tmp')),
  };
}

// ---- a host name for loopback that is not "localhost" ----

// 127.0.0.0/8 and "localhost" are insecure registries by default (plain HTTP
// and unverified TLS allowed), so certificate checks need another name for
// the loopback interface: the machine's host name or another /etc/hosts
// alias of a 127.x address. Returns undefined when there is none.
export async function loopbackAlias(): Promise<{ name: string; address: string } | undefined> {
  const names = [os.hostname()];
  try {
    for (const line of fs.readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [addr, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (addr?.startsWith('127.')) names.push(...aliases);
    }
  } catch {
    /* no /etc/hosts */
  }
  for (const name of names) {
    if (!name || /localhost/i.test(name) || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) continue;
    try {
      const { address, family } = await dns.lookup(name, { family: 4 });
      if (family === 4 && address.startsWith('127.')) return { name: name.toLowerCase(), address };
    } catch {
      /* next */
    }
  }
  return undefined;
}

// Forwards TCP from address:port to 127.0.0.1:port (when a loopback alias
// resolves to, say, 127.0.1.1 while the registry listens on 127.0.0.1).
export async function forwardTcp(address: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
