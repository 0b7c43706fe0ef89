// Token scopes ("repository:library/busybox:pull,push"), merged per
// resource so one token request names each resource once.

export const pullScope = (repo: string) => `repository:${repo}:pull`;
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;

// Merges scopes: the same type:name gets the union of its actions. The
// result is sorted, so it also serves as a cache key.
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const raw of scopes) {
    for (const s of raw.split(' ')) {
      if (!s) continue;
      const last = s.lastIndexOf(':');
      const first = s.indexOf(':');
      if (first < 0 || last === first) {
        // not type:name:actions; keep as is
        if (!byResource.has(s)) byResource.set(s, new Set());
        continue;
      }
      const resource = s.slice(0, last);
      const set = byResource.get(resource) ?? new Set<string>();
      for (const a of s.slice(last + 1).split(',')) if (a) set.add(a);
      byResource.set(resource, set);
    }
  }
  return [...byResource.entries()]
    .map(([r, actions]) => (actions.size ? `${r}:${[...actions].sort().join(',')}` : r))
    .sort();
}
