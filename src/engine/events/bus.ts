// The engine's event bus: lifecycle and image events, in Docker's vocabulary
// (type, action, actor), published by the services and read by whoever
// subscribes (the daemon's log today, /events later). Publishing never
// blocks and never throws into the publisher.

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

export class EventBus implements EventPublisher {
  private listeners = new Set<EventListener>();

  constructor(private onListenerError: (err: unknown) => void = () => {}) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const e: EngineEvent = { type, action, id, attributes, timeNano: BigInt(Date.now()) * 1_000_000n };
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  // Returns the function that unsubscribes.
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// For code and tests that publish nowhere.
export const noEvents: EventPublisher = { publish() {} };
