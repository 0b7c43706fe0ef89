// The /etc/hosts, /etc/hostname and /etc/resolv.conf a container sees.
import * as fs from 'node:fs';
import * as os from 'node:os';

export const BASE_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::\tip6-localnet',
  'ff00::\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function hostsFile(mode: string, extra: { ip: string; names: string[] }[] = []): string {
  if (mode === 'host') {
    try {
      return fs.readFileSync('/etc/hosts', 'utf8');
    } catch {
      // fall through to the default
    }
  }
  return [...BASE_HOSTS, ...extra.map((e) => `${e.ip}\t${e.names.join(' ')}`)].join('\n') + '\n';
}

// Docker copies the host's resolv.conf but drops loopback nameservers, which
// cannot work from another network namespace; with none left it uses public
// defaults. With no network at all the file is still there, as in Docker.
export function resolvConf(mode: string, hostText?: string): string {
  let text = hostText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      text = '';
    }
  }
  if (mode === 'host') return text;
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  }
  return lines.join('\n').replace(/\n*$/, '\n');
}

export function hostHostname(): string {
  return os.hostname();
}
