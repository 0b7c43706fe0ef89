// The Engine API server: one http.Server per listening socket, sharing a router.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { sendError, statusOf } from './errors';
import { Router, type Ctx } from './router';

export interface ServerOptions {
  log: (msg: string) => void;
  debug: (msg: string) => void;
}

export class ApiServer {
  private servers: http.Server[] = [];
  private sockets = new Set<Duplex>();

  constructor(readonly router: Router, private opts: ServerOptions) {}

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const { handler, params, version } = this.router.match(req.method ?? 'GET', url.pathname, url.searchParams);
      const ctx: Ctx = { req, res, params, query: url.searchParams, version, upgrade };
      if (upgrade && upgrade.head.length) upgrade.socket.unshift(upgrade.head);
      await handler(ctx);
    } catch (err) {
      if (upgrade && !res.headersSent) {
        // An upgrade that failed still answers in plain HTTP.
        const status = statusOf(err);
        const body = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
        upgrade.socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      sendError(res, err, this.opts.log, this.opts.debug);
    }
  }

  async listenUnix(path: string, mode = 0o660): Promise<void> {
    // A socket left by a daemon that died is replaced; one that answers
    // belongs to a running daemon and is not taken from it.
    if (await answers(path)) throw new Error(`another daemon is listening on ${path}`);
    try {
      fs.unlinkSync(path);
    } catch {
      // not there
    }
    // No limit on receiving a request (Node's is 5 min): an import or a
    // build context may stream for longer, as dockerd allows.
    const server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
      this.opts.debug(`${req.method} ${req.url}`);
      void this.dispatch(req, res);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.opts.debug(`${req.method} ${req.url} (upgrade)`);
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as any);
      void this.dispatch(req, res, { socket, head });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    fs.chmodSync(path, mode);
    this.servers.push(server);
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const s of this.sockets) s.destroy();
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
