// Layer identities of the OCI image-spec: a layer's diffID is the digest of
// its uncompressed tar; its chainID names it together with every layer
// under it.
import { createHash } from 'node:crypto';

// sha256 of an empty tar (two zero blocks): Docker's "empty layer".
export const EMPTY_LAYER_DIFFID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

// ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
export function chainIDOf(parent: string | undefined, diffID: string): string {
  if (!parent) return diffID;
  return 'sha256:' + createHash('sha256').update(`${parent} ${diffID}`).digest('hex');
}

// The chain ids of an image's layers, bottom first.
export function chainIDs(diffIDs: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) out.push(chainIDOf(out[out.length - 1], d));
  return out;
}
