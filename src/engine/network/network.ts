// The seam between the container lifecycle and networking. A network gives a
// container its /etc/hosts, /etc/hostname and /etc/resolv.conf, says which
// network namespace the runtime makes or joins, and wires the namespace once
// the process exists (bridge networks will plug in a veth there).
import type { NetworkSpec } from '../containers/spec';

export interface NetworkFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export interface NetworkEndpoint {
  id: string;
  name: string; // without the leading "/"
  files: NetworkFiles;
  hostname: string; // the container's, resolved ("" never reaches here)
  domainname: string;
  network: NetworkSpec;
}

export interface Networks {
  // Fails (NotFound, InvalidArgument) for a network that cannot be had.
  check(network: NetworkSpec): void;
  // Writes the container's files for its network.
  writeFiles(ep: NetworkEndpoint, files: NetworkFiles): Promise<void>;
  // Before the runtime makes the container: a network namespace for it to
  // join (undefined: the runtime makes one, or joins the host's).
  prepare?(ep: NetworkEndpoint): Promise<string | undefined>;
  // Before the process runs: wires its namespace (pid is its init process).
  attach(ep: NetworkEndpoint, pid: number): Promise<void>;
  // After it exited, or when it is removed; safe to call twice. Its events
  // wait for `announceAfter` (dockerd's order: die, then disconnect).
  // background: may return before the wiring is undone (an exit); a start
  // or removal of the same container still comes after it.
  detach(id: string, o?: { announceAfter?: Promise<unknown>; background?: boolean }): Promise<void>;
  // When the container is removed: what was kept for it goes too.
  // background: as detach's (an auto-removal's answer does not wait).
  forget?(id: string, o?: { background?: boolean }): Promise<void>;
}
