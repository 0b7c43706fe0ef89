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
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const list = ['127.0.0.0/8', ...settings.insecure];
  for (const entry of list) {
    if (entry === host || entry === name) return true;
    if (entry.includes('/') && inCidr(name === 'localhost' ? '127.0.0.1' : name, entry)) return true;
  }
  return name === '::1';
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
