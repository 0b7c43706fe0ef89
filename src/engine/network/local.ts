// The networks there are until bridge networking lands: 'none' (a namespace
// of its own with loopback only) and 'host' (the host's stack and files).
// Joining another container's namespace needs nothing wired here either.
import * as fsp from 'node:fs/promises';
import { invalidArgument } from '../../errors';
import type { NetworkSpec } from '../containers/spec';
import { hostsFile, resolvConf } from './files';
import type { NetworkEndpoint, NetworkFiles, Networks } from './network';

export class LocalNetworks implements Networks {
  check(network: NetworkSpec): void {
    if (network.mode === 'container' && !network.container) throw invalidArgument('a container network needs the container to join');
  }

  async writeFiles(ep: NetworkEndpoint, files: NetworkFiles): Promise<void> {
    const mode = ep.network.mode === 'host' ? 'host' : 'none';
    await Promise.all([
      fsp.writeFile(files.hostname, `${ep.hostname}\n`),
      fsp.writeFile(files.hosts, hostsFile(mode)),
      fsp.writeFile(files.resolvConf, resolvConf(mode)),
    ]);
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}
}
