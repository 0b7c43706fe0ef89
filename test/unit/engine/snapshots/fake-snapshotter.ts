// A fake Snapshotter for unit tests: layers and container dirs live in maps,
// paths are names under /fake that nothing creates. With a FakeLayerTars,
// what was applied to a scratch dir follows it into the committed layer.
import { notFound } from '../../../../src/errors';
import { chainIDOf } from '../../../../src/oci/layers';
import type { LayerInfo, Mount, ScratchLayer, Snapshotter } from '../../../../src/engine/snapshots/snapshotter';
import type { FakeLayerTars } from '../layers/fake-layer-tars';

const hex = (d: string) => d.replace(/^sha256:/, '');

export class FakeSnapshotter implements Snapshotter {
  readonly layers = new Map<string, LayerInfo>();
  // Scratch dirs handed out and neither committed nor discarded yet.
  readonly scratches = new Set<string>();
  readonly containers = new Set<string>();
  private next = 0;

  constructor(private tars?: FakeLayerTars, readonly root = '/fake') {}

  async init(): Promise<void> {}

  get(chainID: string): LayerInfo | undefined {
    return this.layers.get(chainID);
  }

  list(): LayerInfo[] {
    return [...this.layers.values()];
  }

  chain(chainID: string | undefined): string[] {
    const out: string[] = [];
    for (let c = chainID; c && this.layers.has(c); c = this.layers.get(c)!.parent) out.push(c);
    return out;
  }

  diffDir(chainID: string): string {
    return `${this.root}/layers/${hex(chainID)}/diff`;
  }

  async scratch(): Promise<ScratchLayer> {
    const tmp = `${this.root}/tmp/${++this.next}`;
    this.scratches.add(tmp);
    return { tmp, dir: `${tmp}/diff` };
  }

  async commit(s: ScratchLayer, parent: string | undefined, diffID: string, size: number): Promise<LayerInfo> {
    try {
      if (parent && !this.layers.has(parent)) throw notFound(`parent layer ${parent} not found`);
      const chainID = chainIDOf(parent, diffID);
      const existing = this.layers.get(chainID);
      if (existing) return existing;
      const info: LayerInfo = { chainID, diffID, parent, size, link: `L${this.next}` };
      this.tars?.move(s.dir, this.diffDir(chainID));
      this.layers.set(chainID, info);
      return info;
    } finally {
      await this.discard(s);
    }
  }

  async discard(s: ScratchLayer): Promise<void> {
    this.scratches.delete(s.tmp);
    this.tars?.trees.delete(s.dir);
  }

  async removeLayer(chainID: string): Promise<void> {
    this.layers.delete(chainID);
    this.tars?.trees.delete(this.diffDir(chainID));
  }

  async prepare(id: string, chainID: string): Promise<Mount> {
    this.containers.add(id);
    return this.mounts(id, chainID);
  }

  mounts(id: string, chainID: string): Mount {
    const dir = this.containerDir(id);
    return { type: 'overlay', source: 'overlay', target: `${dir}/merged`, options: [`lowerdir=${this.lowers(chainID).join(':')}`, `upperdir=${dir}/diff`, `workdir=${dir}/work`] };
  }

  containerDir(id: string): string {
    return `${this.root}/containers/${id}`;
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  async upperSize(): Promise<number> {
    return 0;
  }

  lowers(chainID: string): string[] {
    const out: string[] = [];
    for (let c: string | undefined = chainID; c; ) {
      const info = this.layers.get(c);
      if (!info) throw notFound(`layer ${c} not found`);
      out.push(`${this.root}/l/${info.link}`);
      c = info.parent;
    }
    return out;
  }
}
