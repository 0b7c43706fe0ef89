// Image references as the docker CLI parses them (distribution/reference's
// ParseNormalizedNamed): "busybox" is docker.io/library/busybox, the first
// path component is a registry when it has a "." or ":" or is "localhost".

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
// The Docker Hub key in config.json (registry.IndexServer).
export const INDEX_SERVER = 'https://index.docker.io/v1/';

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const name = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;

export interface Reference {
  domain: string;
  // Path within the registry: "library/busybox".
  path: string;
  tag: string;
  digest: string;
}

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

function splitDockerDomain(s: string): [string, string] {
  const i = s.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i < 0 ? '' : s.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    rest = s;
  } else {
    domain = first;
    rest = s.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

// reference.Parse on a fully qualified string.
function parse(s: string): Reference {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw new ReferenceError('repository name must have at least one component');
    if (REFERENCE.test(s.toLowerCase())) throw new ReferenceError('repository name must be lowercase');
    throw new ReferenceError('invalid reference format');
  }
  if (m[1].length > 255) throw new ReferenceError('repository name must not be more than 255 characters');
  const n = m[1];
  const slash = n.indexOf('/');
  return { domain: n.slice(0, slash), path: n.slice(slash + 1), tag: m[2] ?? '', digest: m[3] ?? '' };
}

export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [domain, rest] = splitDockerDomain(s);
  const colon = rest.indexOf(':');
  const remote = colon >= 0 ? rest.slice(0, colon) : rest;
  if (remote.toLowerCase() !== remote) throw new ReferenceError(`invalid reference format: repository name (${remote}) must be lowercase`);
  const r = parse(`${domain}/${rest}`);
  if (r.digest && !/^sha256:[0-9a-f]{64}$|^sha384:[0-9a-f]{96}$|^sha512:[0-9a-f]{128}$/.test(r.digest)) {
    throw new ReferenceError(/^sha(256|384|512):/.test(r.digest) ? 'invalid checksum digest length' : 'unsupported digest algorithm');
  }
  return r;
}

// "docker.io/library/busybox"
export function fullName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

// reference.String(): the full name with tag and digest.
export function refString(r: Reference): string {
  return `${fullName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

// reference.FamiliarName: "busybox", "user/app", "localhost:5000/x".
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  const p = r.path;
  return p.startsWith(OFFICIAL_PREFIX) && p.indexOf('/', OFFICIAL_PREFIX.length) < 0 ? p.slice(OFFICIAL_PREFIX.length) : p;
}

export function familiarString(r: Reference): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

export function isNameOnly(r: Reference): boolean {
  return !r.tag && !r.digest;
}

// reference.TagNameOnly: "latest" when there is neither tag nor digest.
export function withDefaultTag(r: Reference): Reference {
  return isNameOnly(r) ? { ...r, tag: 'latest' } : r;
}

// The key of a registry's credentials in config.json (docker's getAuthConfigKey).
export function authConfigKey(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN ? INDEX_SERVER : domain;
}
