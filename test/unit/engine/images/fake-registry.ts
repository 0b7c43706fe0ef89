// A registry in this process, enough of the distribution API for pull and
// push unit tests: manifests by tag and digest, blobs (HEAD, GET,
// monolithic upload, cross-repository mount) and tag lists. Plain HTTP on
// 127.0.0.1, which the engine treats as insecure and talks HTTP to.
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  // repo -> digests of the blobs it holds
  readonly repoBlobs = new Map<string, Set<string>>();
  // repo -> tag or digest -> manifest
  readonly manifests = new Map<string, Map<string, { type: string; body: Buffer }>>();
  readonly requests: string[] = [];
  private uploads = new Map<string, Buffer[]>();
  private gates = new Map<string, { reached: () => void; opened: Promise<void> }>();
  private server = http.createServer((req, res) => this.handle(req, res));
  host = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // Holds the next request for "METHOD /path" until open() is called;
  // `reached` resolves when that request arrives.
  gate(request: string): { reached: Promise<void>; open: () => void } {
    let reached!: () => void;
    let open!: () => void;
    const r = new Promise<void>((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(request, { reached, opened });
    return { reached: r, open };
  }

  addBlob(repo: string, data: Buffer): string {
    const d = sha(data);
    this.blobs.set(d, data);
    (this.repoBlobs.get(repo) ?? this.repoBlobs.set(repo, new Set()).get(repo)!).add(d);
    return d;
  }

  putManifest(repo: string, tag: string, type: string, body: Buffer): string {
    const m = this.manifests.get(repo) ?? this.manifests.set(repo, new Map()).get(repo)!;
    const d = sha(body);
    m.set(tag, { type, body });
    m.set(d, { type, body });
    return d;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const key = `${req.method} ${new URL(req.url ?? '/', 'http://registry').pathname}`;
      const gate = this.gates.get(key);
      if (gate) {
        this.gates.delete(key);
        gate.reached();
        await gate.opened;
      }
      this.answer(req, Buffer.concat(chunks), res);
    });
  }

  private answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://registry');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const unknown = (code: string) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace('_', ' ') }] }));
    };
    if (url.pathname === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    let m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname);
    if (m) {
      const [, repo, id] = m;
      if (method === 'POST') {
        const from = url.searchParams.get('from');
        const mount = url.searchParams.get('mount');
        if (from && mount && this.repoBlobs.get(from)?.has(mount)) {
          this.repoBlobs.get(repo)?.add(mount) ?? this.repoBlobs.set(repo, new Set([mount]));
          return void res.writeHead(201, { Location: `/v2/${repo}/blobs/${mount}`, 'Docker-Content-Digest': mount }).end();
        }
        const uuid = randomUUID();
        this.uploads.set(uuid, []);
        return void res.writeHead(202, { Location: `/v2/${repo}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid }).end();
      }
      if (method === 'PUT' && this.uploads.has(id)) {
        const data = Buffer.concat([...this.uploads.get(id)!, body]);
        this.uploads.delete(id);
        const d = this.addBlob(repo, data);
        if (d !== url.searchParams.get('digest')) return void res.writeHead(400).end();
        return void res.writeHead(201, { Location: `/v2/${repo}/blobs/${d}`, 'Docker-Content-Digest': d }).end();
      }
      if (method === 'DELETE') return void (this.uploads.delete(id), res.writeHead(204).end());
      return void res.writeHead(400).end();
    }
    m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (m) {
      const data = this.repoBlobs.get(m[1])?.has(m[2]) ? this.blobs.get(m[2]) : undefined;
      if (!data) return unknown('BLOB_UNKNOWN');
      res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': m[2] });
      return void res.end(method === 'HEAD' ? undefined : data);
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [, repo, ref] = m;
      if (method === 'PUT') {
        const d = this.putManifest(repo, ref, String(req.headers['content-type']), body);
        return void res.writeHead(201, { Location: `/v2/${repo}/manifests/${d}`, 'Docker-Content-Digest': d }).end();
      }
      const found = this.manifests.get(repo)?.get(ref);
      if (!found) return unknown('MANIFEST_UNKNOWN');
      res.writeHead(200, { 'Content-Type': found.type, 'Content-Length': found.body.length, 'Docker-Content-Digest': sha(found.body) });
      return void res.end(method === 'HEAD' ? undefined : found.body);
    }
    m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (m) {
      const tags = [...(this.manifests.get(m[1])?.keys() ?? [])].filter((t) => !t.startsWith('sha256:'));
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name: m[1], tags }));
    }
    unknown('NAME_UNKNOWN');
  }
}
