// The seam between the container lifecycle and storage beyond the rootfs:
// resolves a mount a container asks for to what the runtime mounts. No
// volume store exists yet, so every request is refused by name; a later
// issue adds bind mounts, named volumes and tmpfs behind this interface.
import { invalidArgument } from '../../errors';
import type { MountSpec } from '../containers/spec';
import type { OciMount } from '../runtime/spec';

export interface Volumes {
  // Throws InvalidArgument for a mount that cannot be had.
  resolve(containerId: string, m: MountSpec): Promise<OciMount>;
  // Lets go of what resolve() took for the container; safe to call twice.
  release(containerId: string): Promise<void>;
}

export class NoVolumes implements Volumes {
  async resolve(_id: string, m: MountSpec): Promise<OciMount> {
    throw invalidArgument(`${m.type} mounts are not supported yet (${m.target})`);
  }

  async release(): Promise<void> {}
}
