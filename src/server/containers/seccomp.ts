// HostConfig.SecurityOpt's seccomp option (what `docker run --security-opt
// seccomp=…` sends) as the engine's choice:
//   seccomp=unconfined (or the old seccomp:unconfined) -> no filter
//   seccomp=builtin, or no seccomp option               -> Docker's default allowlist
//   Privileged                                           -> no filter, as Docker
// A custom JSON profile (the CLI sends the file's contents) or anything else
// is InvalidArgument. Other options are the field table's business.
import { invalidArgument } from '../../errors';
import type { SeccompSpec } from '../../engine/containers/spec';

export function seccompOption(securityOpt: string[] | null | undefined, privileged = false): SeccompSpec {
  let value: string | undefined;
  for (const opt of securityOpt ?? []) {
    const m = /^seccomp[=:](.*)$/s.exec(opt);
    if (m) value = m[1];
  }
  if (value !== undefined && value !== 'unconfined' && value !== 'builtin' && value !== '') {
    if (value.trimStart().startsWith('{')) throw invalidArgument('custom seccomp profiles are not supported: use seccomp=unconfined or the default profile');
    throw invalidArgument(`invalid seccomp profile ${JSON.stringify(value)}: expected "unconfined" or "builtin"`);
  }
  return value === 'unconfined' || privileged ? { mode: 'unconfined' } : { mode: 'default' };
}

// Whether an option is the seccomp one.
export const isSeccompOption = (opt: string): boolean => /^seccomp[=:]/.test(opt);
