/** An event as stored and as sent on every channel (REST, WebSocket, SSE, webhooks). */
export interface KoorEvent {
  id: number;
  topic: string;
  data: unknown;
  source: string;
  created_at: string;
}

export type EventListener = (event: KoorEvent) => void;

/**
 * In-process fan-out of committed events to live listeners (WebSocket and SSE subscribers,
 * the webhook dispatcher, metrics). Listeners must not block: each one is expected to queue
 * the event and return.
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
