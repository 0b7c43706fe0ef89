// An in-memory Engine API server for CLI tests: enough of containers and
// images to drive run/attach/wait/start, logs, ps, images and import without
// root. Containers "run" a tiny built-in program named by Cmd[0]:
//   echo ARGS   print ARGS to stdout        err ARGS   print ARGS to stderr
//   exit N      exit with status N          cat        copy stdin to stdout until EOF
//   sleep       run until stopped/killed    env        print Env, one per line
// Anything else fails at start with "executable file not found". A pull
// (POST /images/create?fromImage=) finds what `registry` lists.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type {
  ContainerConfig,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerSummary,
  ContainerWaitResponse,
  CreateImageInfo,
  ErrorResponse,
  HostConfig,
  ImageDeleteResponseItem,
  ImageInspect,
  ImageSummary,
  SystemInfo,
  SystemVersion,
} from '../../../src/api/types';

export interface RequestLog {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Image = Pick<ImageSummary, 'Id' | 'RepoTags' | 'Created' | 'Size'>;

interface Container {
  Id: string;
  Name: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Created: number;
  State: 'created' | 'running' | 'exited';
  StartedAt: number;
  FinishedAt: number;
  ExitCode: number;
  logs: Buffer[];
  attached: Socket[];
  stdinOpen: boolean;
  // Input that arrived before the program started, and whether EOF did.
  stdinBuf: Buffer[];
  stdinEOF: boolean;
  waiters: { condition: string; res: http.ServerResponse }[];
}

export function frame(stream: number, data: string | Buffer): Buffer {
  const payload = Buffer.from(data);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

function agoStatus(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  return h === 1 ? 'About an hour' : `${h} hours`;
}

export class FakeDaemon {
  readonly socket: string;
  readonly requests: RequestLog[] = [];
  images: Image[] = [];
  // What a pull can fetch, by "name:tag".
  registry = new Map<string, { size: number }>();
  containers: Container[] = [];
  private server: http.Server;
  private dir: string;
  private sockets = new Set<Socket>();

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fake-'));
    this.socket = path.join(this.dir, 'd.sock');
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socket, resolve));
  }

  async close(): Promise<void> {
    // Hijacked sockets are not the server's any more, so destroy every one.
    const closed = new Promise((r) => this.server.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  addImage(tags: string[], opts: { created?: number; size?: number; id?: string } = {}): Image {
    const img: Image = {
      Id: opts.id ?? `sha256:${createHash('sha256').update(randomBytes(8)).digest('hex')}`,
      RepoTags: tags,
      Created: opts.created ?? Math.floor(Date.now() / 1000),
      Size: opts.size ?? 0,
    };
    this.images.push(img);
    return img;
  }

  addContainer(opts: Partial<Container> & { Cmd?: string[]; Image?: string; Name?: string }): Container {
    const c = this.newContainer({ Image: opts.Image ?? 'busybox', Cmd: opts.Cmd ?? ['sleep'] }, {}, opts.Name);
    Object.assign(c, opts);
    return c;
  }

  private newContainer(config: ContainerConfig, hostConfig: HostConfig, name?: string): Container {
    const c: Container = {
      Id: createHash('sha256').update(randomBytes(16)).digest('hex'),
      Name: `/${name || `fake_${this.containers.length}`}`,
      Config: config,
      HostConfig: hostConfig,
      Created: Math.floor(Date.now() / 1000),
      State: 'created',
      StartedAt: 0,
      FinishedAt: 0,
      ExitCode: 0,
      logs: [],
      attached: [],
      stdinOpen: false,
      stdinBuf: [],
      stdinEOF: false,
      waiters: [],
    };
    this.containers.unshift(c);
    return c;
  }

  private findContainer(ref: string): Container | undefined {
    ref = decodeURIComponent(ref);
    return this.containers.find((c) => c.Id === ref || c.Name === `/${ref}` || (ref.length >= 3 && c.Id.startsWith(ref)));
  }

  private findImage(ref: string): Image | undefined {
    ref = decodeURIComponent(ref);
    const withTag = ref.includes(':') && !ref.startsWith('sha256:') ? ref : `${ref}:latest`;
    return this.images.find(
      (i) => i.Id === ref || i.Id === `sha256:${ref}` || i.RepoTags.includes(withTag) || (ref.length >= 3 && i.Id.slice(7).startsWith(ref)),
    );
  }

  private send<T>(res: http.ServerResponse, status: number, body?: T): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
  }

  private error(res: http.ServerResponse, status: number, message: string): void {
    this.send<ErrorResponse>(res, status, { message });
  }

  private emit(c: Container, stream: number, data: string): void {
    const f = frame(stream, data);
    c.logs.push(f);
    for (const s of c.attached) s.write(f);
  }

  private finish(c: Container, code: number): void {
    if (c.State !== 'running') return;
    c.State = 'exited';
    c.ExitCode = code;
    c.FinishedAt = Date.now();
    for (const s of c.attached) s.end();
    c.attached = [];
    const remove = c.HostConfig?.AutoRemove;
    if (remove) this.containers = this.containers.filter((x) => x !== c);
    for (const w of c.waiters) w.res.end(JSON.stringify({ StatusCode: code } satisfies ContainerWaitResponse) + '\n');
    c.waiters = [];
  }

  private start(c: Container): string | undefined {
    const [prog, ...args] = [...(c.Config.Entrypoint ?? []), ...(c.Config.Cmd ?? [])];
    if (!['echo', 'err', 'exit', 'cat', 'sleep', 'env'].includes(prog)) {
      return `failed to create task for container: exec: "${prog}": executable file not found in $PATH`;
    }
    c.State = 'running';
    c.StartedAt = Date.now();
    setImmediate(() => {
      switch (prog) {
        case 'echo':
          this.emit(c, 1, `${args.join(' ')}\n`);
          return this.finish(c, 0);
        case 'err':
          this.emit(c, 2, `${args.join(' ')}\n`);
          return this.finish(c, 0);
        case 'exit':
          return this.finish(c, Number(args[0] ?? 0));
        case 'env':
          this.emit(c, 1, (c.Config.Env ?? []).map((e: string) => `${e}\n`).join(''));
          return this.finish(c, 0);
        case 'cat':
          for (const d of c.stdinBuf) this.emit(c, 1, d.toString());
          if (c.stdinEOF) return this.finish(c, 0);
          c.stdinOpen = true;
          return;
        case 'sleep':
          return;
      }
    });
    return undefined;
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, _head: Buffer): void {
    this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
    const u = new URL(req.url!, 'http://x');
    const m = /^\/v[\d.]+\/containers\/([^/]+)\/attach$/.exec(u.pathname);
    const c = m && this.findContainer(m[1]);
    if (!c) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 34\r\n\r\n{"message":"No such container: x"}');
      return;
    }
    socket.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    c.attached.push(socket);
    socket.on('error', () => {});
    if (u.searchParams.get('stdin') === '1') {
      socket.on('data', (d: Buffer) => {
        if (c.stdinOpen) this.emit(c, 1, d.toString());
        else c.stdinBuf.push(d);
      });
      socket.on('end', () => {
        if (c.stdinOpen) {
          c.stdinOpen = false;
          this.finish(c, 0);
        } else c.stdinEOF = true;
      });
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: body.toString('utf8') });
      try {
        this.route(req, res, body);
      } catch (err) {
        this.error(res, 500, String(err));
      }
    });
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const u = new URL(req.url!, 'http://x');
    const q = u.searchParams;
    res.setHeader('Api-Version', '1.51');
    if (u.pathname === '/_ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    const pathname = u.pathname.replace(/^\/v[\d.]+/, '');
    const method = req.method!;
    let m: RegExpExecArray | null;

    if (method === 'GET' && pathname === '/version') {
      return this.send<SystemVersion>(res, 200, { Version: '0.0.0-fake', ApiVersion: '1.51', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', Components: [] });
    }
    if (method === 'GET' && pathname === '/info') {
      return this.send<SystemInfo>(res, 200, { Containers: this.containers.length, Images: this.images.length, ServerVersion: '0.0.0-fake' });
    }
    if (method === 'GET' && pathname === '/images/json') {
      return this.send<ImageSummary[]>(res, 200, this.images.map((i) => ({ ...i, RepoDigests: [], ParentId: '', SharedSize: -1, Containers: -1, Labels: {} })));
    }
    if (method === 'POST' && pathname === '/images/create' && q.get('fromImage')) {
      const name = q.get('fromImage')!.replace(/^docker\.io\/(library\/)?/, '');
      const ref = `${name}:${q.get('tag') || 'latest'}`;
      const found = this.registry.get(ref);
      if (!found) return this.error(res, 404, `pull access denied for ${name}, repository does not exist or may require 'docker login'`);
      this.addImage([ref], { size: found.size });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines: CreateImageInfo[] = [{ status: `Pulling from ${name}` }, { status: `Status: Downloaded newer image for ${ref}` }];
      res.end(lines.map((l) => JSON.stringify(l) + '\n').join(''));
      return;
    }
    if (method === 'POST' && pathname === '/images/create') {
      const id = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const repo = q.get('repo');
      const tag = q.get('tag') || 'latest';
      let img = this.images.find((i) => i.Id === id);
      if (!img) img = this.addImage([], { id, size: body.length });
      if (repo) {
        const ref = repo.includes(':') ? repo : `${repo}:${tag}`;
        for (const i of this.images) i.RepoTags = i.RepoTags.filter((t) => t !== ref);
        img.RepoTags.push(ref);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: id } satisfies CreateImageInfo) + '\n');
      return;
    }
    if ((m = /^\/images\/(.+)\/json$/.exec(pathname)) && method === 'GET') {
      const img = this.findImage(m[1]);
      if (!img) return this.error(res, 404, `No such image: ${decodeURIComponent(m[1])}`);
      return this.send<ImageInspect>(res, 200, { Id: img.Id, RepoTags: img.RepoTags, Size: img.Size, Config: { Cmd: ['sh'] } });
    }
    if ((m = /^\/images\/(.+)\/tag$/.exec(pathname)) && method === 'POST') {
      const img = this.findImage(m[1]);
      if (!img) return this.error(res, 404, `No such image: ${decodeURIComponent(m[1])}`);
      img.RepoTags.push(`${q.get('repo')}:${q.get('tag') || 'latest'}`);
      return this.send(res, 201);
    }
    if ((m = /^\/images\/(.+)$/.exec(pathname)) && method === 'DELETE') {
      const ref = decodeURIComponent(m[1]);
      const img = this.findImage(ref);
      if (!img) return this.error(res, 404, `No such image: ${ref}`);
      const tag = img.RepoTags.find((t) => t === ref || t === `${ref}:latest`);
      if (tag && img.RepoTags.length > 1) {
        img.RepoTags = img.RepoTags.filter((t) => t !== tag);
        return this.send<ImageDeleteResponseItem[]>(res, 200, [{ Untagged: tag }]);
      }
      this.images = this.images.filter((i) => i !== img);
      return this.send<ImageDeleteResponseItem[]>(res, 200, [...(img.RepoTags ?? []).map((t) => ({ Untagged: t })), { Deleted: img.Id }]);
    }

    if (method === 'POST' && pathname === '/containers/create') {
      const config = JSON.parse(body.toString('utf8')) as ContainerCreateRequest;
      if (!config.Image || !this.findImage(config.Image)) return this.error(res, 404, `No such image: ${config.Image}`);
      const name = q.get('name') || undefined;
      if (name && this.findContainer(name)) return this.error(res, 409, `Conflict. The container name "/${name}" is already in use`);
      const { HostConfig, ...rest } = config;
      const c = this.newContainer(rest, HostConfig ?? {}, name);
      return this.send<ContainerCreateResponse>(res, 201, { Id: c.Id, Warnings: [] });
    }
    if (method === 'GET' && pathname === '/containers/json') {
      const filters = q.get('filters') ? JSON.parse(q.get('filters')!) : {};
      const limit = Number(q.get('limit') || 0);
      let list = this.containers.filter((c) => q.get('all') === '1' || limit > 0 || c.State === 'running');
      for (const [k, vals] of Object.entries(filters) as [string, string[]][]) {
        const values = Array.isArray(vals) ? vals : Object.keys(vals);
        if (k === 'status') list = list.filter((c) => values.includes(c.State));
        if (k === 'name') list = list.filter((c) => values.some((v) => c.Name.includes(v)));
      }
      if (limit > 0) list = list.slice(0, limit);
      const now = Date.now();
      return this.send<ContainerSummary[]>(
        res,
        200,
        list.map((c) => ({
          Id: c.Id,
          Names: [c.Name],
          Image: c.Config.Image,
          ImageID: this.findImage(c.Config.Image ?? '')?.Id ?? '',
          Command: [...(c.Config.Entrypoint ?? []), ...(c.Config.Cmd ?? [])].join(' '),
          Created: c.Created,
          Ports: [],
          Labels: c.Config.Labels ?? {},
          State: c.State,
          Status:
            c.State === 'running' ? `Up ${agoStatus(now - c.StartedAt)}` : c.State === 'exited' ? `Exited (${c.ExitCode}) ${agoStatus(now - c.FinishedAt)} ago` : 'Created',
          HostConfig: { NetworkMode: 'default' },
          NetworkSettings: { Networks: {} },
          Mounts: [],
        })),
      );
    }
    if (!(m = /^\/containers\/([^/]+)(\/[a-z]+)?$/.exec(pathname))) return this.error(res, 404, `page not found`);
    const c = this.findContainer(m[1]);
    const action = m[2] ?? '';
    if (!c) return this.error(res, 404, `No such container: ${decodeURIComponent(m[1])}`);
    switch (`${method} ${action}`) {
      case 'GET /json':
        return this.send<ContainerInspectResponse>(res, 200, {
          Id: c.Id,
          Name: c.Name,
          Created: new Date(c.Created * 1000).toISOString(),
          State: { Status: c.State, Running: c.State === 'running', ExitCode: c.ExitCode },
          Config: c.Config,
          HostConfig: c.HostConfig,
        });
      case 'POST /start': {
        if (c.State === 'running') return this.send(res, 304);
        const err = this.start(c);
        if (err) {
          if (c.HostConfig?.AutoRemove) {
            this.containers = this.containers.filter((x) => x !== c);
            for (const w of c.waiters) w.res.end(JSON.stringify({ StatusCode: 127 }) + '\n');
          }
          return this.error(res, 400, err);
        }
        return this.send(res, 204);
      }
      case 'POST /wait': {
        const condition = q.get('condition') || 'not-running';
        if (condition === 'not-running' && c.State !== 'running') return this.send<ContainerWaitResponse>(res, 200, { StatusCode: c.ExitCode });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        c.waiters.push({ condition, res });
        return;
      }
      case 'POST /stop':
      case 'POST /kill': {
        if (action === '/kill' && c.State !== 'running') return this.error(res, 409, `Container ${c.Id} is not running`);
        if (c.State !== 'running') return this.send(res, 304);
        this.finish(c, action === '/kill' ? 137 : 143);
        return this.send(res, 204);
      }
      case 'POST /restart': {
        this.finish(c, 143);
        this.start(c);
        return this.send(res, 204);
      }
      case 'GET /logs': {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        let logs = c.logs.filter((f) => (f[0] === 1 ? q.get('stdout') === '1' : q.get('stderr') === '1'));
        const tail = q.get('tail');
        if (tail && tail !== 'all') logs = logs.slice(Math.max(0, logs.length - Number(tail)));
        if (q.get('timestamps') === '1') {
          logs = logs.map((f) => frame(f[0], `2026-01-01T00:00:00.000000000Z ${f.subarray(8).toString()}`));
        }
        res.end(Buffer.concat(logs));
        return;
      }
      case 'DELETE ': {
        if (c.State === 'running' && q.get('force') !== '1') {
          return this.error(res, 409, `cannot remove container "${c.Name}": container is running: stop the container before removing or force remove`);
        }
        this.finish(c, 137);
        this.containers = this.containers.filter((x) => x !== c);
        for (const w of c.waiters) w.res.end(JSON.stringify({ StatusCode: c.ExitCode }) + '\n');
        return this.send(res, 204);
      }
    }
    return this.error(res, 404, 'page not found');
  }
}
