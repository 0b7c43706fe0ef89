// The seam between the container lifecycle and storage beyond the rootfs:
// what a container's mounts need at create (volumes made, host dirs made),
// at start (volumes mounted on first use, copy-up, the OCI mounts), at exit
// (mounts undone by their last user) and at removal (anonymous volumes go).
// LocalVolumes (local.ts) is the implementation; NoVolumes refuses every
// mount, for tests and front-ends without storage.
import { invalidArgument } from '../../errors';
import type { MountSpec } from '../containers/spec';
import type { OciMount } from '../runtime/spec';

export interface Volumes {
  // At create: checks each mount and makes what it names (a new named or
  // anonymous volume, a missing `-v` host dir). Returns the mounts to keep
  // with the record (anonymous volumes named). Throws InvalidArgument or
  // NotFound for a mount that cannot be had.
  prepare(containerId: string, mounts: MountSpec[]): Promise<MountSpec[]>;
  // The create that prepared them is over (its record saved, or failed):
  // from now on the record says which volumes the container uses.
  settled(containerId: string): void;
  // At start, with the container's root mounted at rootfs and nothing
  // running in it yet: mounts volumes that need it on first use, fills new
  // empty volumes from the image's content, and returns the OCI mounts,
  // parents before children. With remap (userns-remap: the host ids of
  // the container's root), a new volume's empty directory is given to that
  // root, as dockerd makes its volume dirs.
  mount(containerId: string, mounts: MountSpec[], rootfs: string, o?: { remap?: { uid: number; gid: number } }): Promise<OciMount[]>;
  // At exit, and after a failed start: lets go of what mount() took; a
  // volume's mount goes with its last user. Safe to call twice.
  unmount(containerId: string, mounts: MountSpec[]): Promise<void>;
  // At removal (the record is gone): with removeAnonymous, the container's
  // anonymous volumes go unless another container uses them. Safe to call twice.
  release(containerId: string, mounts: MountSpec[], o: { removeAnonymous: boolean }): Promise<void>;
}

export class NoVolumes implements Volumes {
  async prepare(_id: string, mounts: MountSpec[]): Promise<MountSpec[]> {
    const m = mounts[0];
    if (m) throw invalidArgument(`${m.type} mounts are not supported yet (${m.target})`);
    return [];
  }

  settled(): void {}

  async mount(): Promise<OciMount[]> {
    return [];
  }

  async unmount(): Promise<void> {}

  async release(): Promise<void> {}
}
