// Platforms ("linux/arm64/v8"): this host's, one given by a client, and the
// pick from an index or manifest list, with the normalisation containerd
// applies (x86_64 -> amd64, aarch64 -> arm64, arm64 = arm64/v8).
import { invalidArgument, notFound } from '../errors';
import type { Descriptor, Index } from './descriptor';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export function normalizePlatform(p: PlatformSpec): { os: string; architecture: string; variant: string } {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (arch) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'i386':
    case 'i686':
      arch = '386';
      variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return { os, architecture: arch, variant };
}

export function formatPlatform(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

// The platform of this host, as image indexes name it.
export function hostPlatform(): PlatformSpec {
  const archMap: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le', loong64: 'loong64' };
  const architecture = archMap[process.arch] ?? process.arch;
  let variant: string | undefined;
  if (architecture === 'arm64') variant = 'v8';
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    variant = `v${v ?? 7}`;
  }
  return { os: 'linux', architecture, variant };
}

// "os/arch[/variant]" as clients send it (pull --platform); empty is this host.
export function parsePlatform(s: string | undefined | null): PlatformSpec {
  if (!s) return hostPlatform();
  const [osName, architecture, variant] = s.split('/');
  if (!osName || !architecture) throw invalidArgument(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`);
  return { os: osName, architecture, variant };
}

// The variants a machine of `variant` also runs, best first (arm v7 runs v6
// and v5 binaries; amd64 v3 runs v2 and v1).
function compatibleVariants(arch: string, variant: string): string[] {
  const m = /^v(\d+)$/.exec(variant);
  if ((arch === 'arm' || arch === 'amd64') && m) {
    const out: string[] = [];
    const floor = arch === 'arm' ? 5 : 1;
    for (let n = Number(m[1]); n >= floor; n--) out.push(arch === 'amd64' && n === 1 ? '' : `v${n}`);
    return out;
  }
  return [variant];
}

// Picks the manifest for `want` (default: this host) from an index. Throws
// NotFound listing the platforms the index has.
export function selectPlatform(index: Index, want: PlatformSpec = hostPlatform()): Descriptor {
  const w = normalizePlatform(want);
  const sameArch = index.manifests.filter((d) => {
    if (!d.platform) return false;
    const p = normalizePlatform(d.platform);
    return p.os === w.os && p.architecture === w.architecture;
  });
  const variantOf = (d: Descriptor) => normalizePlatform(d.platform!).variant;
  for (const v of compatibleVariants(w.architecture, w.variant)) {
    const hit = sameArch.find((d) => variantOf(d) === v);
    if (hit) return hit;
  }
  // No variant asked for: any variant of the architecture will do.
  if (want.variant === undefined && sameArch.length > 0) return sameArch[0];
  const available = index.manifests
    .filter((d) => d.platform && d.platform.os !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
  throw notFound(
    `no matching manifest for ${formatPlatform(want)} in the manifest list entries` +
      (available.length ? ` (available: ${[...new Set(available)].join(', ')})` : ' (the list names no platforms)'),
  );
}
