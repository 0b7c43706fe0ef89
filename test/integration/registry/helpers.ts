// Test fixtures for the registry client: Debian's docker-registry
// (distribution 2.8) on loopback, certificates made with openssl, an
// htpasswd file, and a token server. Everything listens on 127.0.0.1.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, sign, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';

export const REGISTRY_BIN = process.env.BERTH_TEST_REGISTRY || 'docker-registry';
export const haveRegistry = spawnSync(REGISTRY_BIN, ['--version']).status === 0;
export const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
export const haveHtpasswd = spawnSync('htpasswd', ['-h']).error === undefined;

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `berth-${prefix}-`));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`registry did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RegistryProcess {
  port: number;
  host: string; // 127.0.0.1:port
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryConfig {
  tls?: { certificate: string; key: string; clientcas?: string[] };
  htpasswd?: string; // path
  token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
  extra?: Record<string, unknown>; // more top-level config sections (validation, …)
}

export async function startRegistry(cfg: RegistryConfig = {}): Promise<RegistryProcess> {
  const dir = tmpDir('registry');
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex'), ...(cfg.tls ? { tls: cfg.tls } : {}) },
  };
  if (cfg.htpasswd) config.auth = { htpasswd: { realm: 'berth-test', path: cfg.htpasswd } };
  if (cfg.token) config.auth = { token: cfg.token };
  Object.assign(config, cfg.extra ?? {});
  // YAML is a superset of JSON.
  const configPath = path.join(dir, 'config.yml');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  let out = '';
  const keep = (b: Buffer) => {
    if (out.length < 64 * 1024) out += b.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  try {
    await waitForPort(port, child, () => out);
  } catch (err) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    host: `127.0.0.1:${port}`,
    dir,
    log: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- certificates ----

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Pki {
  dir: string;
  caCert: string; // paths
  caKey: string;
  issue(name: string, opts: { san?: string; eku?: string; rsa?: boolean }): { cert: string; key: string };
}

export function makePki(dir: string, cn = 'berth test CA'): Pki {
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return {
    dir,
    caCert,
    caKey,
    issue(name, opts) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.pem`);
      const ext = path.join(dir, `${name}.ext`);
      const keyArgs = opts.rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
      openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
      const lines = ['basicConstraints=CA:FALSE'];
      if (opts.san) lines.push(`subjectAltName=${opts.san}`);
      if (opts.eku) lines.push(`extendedKeyUsage=${opts.eku}`);
      fs.writeFileSync(ext, lines.join('\n') + '\n');
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', cert, '-extfile', ext], dir);
      return { cert, key };
    },
  };
}

// ---- htpasswd ----

export function htpasswdFile(dir: string, user: string, password: string): string {
  const line = execFileSync('htpasswd', ['-Bbn', user, password]).toString().trim();
  const p = path.join(dir, 'htpasswd');
  fs.writeFileSync(p, line + '\n');
  return p;
}

// ---- token server ----

export interface TokenServer {
  url: string; // realm
  port: number;
  requests: Array<{ method: string; scopes: string[]; account?: string; grant?: string }>;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

// A token server for distribution's `auth: token`: checks Basic credentials
// (or a refresh token in a POST), and issues an RS256 JWT whose x5c chain
// the registry verifies against its rootcertbundle.
export async function startTokenServer(opts: {
  signingCert: string;
  signingKey: string;
  issuer: string;
  service: string;
  users: Record<string, string>;
  refreshTokens: Record<string, string>; // token -> user
}): Promise<TokenServer> {
  const certDer = new X509Certificate(fs.readFileSync(opts.signingCert)).raw.toString('base64');
  const key = fs.readFileSync(opts.signingKey);
  const requests: TokenServer['requests'] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let scopes: string[] = [];
    let user: string | undefined;
    let bad = false;
    let grant: string | undefined;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      grant = form.get('grant_type') ?? undefined;
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      user = opts.refreshTokens[form.get('refresh_token') ?? ''];
      bad = !user;
    } else {
      scopes = url.searchParams.getAll('scope');
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
        if (opts.users[u] === p) user = u;
        else bad = true;
      }
    }
    requests.push({ method: req.method ?? '', scopes, account: user, grant });
    if (bad) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    // Authenticated users get what they ask for; anonymous users nothing.
    const access = user
      ? scopes.map((s) => {
          const first = s.indexOf(':');
          const last = s.lastIndexOf(':');
          return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: opts.issuer, sub: user ?? '', aud: opts.service, exp: now + 300, nbf: now - 5, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(signingInput), key);
    const token = `${signingInput}.${b64url(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(grant ? { access_token: token, expires_in: 300 } : { token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/token`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---- data ----

export const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

// A stream yielding `data` in uneven pieces.
export function unevenStream(data: Buffer): Readable {
  const sizes = [1, 1000, 7, 65536, 3, 12345];
  return Readable.from(
    (function* () {
      let i = 0;
      for (let k = 0; i < data.length; k++) {
        const n = sizes[k % sizes.length];
        yield data.subarray(i, i + n);
        i += n;
      }
    })(),
  );
}
