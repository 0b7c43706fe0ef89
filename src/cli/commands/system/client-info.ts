// What `version` and `info` say about berth itself.
import { API_VERSION } from '../../../client/client';
import pkg from '../../../../package.json';

const goArch = (a: string) => (a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a);

export function clientInfo() {
  return {
    Version: pkg.version,
    ApiVersion: API_VERSION,
    NodeVersion: process.version,
    Os: process.platform,
    Arch: goArch(process.arch),
  };
}
