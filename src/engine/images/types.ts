// OCI image config (application/vnd.oci.image.config.v1+json), as Docker
// writes it, with the container config fields Docker adds.
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: unknown;
  Shell?: string[];
  OnBuild?: string[] | null;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ImageRunConfig;
  container_config?: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  comment?: string;
  docker_version?: string;
}

export interface ImageRecord {
  id: string; // digest of the config blob
  config: ImageConfig;
  chainID?: string; // top layer; undefined for an image with no layers
  size: number;
  lastTagTime?: string;
}
