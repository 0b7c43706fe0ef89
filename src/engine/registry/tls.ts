// Per-registry TLS material from a certs.d directory, as Docker lays it out:
//   <certsDir>/<host[:port]>/*.crt          extra CAs (added to the system roots)
//   <certsDir>/<host[:port]>/*.cert + .key  a client certificate and its key
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import { RegistryError } from './errors';

export interface HostTls {
  ca?: Buffer[]; // only the extra CAs
  cert?: Buffer;
  key?: Buffer;
}

export function loadCertsDir(certsDir: string | undefined, hosts: string[]): HostTls {
  const out: HostTls = {};
  if (!certsDir) return out;
  for (const host of hosts) {
    // "host:port" and "[::1]:port" are directory names as they are; refuse
    // anything that would climb out of certsDir.
    if (!host || host.includes('/') || host.includes('\\') || host === '.' || host === '..') continue;
    const dir = path.join(certsDir, host);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw new RegistryError('FailedPrecondition', 'ERR_REGISTRY_TLS', `cannot read ${dir}: ${(err as Error).message}`);
    }
    for (const name of names) {
      if (name.endsWith('.crt')) {
        (out.ca ??= []).push(fs.readFileSync(path.join(dir, name)));
      } else if (name.endsWith('.cert') && !out.cert) {
        const keyName = name.slice(0, -'.cert'.length) + '.key';
        if (!names.includes(keyName)) {
          throw new RegistryError('FailedPrecondition', 'ERR_REGISTRY_TLS', `missing key ${keyName} for client certificate ${path.join(dir, name)}`);
        }
        out.cert = fs.readFileSync(path.join(dir, name));
        out.key = fs.readFileSync(path.join(dir, keyName));
      } else if (name.endsWith('.key') && !names.includes(name.slice(0, -'.key'.length) + '.cert')) {
        throw new RegistryError('FailedPrecondition', 'ERR_REGISTRY_TLS', `missing client certificate for key ${path.join(dir, name)}`);
      }
    }
  }
  return out;
}

// The CA list for node:tls: the system roots plus the registry's own CAs
// (node's `ca` option replaces the roots, Docker's adds to them).
export function withSystemRoots(extra: Buffer[] | undefined): Array<string | Buffer> | undefined {
  if (!extra || extra.length === 0) return undefined;
  return [...rootCertificates, ...extra];
}
