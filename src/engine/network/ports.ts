// Published host ports are held: berth listens on each one (and never
// accepts), as docker-proxy does, so that another program, or another
// container, cannot take it while the DNAT rule sends its traffic to the
// container. An ephemeral port is whatever the kernel gives for port 0.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { BerthError } from '../../errors';
import type { PortMapping } from './types';

type Held = net.Server | dgram.Socket;

const keyOf = (p: PortMapping) => `${p.protocol}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`;

export class PortHolder {
  private held = new Map<string, Held>();

  async hold(p: PortMapping): Promise<PortMapping> {
    const host = p.hostIP || '0.0.0.0';
    const fail = (err: NodeJS.ErrnoException) =>
      new BerthError(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' ? 'Internal' : 'InvalidArgument',
        `driver failed programming external connectivity: Bind for ${host}:${p.hostPort} failed: ${err.code === 'EADDRINUSE' ? 'port is already allocated' : err.message}`,
      );
    if (p.protocol === 'udp') {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      const port = await new Promise<number>((resolve, reject) => {
        s.once('error', (err) => reject(fail(err)));
        s.bind({ port: p.hostPort, address: host, exclusive: true }, () => resolve(s.address().port));
      });
      const got = { ...p, hostPort: port };
      this.held.set(keyOf(got), s);
      s.unref();
      return got;
    }
    const srv = net.createServer();
    srv.on('connection', (sock) => sock.destroy());
    const port = await new Promise<number>((resolve, reject) => {
      srv.once('error', (err) => reject(fail(err)));
      srv.listen({ port: p.hostPort, host, exclusive: true, backlog: 1 }, () => resolve((srv.address() as net.AddressInfo).port));
    });
    srv.unref();
    const got = { ...p, hostPort: port };
    this.held.set(keyOf(got), srv);
    return got;
  }

  release(p: PortMapping): void {
    const h = this.held.get(keyOf(p));
    if (!h) return;
    this.held.delete(keyOf(p));
    try {
      h.close();
    } catch {
      // already closed
    }
  }

  closeAll(): void {
    for (const h of this.held.values()) {
      try {
        h.close();
      } catch {
        // already closed
      }
    }
    this.held.clear();
  }
}
