import type { KoorEvent } from './schemas.js';

/** An event as stored and as sent on every channel (its schema is in schemas.ts). */
export type { KoorEvent };

export type EventListener = (event: KoorEvent) => void;

/**
 * In-process fan-out of committed events to live listeners (WebSocket and SSE subscribers,
 * the webhook dispatcher, metrics). Listeners must not block: each one is expected to queue
 * the event and return.
 *
 * Events are emitted in strictly increasing id order, each only once committed (see
 * publish.ts); replaying subscribers rely on both.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(event: KoorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken listener must not stop delivery to the others.
      }
    }
  }
}

const encoded = new WeakMap<KoorEvent, Buffer>();

/** The event's JSON as bytes, encoded once however many subscribers receive it. */
export function eventJson(event: KoorEvent): Buffer {
  let bytes = encoded.get(event);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify(event));
    encoded.set(event, bytes);
  }
  return bytes;
}
