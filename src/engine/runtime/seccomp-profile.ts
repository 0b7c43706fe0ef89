// A seccomp profile in Docker's JSON format (what `docker run --security-opt
// seccomp=<file>` sends: the file's content) turned into the OCI spec's
// linux.seccomp, as moby's setupSeccomp does: `archMap` picks the native
// architecture and its sub-architectures, `name` or `names`, and each rule
// kept or dropped by its `includes`/`excludes` (capabilities of the
// container's bounding set, architectures by Go's names, minimum kernel).
// Pure: unit-tested without root.
import { invalidArgument } from '../../errors';
import type { OciSeccomp, OciSyscallRule, SeccompAction } from './seccomp';

interface Filter { caps?: string[]; arches?: string[]; minKernel?: string }
interface DockerSyscall extends Partial<OciSyscallRule> { name?: string; includes?: Filter; excludes?: Filter; comment?: string }
export interface DockerProfile {
  defaultAction?: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: DockerSyscall[];
  flags?: string[];
  listenerPath?: string;
}

const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'];
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

// Go's runtime.GOARCH names (the ones profiles use in includes/excludes),
// and the native seccomp architecture of each.
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
const NATIVE: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', '386': 'SCMP_ARCH_X86', arm: 'SCMP_ARCH_ARM', ppc64le: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X' };

const bad = (msg: string) => invalidArgument(`Decoding seccomp profile failed: ${msg}`);

// Parses and checks a profile; the message says what is wrong, as a 400.
export function parseDockerProfile(text: string): DockerProfile {
  let p: DockerProfile;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw bad('expected a JSON object');
  if (p.defaultAction !== undefined && !ACTIONS.includes(p.defaultAction)) throw bad(`invalid defaultAction ${JSON.stringify(p.defaultAction)}`);
  if (p.architectures?.length && p.archMap?.length) {
    throw invalidArgument("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  if (p.listenerPath) throw invalidArgument('seccomp profile listenerPath (a seccomp notify agent) is not supported');
  if (p.syscalls !== undefined && !Array.isArray(p.syscalls)) throw bad('syscalls must be a list');
  for (const call of p.syscalls ?? []) {
    if (!call || typeof call !== 'object') throw bad('each syscalls entry must be an object');
    if (call.name && call.names?.length) throw invalidArgument("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    if (!call.action || !ACTIONS.includes(call.action)) throw bad(`invalid action ${JSON.stringify(call.action)} for ${JSON.stringify(call.names ?? call.name)}`);
    for (const a of call.args ?? []) {
      if (typeof a?.index !== 'number' || typeof a.value !== 'number' || !OPS.includes(a.op)) throw bad(`invalid args for ${JSON.stringify(call.names ?? call.name)}`);
    }
    for (const f of [call.includes, call.excludes]) {
      if (f?.minKernel !== undefined && !/^\d+\.\d+/.test(f.minKernel)) throw bad(`invalid kernel version ${JSON.stringify(f.minKernel)}`);
    }
  }
  return p;
}

function kernelAtLeast(release: string, min: string): boolean {
  const [a, b] = release.split(/[.-]/).map(Number);
  const [c, d] = min.split('.').map(Number);
  return a > c || (a === c && b >= (d || 0));
}

export interface ProfileContext {
  // The container's bounding set.
  capabilities: string[];
  // Node's process.arch; defaults to it.
  arch?: string;
  // os.release().
  kernel: string;
}

// The OCI filter for a profile; null when it asks for none (no default
// action and no rules, as moby reads it).
export function profileToOci(text: string, ctx: ProfileContext): OciSeccomp | null {
  const p = parseDockerProfile(text);
  if (!p.defaultAction && !(p.syscalls ?? []).length) return null;
  const arch = GO_ARCH[ctx.arch ?? process.arch] ?? ctx.arch ?? process.arch;
  const architectures = [...(p.architectures ?? [])];
  for (const a of p.archMap ?? []) {
    if (a.architecture === NATIVE[arch]) {
      architectures.push(a.architecture, ...(a.subArchitectures ?? []));
      break;
    }
  }
  const bounding = new Set(ctx.capabilities);
  const syscalls: OciSyscallRule[] = [];
  for (const call of p.syscalls ?? []) {
    const ex = call.excludes;
    if (ex?.arches?.includes(arch)) continue;
    if (ex?.caps?.some((c) => bounding.has(c))) continue;
    if (ex?.minKernel && kernelAtLeast(ctx.kernel, ex.minKernel)) continue;
    const inc = call.includes;
    if (inc?.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc?.caps?.length && !inc.caps.every((c) => bounding.has(c))) continue;
    if (inc?.minKernel && !kernelAtLeast(ctx.kernel, inc.minKernel)) continue;
    const names = call.name ? [call.name] : call.names ?? [];
    if (!names.length) continue;
    syscalls.push({
      names,
      action: call.action!,
      ...(call.errnoRet !== undefined ? { errnoRet: call.errnoRet } : {}),
      ...(call.args?.length ? { args: call.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction ?? 'SCMP_ACT_ALLOW',
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    syscalls,
    ...(p.flags?.length ? { flags: p.flags } : {}),
  } as OciSeccomp;
}
