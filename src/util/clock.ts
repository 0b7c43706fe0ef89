// Time and timers behind one small interface, so the code that waits
// (restart policies' back-off, healthchecks' intervals) can be driven by a
// fake clock in tests, with no real time passing.
export interface Clock {
  // Milliseconds since the epoch.
  now(): number;
  // Calls fn once, ms from now; the returned function cancels it.
  after(ms: number, fn: () => void): () => void;
}

// Node's timers hold at most 2^31-1 ms (a longer one fires at once): a
// longer wait is made of several. The timers never keep a stopping daemon
// alive.
const MAX_TIMER = 2 ** 31 - 1;
export const wallClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    let t: NodeJS.Timeout;
    const arm = (left: number) => {
      t = setTimeout(() => (left > MAX_TIMER ? arm(left - MAX_TIMER) : fn()), Math.min(Math.max(left, 0), MAX_TIMER));
      t.unref();
    };
    arm(ms);
    return () => clearTimeout(t);
  },
};
