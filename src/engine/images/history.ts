// `docker history`: an image's history entries with the sizes of their layers.
import type { ImageConfig } from './types';

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

const unix = (t?: string) => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
};

// `docker history`: newest first; each non-empty entry takes the size of
// the next layer; the top entry carries the image id and its tags, an
// older one those of the local image it was built from (`ancestor(k)`: an
// image whose history is the first k entries, as the builder's steps and
// the base image are), else "<missing>", as in Docker for images not built
// locally.
export function imageHistory(id: string, config: ImageConfig, layerSizes: number[], tags: string[], ancestor?: (k: number) => { id: string; tags: string[] } | undefined): HistoryItem[] {
  let history = config.history ?? [];
  // A config without history (hand-made ones) still shows its layers.
  if (history.length === 0) history = (config.rootfs?.diff_ids ?? []).map(() => ({ created: config.created, created_by: '' }));
  const out: HistoryItem[] = [];
  let layer = 0;
  for (const [k, h] of history.entries()) {
    let size = 0;
    if (!h.empty_layer) {
      size = layerSizes[layer] ?? 0;
      layer++;
    }
    const a = k < history.length - 1 ? ancestor?.(k + 1) : undefined;
    out.unshift({ Id: a?.id ?? '<missing>', Created: unix(h.created), CreatedBy: h.created_by ?? '', Tags: a?.tags.length ? a.tags : null, Size: size, Comment: h.comment ?? '' });
  }
  if (out.length) {
    out[0].Id = id;
    out[0].Tags = tags.length ? tags : null;
  }
  return out;
}
