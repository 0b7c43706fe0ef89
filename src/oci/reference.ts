// Image references, [domain[:port]/]path[:tag][@digest], as Docker's
// distribution/reference reads them (ParseNormalizedNamed): "busybox" is
// docker.io/library/busybox; the first path component is a registry when it
// has a "." or ":", is "localhost", or is not lower-case.
//
// One grammar for the CLI and the engine. They differ only in what they say
// about a bad one: the CLI prints Docker's own words (parseNormalizedNamed);
// the engine names the part that is wrong (parseReference), and also takes a
// bare 64-hex image id as a name, since clients send ids where names go.
import { BerthError } from '../errors';

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
const DOMAIN = new RegExp(`^${domainAndPort}$`);
const TAG = new RegExp(`^${tag}$`);
const DIGEST = new RegExp(`^${digest}$`);
const CHECKSUM = /^sha256:[0-9a-f]{64}$|^sha384:[0-9a-f]{96}$|^sha512:[0-9a-f]{128}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;
const GENERIC = 'invalid reference format';

export interface Reference {
  domain: string;
  // Path within the registry: "library/busybox".
  path: string;
  tag?: string;
  digest?: string;
}

// A bad reference: InvalidArgument (400) in the daemon, exit status 1 in the CLI.
export class ReferenceError extends BerthError {
  constructor(message: string) {
    super('InvalidArgument', message);
    this.name = 'ReferenceError';
  }
}

// Whether the first path component names a registry rather than a Hub user.
const isDomain = (first: string) => /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;

function splitDockerDomain(s: string): [string, string] {
  const i = s.indexOf('/');
  let domain: string;
  let rest: string;
  if (i < 0 || !isDomain(s.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    rest = s;
  } else {
    domain = s.slice(0, i);
    rest = s.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

// distribution/reference's ParseNormalizedNamed without its refusal of
// 64-hex names; a string is Docker's message for a bad reference.
function parse(s: string): Reference | string {
  const [domain, rest] = splitDockerDomain(s);
  const colon = rest.indexOf(':');
  const remote = colon >= 0 ? rest.slice(0, colon) : rest;
  if (remote.toLowerCase() !== remote) return `${GENERIC}: repository name (${remote}) must be lowercase`;
  const m = REFERENCE.exec(`${domain}/${rest}`);
  if (!m) return GENERIC;
  if (m[1].length > 255) return 'repository name must not be more than 255 characters';
  const d = m[3];
  if (d && !CHECKSUM.test(d)) return /^sha(256|384|512):/.test(d) ? 'invalid checksum digest length' : 'unsupported digest algorithm';
  const n = m[1];
  const slash = n.indexOf('/');
  return { domain: n.slice(0, slash), path: n.slice(slash + 1), tag: m[2] || undefined, digest: d || undefined };
}

// Which part of s breaks the grammar, for a reference Docker calls just
// "invalid reference format".
function whatIsWrong(s: string): string {
  const q = JSON.stringify(s);
  if (s === '') return 'empty reference';
  let rest = s;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(d)) return /^sha(256|384|512):[0-9a-fA-F]*$/.test(d) ? `invalid checksum digest length in ${q}` : `invalid digest in ${q}`;
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    if (!TAG.test(rest.slice(colon + 1))) return `invalid tag in ${q}`;
    rest = rest.slice(0, colon);
  }
  const first = rest.slice(0, Math.max(0, rest.indexOf('/')));
  if (first && isDomain(first) && !DOMAIN.test(first)) return `invalid domain in ${q}`;
  return q;
}

// The docker CLI's parse: Docker's messages.
export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const r = parse(s);
  if (typeof r === 'string') throw new ReferenceError(r);
  return r;
}

// The engine's parse: every message starts "invalid reference format" and
// says what is wrong.
export function parseReference(s: string): Reference {
  if (typeof s !== 'string' || s === '') throw new ReferenceError(`${GENERIC}: empty reference`);
  const r = parse(s);
  if (typeof r !== 'string') return r;
  if (r === GENERIC) throw new ReferenceError(`${GENERIC}: ${whatIsWrong(s)}`);
  throw new ReferenceError(r.startsWith(GENERIC) ? r : `${GENERIC}: ${r}`);
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

// reference.FamiliarString: the short form users type and Docker prints ("busybox:latest").
export function familiarString(r: Reference): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

export function isNameOnly(r: Reference): boolean {
  return !r.tag && !r.digest;
}

// reference.TagNameOnly: ":latest" when there is neither tag nor digest.
export function withDefaultTag(r: Reference): Reference {
  return isNameOnly(r) ? { ...r, tag: 'latest' } : r;
}

// An image id, full or short, with or without "sha256:".
export function isImageIdLike(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{1,64}$/.test(s);
}

// The key of a registry's credentials in config.json (docker's getAuthConfigKey).
export function authConfigKey(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN ? INDEX_SERVER : domain;
}
