// The engine's event bus: lifecycle and image events, in Docker's vocabulary
// (type, action, actor), published by the services and read by whoever
// subscribes (the daemon's log, /events). The last events are kept in a
// ring (dockerd keeps 256), so a client can ask for the past. Publishing
// never blocks and never throws into the publisher.

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon';

export interface EngineEvent {
  type: EventType;
  // Docker's action names: create, start, die, destroy, pull, tag, untag, delete, …
  action: string;
  // The object the event is about (a container id, an image id or name).
  id: string;
  attributes: Record<string, string>;
  // Nanoseconds since the epoch; Docker's `timeNano`.
  timeNano: bigint;
}

export type EventListener = (e: EngineEvent) => void;

export interface EventPublisher {
  publish(type: EventType, action: string, id: string, attributes?: Record<string, string>): void;
}

// Nanoseconds since the epoch: the wall clock once, then the monotonic
// clock, so events of one millisecond still come in order.
const EPOCH_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export const nowNano = (): bigint => EPOCH_NS + process.hrtime.bigint();

export class EventBus implements EventPublisher {
  private listeners = new Set<EventListener>();
  // The last `keep` events, oldest first from `head`.
  private ring: EngineEvent[] = [];
  private head = 0;

  constructor(private onListenerError: (err: unknown) => void = () => {}, private keep = 256) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const e: EngineEvent = { type, action, id, attributes, timeNano: nowNano() };
    if (this.ring.length < this.keep) this.ring.push(e);
    else {
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.keep;
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  // The kept events with since <= timeNano <= until, oldest first. Called
  // together with subscribe (no await between), none is missed or repeated.
  past(since: bigint, until?: bigint): EngineEvent[] {
    const all = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    return all.filter((e) => e.timeNano >= since && (until === undefined || e.timeNano <= until));
  }

  // Returns the function that unsubscribes.
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// For code and tests that publish nowhere.
export const noEvents: EventPublisher = { publish() {} };
