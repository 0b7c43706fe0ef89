// Which registries are trusted how: Docker's rules for plain HTTP (only
// "insecure-registries", with 127.0.0.0/8 insecure by default) and the CA
// directory (certs.d/<host:port>/ca.crt).
import * as net from 'node:net';
import { invalidArgument } from '../../errors';
import { RegistryClient, type RegistryAuth } from '../registry';

export interface RegistrySettings {
  insecure: string[]; // "host:port" entries or CIDRs
  certsDir: string;
  userAgent: string;
  mirrors?: string[]; // Docker Hub mirrors, "http(s)://host:port/", tried in order
  allowNondistributable?: string[]; // "host:port" entries or CIDRs
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!net.isIPv4(ip) || !net.isIPv4(base) || !(bits >= 0 && bits <= 32)) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

export function isInsecure(host: string, settings: RegistrySettings): boolean {
  return matchesRegistry(host, ['127.0.0.0/8', ...settings.insecure]) || /^\[?::1\]?(:\d+)?$/.test(host);
}

// Whether foreign (non-distributable) layers may be pushed to this registry.
export function allowsNondistributable(host: string, settings: RegistrySettings): boolean {
  return matchesRegistry(host, settings.allowNondistributable ?? []);
}

// host:port, host, or a CIDR holding the host's address (as dockerd, only
// literal IPs and localhost are matched against CIDRs; no DNS lookup here).
function matchesRegistry(host: string, list: string[]): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  for (const entry of list) {
    if (entry === host || entry === name) return true;
    if (entry.includes('/') && inCidr(name === 'localhost' ? '127.0.0.1' : name, entry)) return true;
  }
  return false;
}

// A registry address the reference grammar allows but no URL can hold
// ("127.0.0.1:99999"): refused up front, naming what the client sent.
export function checkRegistryHost(host: string, what: string): void {
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) throw invalidArgument(`${what}: port ${port} is out of range (1-65535)`);
  try {
    new URL(`https://${host}/`);
  } catch {
    throw invalidArgument(`${what}: ${JSON.stringify(host)} is not a registry address`);
  }
}

export function registryClient(host: string, settings: RegistrySettings, auth?: RegistryAuth): RegistryClient {
  return new RegistryClient({ host, insecure: isInsecure(host, settings), certsDir: settings.certsDir, auth, userAgent: settings.userAgent });
}

// The endpoints a pull of `domain` tries, in order: for Docker Hub, each
// mirror and then the Hub itself (as dockerd); anything else is its own.
export interface PullEndpoint {
  label: string; // for messages: "mirror http://127.0.0.1:5000/" or "docker.io"
  client: RegistryClient;
  mirror: boolean;
}

export function pullEndpoints(domain: string, settings: RegistrySettings, auth?: RegistryAuth): PullEndpoint[] {
  const out: PullEndpoint[] = [];
  if (domain === 'docker.io') {
    for (const m of settings.mirrors ?? []) {
      const u = new URL(m);
      // No credentials to a mirror: the user's Hub login is for the Hub.
      out.push({ label: `mirror ${m}`, mirror: true, client: new RegistryClient({ host: u.host, insecure: u.protocol === 'http:' || isInsecure(u.host, settings), certsDir: settings.certsDir, userAgent: settings.userAgent }) });
    }
  }
  out.push({ label: domain === 'docker.io' ? 'Docker Hub (registry-1.docker.io)' : domain, mirror: false, client: registryClient(domain, settings, auth) });
  return out;
}
