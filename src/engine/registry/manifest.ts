// Manifest and index documents (OCI image-spec and Docker schema 2),
// parsed and validated before anything trusts a field of them.
import { createHash } from 'node:crypto';
import { RegistryError, integrityError } from './errors';
import type { Descriptor, Index, Manifest, Platform } from '../../oci/descriptor';
import { MEDIA_TYPES, baseMediaType, isIndexType, isManifestType, isSchema1Type } from '../../oci/mediatypes';

// ---- digests ----

const DIGEST_ALGOS: Record<string, { hash: string; hex: number }> = {
  sha256: { hash: 'sha256', hex: 64 },
  sha512: { hash: 'sha512', hex: 128 },
};
// The grammar of the image-spec: algorithm ":" encoded.
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

// Throws InvalidArgument unless `d` is a digest this client can verify.
export function checkDigest(d: unknown, what = 'digest'): string {
  if (typeof d !== 'string' || !DIGEST_GRAMMAR.test(d)) {
    throw integrityError('ERR_REGISTRY_INVALID_MANIFEST', `invalid ${what} ${JSON.stringify(d)}`);
  }
  const [algo, enc] = d.split(':', 2);
  const a = DIGEST_ALGOS[algo];
  if (!a) throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_UNSUPPORTED', `unsupported digest algorithm in ${what} ${d}`);
  if (enc.length !== a.hex || !/^[a-f0-9]+$/.test(enc)) {
    throw integrityError('ERR_REGISTRY_INVALID_MANIFEST', `invalid ${what} ${JSON.stringify(d)}: want ${a.hex} lower-case hex digits`);
  }
  return d;
}

export function isDigest(s: string): boolean {
  try {
    checkDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: string): string {
  return DIGEST_ALGOS[digest.split(':', 1)[0]]?.hash ?? 'sha256';
}

export function computeDigest(data: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

// ---- validation ----

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function bad(path: string, why: string): RegistryError {
  return integrityError('ERR_REGISTRY_INVALID_MANIFEST', `invalid manifest: ${path} ${why}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(o: Record<string, unknown>, key: string, path: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'string') throw bad(`${path}.${key}`, 'must be a string');
}

function stringArray(v: unknown, path: string): void {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(path, 'must be an array of strings');
}

function annotations(v: unknown, path: string): void {
  if (v === undefined) return;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw bad(path, 'must be a map of strings');
}

function mediaTypeField(v: unknown, path: string): void {
  if (typeof v !== 'string' || !MEDIA_TYPE_RE.test(v)) throw bad(path, `is not a valid media type: ${JSON.stringify(v)}`);
}

export function validatePlatform(p: unknown, path: string): Platform {
  if (!isObject(p)) throw bad(path, 'must be an object');
  if (typeof p.architecture !== 'string' || p.architecture === '') throw bad(`${path}.architecture`, 'must be a non-empty string');
  if (typeof p.os !== 'string' || p.os === '') throw bad(`${path}.os`, 'must be a non-empty string');
  optString(p, 'variant', path);
  optString(p, 'os.version', path);
  if (p['os.features'] !== undefined) stringArray(p['os.features'], `${path}.os.features`);
  if (p.features !== undefined) stringArray(p.features, `${path}.features`);
  return p as unknown as Platform;
}

export function validateDescriptor(d: unknown, path = 'descriptor'): Descriptor {
  if (!isObject(d)) throw bad(path, 'must be an object');
  mediaTypeField(d.mediaType, `${path}.mediaType`);
  try {
    checkDigest(d.digest, `${path}.digest`);
  } catch (err) {
    if (err instanceof RegistryError) throw integrityError(err.code, `invalid manifest: ${err.message}`);
    throw err;
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw bad(`${path}.size`, `must be a non-negative integer, got ${JSON.stringify(d.size)}`);
  }
  if (d.urls !== undefined) stringArray(d.urls, `${path}.urls`);
  annotations(d.annotations, `${path}.annotations`);
  if (d.platform !== undefined) validatePlatform(d.platform, `${path}.platform`);
  if (d.artifactType !== undefined) mediaTypeField(d.artifactType, `${path}.artifactType`);
  if (d.data !== undefined) {
    // Embedded data must be exactly the content the descriptor names.
    if (typeof d.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d.data)) throw bad(`${path}.data`, 'must be base64');
    const bytes = Buffer.from(d.data, 'base64');
    if (bytes.length !== d.size || computeDigest(bytes, digestAlgorithm(d.digest as string)) !== d.digest) {
      throw bad(`${path}.data`, 'does not match the descriptor digest and size');
    }
  }
  return d as unknown as Descriptor;
}

// Parses and validates a manifest or an index fetched as `mediaType` (the
// response's Content-Type). The document's own mediaType, when present,
// must agree with it.
export function parseManifest(bytes: Buffer, mediaType: string): Manifest | Index {
  const mt = baseMediaType(mediaType);
  if (isSchema1Type(mt)) {
    throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_UNSUPPORTED', `unsupported manifest type ${mt}: Docker image manifest schema 1 is deprecated and not supported`);
  }
  if (!isManifestType(mt) && !isIndexType(mt)) {
    throw new RegistryError('InvalidArgument', 'ERR_REGISTRY_UNSUPPORTED', `unsupported manifest media type ${JSON.stringify(mediaType)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw integrityError('ERR_REGISTRY_INVALID_MANIFEST', `invalid manifest: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw bad('document', 'must be a JSON object');
  if (doc.schemaVersion !== 2) throw bad('schemaVersion', `must be 2, got ${JSON.stringify(doc.schemaVersion)}`);
  if (doc.mediaType !== undefined) {
    if (typeof doc.mediaType !== 'string') throw bad('mediaType', 'must be a string');
    if (doc.mediaType !== mt) {
      throw integrityError('ERR_REGISTRY_MEDIA_TYPE_MISMATCH', `manifest media type ${JSON.stringify(doc.mediaType)} does not match the content type ${JSON.stringify(mt)}`);
    }
  } else if (mt === MEDIA_TYPES.dockerManifest || mt === MEDIA_TYPES.dockerManifestList) {
    throw bad('mediaType', 'is required in a Docker schema 2 document');
  }
  if (doc.artifactType !== undefined) mediaTypeField(doc.artifactType, 'artifactType');
  annotations(doc.annotations, 'annotations');
  if (doc.subject !== undefined) validateDescriptor(doc.subject, 'subject');

  if (isIndexType(mt)) {
    if (doc.config !== undefined || doc.layers !== undefined) throw bad('document', 'is an index but has config or layers');
    if (!Array.isArray(doc.manifests)) throw bad('manifests', 'must be an array');
    doc.manifests.forEach((m, i) => validateDescriptor(m, `manifests[${i}]`));
    return { ...(doc as object), mediaType: mt } as Index;
  }
  if (doc.manifests !== undefined) throw bad('document', 'is an image manifest but has manifests');
  validateDescriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) throw bad('layers', 'must be an array');
  doc.layers.forEach((l, i) => validateDescriptor(l, `layers[${i}]`));
  return { ...(doc as object), mediaType: mt } as Manifest;
}

// Guesses the type of a manifest served without a usable Content-Type, from
// its own mediaType or its shape.
export function sniffManifestType(bytes: Buffer): string | undefined {
  try {
    const doc = JSON.parse(bytes.toString('utf8'));
    if (!isObject(doc)) return undefined;
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    if (Array.isArray(doc.manifests)) return MEDIA_TYPES.ociIndex;
    if (isObject(doc.config) && Array.isArray(doc.layers)) return MEDIA_TYPES.ociManifest;
    if (doc.schemaVersion === 1) return MEDIA_TYPES.dockerManifestV1Signed;
  } catch {
    /* not JSON: the caller reports it */
  }
  return undefined;
}
