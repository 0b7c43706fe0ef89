// Registry client subsystem: a Docker Registry HTTP API v2 / OCI
// distribution client, manifest parsing, platform selection and layer
// decompression.
export { RegistryClient, MAX_MANIFEST_SIZE, DEFAULT_CHUNK_SIZE, registryHost, isLoopbackRegistry, validateRepository, parseNextLink } from './client';
export type { RegistryOptions } from './client';
export type { RegistryAuth } from './auth/auth';
export { parseWWWAuthenticate } from './auth/challenge';
export type { Challenge } from './auth/challenge';
export { mergeScopes, pullScope, pushScope } from './auth/scope';
export { parseManifest, validateDescriptor, checkDigest, computeDigest, isDigest, isIndex } from './manifest';
export type { Descriptor, Manifest, Index, Platform } from './manifest';
export { selectPlatform, hostPlatform, normalizePlatform, formatPlatform } from './platform';
export type { PlatformSpec } from './platform';
export { decompressStream, detectCompression } from './decompress';
export { MEDIA_TYPES, MANIFEST_ACCEPT, baseMediaType, isManifestType, isIndexType, layerCompression } from './mediatypes';
export { RegistryError } from './errors';
export type { RegistryErrorCode, RemoteError } from './errors';
