// berth volume inspect
import { HELP_FLAG, type Command } from '../../command';
import { goJSON } from '../../output/template';
import { FORMAT_FLAG, inspect } from '../inspect';

function sortedMap(m: unknown): unknown {
  if (!m || typeof m !== 'object') return m;
  return Object.fromEntries(Object.entries(m as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// docker decodes a volume into Go's volume.Volume and encodes it again.
export function reshapeVolume(raw: string): string {
  const v = JSON.parse(raw);
  const out: Record<string, unknown> = {};
  if (v.ClusterVolume) out.ClusterVolume = v.ClusterVolume;
  if (v.CreatedAt) out.CreatedAt = v.CreatedAt;
  out.Driver = v.Driver ?? '';
  out.Labels = sortedMap(v.Labels ?? null);
  out.Mountpoint = v.Mountpoint ?? '';
  out.Name = v.Name ?? '';
  out.Options = sortedMap(v.Options ?? null);
  out.Scope = v.Scope ?? '';
  if (v.Status && Object.keys(v.Status).length) out.Status = sortedMap(v.Status);
  if (v.UsageData) out.UsageData = { RefCount: v.UsageData.RefCount ?? 0, Size: v.UsageData.Size ?? 0 };
  return goJSON(out, true);
}

export const volumeInspectCommand: Command = {
  name: 'inspect',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  minArgs: 1,
  flags: [{ ...FORMAT_FLAG, desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }, HELP_FLAG],
  run: (ctx, p) => inspect(ctx, ['volume'], p.args, p.flags.format, false, false, reshapeVolume),
};
