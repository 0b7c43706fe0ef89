// What the prune commands share: docker's PruneFilters (--filter values
// plus config.json's pruneFilters), and each kind's prune run as
// `system prune` runs it too: the space reclaimed and the text to print.
import type { Context } from '../command';
import { loadConfig } from '../config';
import { humanSize } from '../output/format';
import { filtersToJSON, parseFilterFlags } from './filters';

// command.PruneFilters: config.json's pruneFilters join the command line's,
// except a label the command line negates (or the other way round).
// `add` adds the command's own filters first (image prune's dangling).
export function pruneFilters(ctx: Context, values: string[], add: Record<string, string> = {}): Map<string, string[]> {
  const filters = parseFilterFlags(values);
  for (const [k, v] of Object.entries(add)) {
    const cur = filters.get(k) ?? [];
    if (!cur.includes(v)) filters.set(k, [...cur, v]);
  }
  const cfg = loadConfig(ctx);
  const extra = Array.isArray(cfg.data.pruneFilters) ? (cfg.data.pruneFilters as unknown[]) : [];
  for (const e of extra) {
    if (typeof e !== 'string' || !e.includes('=')) continue;
    const [k, v] = [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)];
    if (k === 'label' && filters.get('label!')?.includes(v)) continue;
    if (k === 'label!' && filters.get('label')?.includes(v)) continue;
    const cur = filters.get(k) ?? [];
    if (!cur.includes(v)) filters.set(k, [...cur, v]);
  }
  return filters;
}

export interface PruneResult {
  space: number;
  output: string;
}

function listing(title: string, items: string[] | null | undefined): string {
  if (!items?.length) return '';
  return `${title}\n${items.map((i) => `${i}\n`).join('')}`;
}

export async function pruneContainers(ctx: Context, filters: Map<string, string[]>): Promise<PruneResult> {
  const r = await ctx.client().json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: { filters: filtersToJSON(filters) } });
  const output = listing('Deleted Containers:', r?.ContainersDeleted);
  return { space: output ? r?.SpaceReclaimed ?? 0 : 0, output };
}

// docker counts no space for networks.
export async function pruneNetworks(ctx: Context, filters: Map<string, string[]>): Promise<PruneResult> {
  const r = await ctx.client().json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersToJSON(filters) } });
  return { space: 0, output: listing('Deleted Networks:', r?.NetworksDeleted) };
}

export async function pruneVolumes(ctx: Context, filters: Map<string, string[]>): Promise<PruneResult> {
  const r = await ctx.client().json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters: filtersToJSON(filters) } });
  const output = listing('Deleted Volumes:', r?.VolumesDeleted);
  return { space: output ? r?.SpaceReclaimed ?? 0 : 0, output };
}

export async function pruneImages(ctx: Context, filters: Map<string, string[]>): Promise<PruneResult> {
  const r = await ctx.client().json<{ ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number }>('POST', '/images/prune', { query: { filters: filtersToJSON(filters) } });
  const deleted = r?.ImagesDeleted ?? [];
  if (!deleted.length) return { space: 0, output: '' };
  let output = 'Deleted Images:\n';
  for (const d of deleted) output += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
  return { space: r?.SpaceReclaimed ?? 0, output };
}

export async function pruneBuildCache(ctx: Context, all: boolean, filters: Map<string, string[]>): Promise<PruneResult> {
  const r = await ctx.client().json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/build/prune', { query: { all, filters: filtersToJSON(filters) ?? '' } });
  return { space: r?.SpaceReclaimed ?? 0, output: listing('Deleted build cache objects:', r?.CachesDeleted) };
}

// How a prune command ends: its listing (fmt.Fprintln adds a blank line) and the total.
export function pruneReport(ctx: Context, r: PruneResult, total = true): void {
  if (r.output) ctx.out.write(`${r.output}\n`);
  if (total) ctx.out.write(`Total reclaimed space: ${humanSize(r.space, 4)}\n`);
}
