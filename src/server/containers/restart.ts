// Docker's RestartPolicy ⇄ the engine's (engine/containers/restart.ts).
import type { RestartPolicy, RestartPolicyName } from '../../engine/containers/restart';

export interface DockerRestartPolicy {
  Name: string;
  MaximumRetryCount?: number;
}

// None for `no` and "" (checked already by compat/fields.ts).
export function restartPolicyOf(rp: { Name?: string | null; MaximumRetryCount?: number | null } | null | undefined): RestartPolicy | undefined {
  const name = rp?.Name ?? '';
  if (name === '' || name === 'no') return undefined;
  const max = rp?.MaximumRetryCount ?? 0;
  return { name: name as RestartPolicyName, ...(name === 'on-failure' && max > 0 ? { maxRetries: max } : {}) };
}

// As dockerd keeps it: "" becomes "no".
export function dockerRestartPolicy(rp: { Name?: string | null; MaximumRetryCount?: number | null } | null | undefined): DockerRestartPolicy {
  return { Name: rp?.Name || 'no', MaximumRetryCount: rp?.MaximumRetryCount ?? 0 };
}
