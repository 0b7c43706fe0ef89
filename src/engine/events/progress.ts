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

// Counts bytes as `status` progress of id ("Downloading", "Pushing", ...):
// call it with each chunk's length; it reports every `step` bytes and when
// the count reaches total.
export function byteProgress(progress: ProgressSink, id: string, status: string, total: number | undefined, step: number): (n: number) => void {
  let current = 0;
  let last = 0;
  return (n) => {
    current += n;
    if (current - last >= step || current === total) {
      last = current;
      progress({ type: 'progress', id, status, current, total });
    }
  };
}
