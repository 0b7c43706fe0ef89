// The OCI image-spec's content descriptors and the two documents made of
// them, the image manifest and the index (Docker's schema 2 manifest and
// manifest list have the same shape).
import { isIndexType } from './mediatypes';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  data?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: string; // always set: from the document, or the type it was fetched as
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export function isIndex(doc: Manifest | Index): doc is Index {
  return isIndexType(doc.mediaType);
}
