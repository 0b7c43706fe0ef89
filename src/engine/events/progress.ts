// Typed progress from long engine operations (pull, push, load). The engine
// emits these; the API renders them as Docker's JSON messages and `berth`
// draws its own bars from those.
export type ProgressEvent =
  // A line of status, optionally about one item ("Pulling from library/busybox", id "latest").
  | { type: 'status'; status: string; id?: string }
  // Per-layer progress: "Downloading", "Extracting", "Pushing" with byte counts.
  | { type: 'progress'; id: string; status: string; current?: number; total?: number }
  // Structured result for clients (push: {Tag, Digest, Size}).
  | { type: 'aux'; aux: Record<string, unknown> }
  // A line of output ("Loaded image: busybox:latest\n").
  | { type: 'stream'; text: string };

export type ProgressSink = (e: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};
