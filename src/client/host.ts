// Where the daemon listens: -H flag, else BERTH_HOST, else DOCKER_HOST, else the default socket.

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type Endpoint =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

export function selectHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function parseHost(url: string): Endpoint {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath) throw new Error(`invalid host: ${url}`);
    return { kind: 'unix', socketPath, url };
  }
  // A bare path is taken as a socket, for convenience.
  if (url.startsWith('/')) return { kind: 'unix', socketPath: url, url: `unix://${url}` };
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)?(?::(\d+))?\/?$/.exec(url);
  if (m) {
    const host = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
    return { kind: 'tcp', host, port: m[2] ? Number(m[2]) : 2375, url };
  }
  throw new Error(`invalid host: ${url} (expected unix:///path or tcp://host:port)`);
}
