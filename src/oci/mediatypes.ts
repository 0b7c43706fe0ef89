// Media types of the OCI image-spec and of Docker's image manifest v2
// schema 2, and what the registry client does with each.

export const MEDIA_TYPES = {
  // Docker image manifest v2, schema 2.
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  // Schema 1 is only recognised, to refuse it clearly.
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  // OCI image-spec v1.
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributableTar: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
const SCHEMA1_TYPES: readonly string[] = [MEDIA_TYPES.dockerManifestV1, MEDIA_TYPES.dockerManifestV1Signed];

// What the client sends in Accept when it asks for a manifest.
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

// "application/vnd.oci.image.index.v1+json; charset=utf-8" -> the bare type, lower-cased.
export function baseMediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  return contentType.split(';')[0].trim().toLowerCase();
}

export const isManifestType = (mt: string): boolean => MANIFEST_TYPES.includes(baseMediaType(mt));
export const isIndexType = (mt: string): boolean => INDEX_TYPES.includes(baseMediaType(mt));
export const isSchema1Type = (mt: string): boolean => SCHEMA1_TYPES.includes(baseMediaType(mt));

export type Compression = 'none' | 'gzip' | 'zstd';

// How a layer of the given media type is compressed. `sniff` is set for
// Docker's layer type: Docker itself looks at the magic bytes there, since
// uncompressed layers travel under the ".tar.gzip" name too.
export function layerCompression(mediaType: string): { compression: Compression; sniff: boolean } | undefined {
  switch (baseMediaType(mediaType)) {
    case MEDIA_TYPES.ociLayerTar:
    case MEDIA_TYPES.ociLayerNondistributableTar:
      return { compression: 'none', sniff: false };
    case MEDIA_TYPES.ociLayerGzip:
    case MEDIA_TYPES.ociLayerNondistributableGzip:
      return { compression: 'gzip', sniff: false };
    case MEDIA_TYPES.ociLayerZstd:
    case MEDIA_TYPES.ociLayerNondistributableZstd:
      return { compression: 'zstd', sniff: false };
    case MEDIA_TYPES.dockerLayerGzip:
    case MEDIA_TYPES.dockerForeignLayerGzip:
      return { compression: 'gzip', sniff: true };
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return { compression: 'none', sniff: true };
    default:
      return undefined;
  }
}
