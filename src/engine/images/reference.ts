// Docker image references: [domain[:port]/]path[:tag][@digest], normalized
// the way Docker does ("busybox" -> "docker.io/library/busybox:latest").
import { invalidArgument } from '../../errors';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

export interface Reference {
  domain: string;
  path: string; // "library/busybox"
  tag?: string;
  digest?: string;
}

export function parseReference(input: string): Reference {
  if (typeof input !== 'string' || input === '') throw invalidArgument('invalid reference format: empty reference');
  if (input.length > 255 + 72) throw invalidArgument('invalid reference format: repository name must not be more than 255 characters');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidArgument(`invalid reference format: invalid digest in ${JSON.stringify(input)}`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) throw invalidArgument(`invalid reference format: invalid checksum digest length in ${JSON.stringify(input)}`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalidArgument(`invalid reference format: invalid tag in ${JSON.stringify(input)}`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw invalidArgument(`invalid reference format: invalid domain in ${JSON.stringify(input)}`);
      domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
      path = rest.slice(slash + 1);
    }
  }
  if (path === '') throw invalidArgument(`invalid reference format: ${JSON.stringify(input)}`);
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT.test(c)) {
      if (c !== c.toLowerCase()) throw invalidArgument(`invalid reference format: repository name (${path}) must be lowercase`);
      throw invalidArgument(`invalid reference format: ${JSON.stringify(input)}`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (domain.length + 1 + path.length > 255) throw invalidArgument('invalid reference format: repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

// "docker.io/library/busybox" (no tag).
export function repoName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

// Adds ":latest" when neither tag nor digest is given.
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

export function formatReference(r: Reference): string {
  return repoName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

// The short form users type and Docker prints ("busybox:latest").
export function familiarName(r: Reference): string {
  let name = repoName(r);
  if (r.domain === DEFAULT_DOMAIN) {
    name = r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
  }
  return name + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

export function familiarRepo(r: Reference): string {
  return familiarName({ domain: r.domain, path: r.path });
}

export function isImageIdLike(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{1,64}$/.test(s);
}
