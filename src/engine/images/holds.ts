// Layers that a pull or push in flight stands on, counted per chain id.
// Layer GC spares them (a pull commits its layers before the image that
// names them exists; a push reads them), and a failed pull removes only
// the layers nobody else holds.
export class LayerHolds {
  private counts = new Map<string, number>();

  has(chainID: string): boolean {
    return this.counts.has(chainID);
  }

  // Holds every chain id until the returned function is called (once).
  hold(chains: string[]): () => void {
    this.add(chains, 1);
    let held = true;
    return () => {
      if (held) this.add(chains, -1);
      held = false;
    };
  }

  private add(chains: string[], delta: 1 | -1): void {
    for (const c of chains) {
      const n = (this.counts.get(c) ?? 0) + delta;
      if (n > 0) this.counts.set(c, n);
      else this.counts.delete(c);
    }
  }
}
