// Registry client subsystem: a Docker Registry HTTP API v2 / OCI
// distribution client, manifest validation and layer decompression. The
// vocabulary (media types, descriptors, platforms) is src/oci's.
export { RegistryClient, MAX_MANIFEST_SIZE, DEFAULT_CHUNK_SIZE, registryHost, isLoopbackRegistry, validateRepository, parseNextLink } from './client';
export type { RegistryOptions } from './client';
export type { RegistryAuth } from './auth/auth';
export { parseWWWAuthenticate } from './auth/challenge';
export type { Challenge } from './auth/challenge';
export { mergeScopes, pullScope, pushScope } from './auth/scope';
export { parseManifest, validateDescriptor, checkDigest, computeDigest, isDigest } from './manifest';
export { decompressStream, detectCompression } from './decompress';
export { RegistryError } from './errors';
export type { RegistryErrorCode, RemoteError } from './errors';
