// `--restart no|always|unless-stopped|on-failure[:N]`, as docker/cli's
// opts.ParseRestartPolicy reads it: the name is not checked here (the
// daemon does), the count must be an integer.
export interface RestartPolicyBody {
  Name: string;
  MaximumRetryCount: number;
}

export function parseRestartPolicy(policy: string): RestartPolicyBody {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon < 0 ? policy : policy.slice(0, colon);
  const count = colon < 0 ? '' : policy.slice(colon + 1);
  if (colon >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let n = 0;
  if (count !== '') {
    // Go's strconv.Atoi: an optional sign and decimal digits, within int64.
    if (!/^[+-]?\d+$/.test(count) || !Number.isSafeInteger(Number(count))) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    n = Number(count);
  }
  return { Name: name, MaximumRetryCount: n };
}

// docker/cli's RestartPolicy.IsNone.
export const isNoRestart = (p: RestartPolicyBody): boolean => p.Name === '' || p.Name === 'no';
