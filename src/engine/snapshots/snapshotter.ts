// What images and containers need from a snapshotter, in two roles:
// read-only image layers keyed by chain id (the image side: store, pull,
// load, import, commit, GC) and a container's root filesystem over them
// (the container side). OverlaySnapshotter is the one implementation; unit
// tests use a fake.

export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export interface LayerInfo {
  chainID: string;
  diffID: string;
  parent?: string;
  size: number; // bytes of the uncompressed layer tar
  link: string; // short name under l/, keeps lowerdir within one page
}

// A layer tree being filled, not yet a layer.
export interface ScratchLayer {
  tmp: string;
  dir: string; // fill this
}

export interface LayerSnapshotter {
  get(chainID: string): LayerInfo | undefined;
  list(): LayerInfo[];
  // The chain ids of a layer and the layers under it, top first; it stops
  // at a layer that is not stored.
  chain(chainID: string | undefined): string[];
  // The layer's tree (to pack it again).
  diffDir(chainID: string): string;
  // A dir to fill; it becomes the layer (parent, diffID) on commit, or goes
  // on discard. Committing a chain id that exists drops the scratch copy.
  scratch(): Promise<ScratchLayer>;
  commit(s: ScratchLayer, parent: string | undefined, diffID: string, size: number): Promise<LayerInfo>;
  discard(s: ScratchLayer): Promise<void>;
  removeLayer(chainID: string): Promise<void>;
}

export interface RootfsSnapshotter {
  // Makes a container's init and writable layers (once) over the image's
  // layers and says how to mount them. A volatile mount never syncs its
  // writable layer (overlayfs "volatile"): for a container whose layer goes
  // when it exits.
  prepare(id: string, chainID: string, o?: { volatile?: boolean }): Promise<Mount>;
  mounts(id: string, chainID: string): Mount;
  containerDir(id: string): string;
  removeContainer(id: string): Promise<void>;
  // Bytes in a container's writable layer (SizeRw).
  upperSize(id: string): Promise<number>;
  // The image layers' dirs, top first, as overlayfs's lowerdir lists them.
  lowers(chainID: string): string[];
}

export interface Snapshotter extends LayerSnapshotter, RootfsSnapshotter {
  init(): Promise<void>;
}
