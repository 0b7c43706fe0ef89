// HostConfig.SecurityOpt (what `docker run --security-opt …` sends), read as
// dockerd's parseSecurityOpt reads it:
//   seccomp=unconfined (or the old seccomp:unconfined) -> no filter
//   seccomp=builtin, or no seccomp option               -> Docker's default allowlist
//   seccomp=<JSON> (the CLI sends a file's contents)    -> that profile, Docker's format
//   Privileged                                           -> no filter, as Docker
//   no-new-privileges[=|:true|false] (Go's ParseBool)   -> no_new_privs
//   apparmor=unconfined, label=disable                  -> nothing to do: berth
//                                                          loads no AppArmor profile
//                                                          and sets no SELinux label
// Other apparmor= and label= values ask for a confinement this host and
// berth do not have: refused by name rather than ignored as dockerd does
// where the LSM is off.
import { invalidArgument } from '../../errors';
import type { SeccompSpec } from '../../engine/containers/spec';

const GO_BOOL: Record<string, boolean> = {
  '1': true, t: true, T: true, TRUE: true, true: true, True: true,
  '0': false, f: false, F: false, FALSE: false, false: false, False: false,
};

export interface SecurityOptions {
  seccomp: SeccompSpec;
  noNewPrivileges: boolean;
}

export function securityOptions(securityOpt: string[] | null | undefined, privileged = false): SecurityOptions {
  let seccomp: string | undefined;
  let noNewPrivileges = false;
  for (const opt of securityOpt ?? []) {
    if (opt === 'no-new-privileges') {
      noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label disable, the old spelling
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw invalidArgument(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const k = opt.slice(0, opt.indexOf(sep));
    const v = opt.slice(opt.indexOf(sep) + 1);
    switch (k) {
      case 'seccomp':
        seccomp = v;
        break;
      case 'no-new-privileges':
        if (!(v in GO_BOOL)) throw invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        noNewPrivileges = GO_BOOL[v];
        break;
      case 'apparmor':
        if (v !== 'unconfined') throw invalidArgument(`HostConfig.SecurityOpt ${JSON.stringify(opt)} is not supported: berth loads no AppArmor profiles (only apparmor=unconfined)`);
        break;
      case 'label':
        if (v !== 'disable') throw invalidArgument(`HostConfig.SecurityOpt ${JSON.stringify(opt)} is not supported: berth sets no SELinux labels (only label=disable)`);
        break;
      default:
        throw invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return { seccomp: seccompOf(seccomp, privileged), noNewPrivileges };
}

function seccompOf(value: string | undefined, privileged: boolean): SeccompSpec {
  if (privileged || value === 'unconfined') return { mode: 'unconfined' };
  if (value === undefined || value === '' || value === 'builtin') return { mode: 'default' };
  if (value.trimStart().startsWith('{')) return { mode: 'custom', profile: value };
  throw invalidArgument(`invalid seccomp profile ${JSON.stringify(value)}: expected "unconfined", "builtin" or a profile's JSON (the docker CLI sends a file's content)`);
}

// The seccomp choice alone.
export function seccompOption(securityOpt: string[] | null | undefined, privileged = false): SeccompSpec {
  return securityOptions(securityOpt, privileged).seccomp;
}
