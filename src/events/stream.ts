import type { AppContext } from '../kernel/context.js';
import type { KoorEvent } from './hub.js';
import type { TopicPattern } from './topics.js';
import { PAGE_DATA_CHARS, scanEvents } from './history.js';

/** Events a subscriber may have waiting (not yet written to its connection) before the oldest are dropped. */
export const SUBSCRIBER_BUFFER = 64;
/**
 * Bytes a connection may hold that the operating system has not taken yet. Beyond this the
 * subscriber is reading slower than we publish, and new events wait in its bounded buffer.
 */
const HIGH_WATER_BYTES = 64 * 1024;
const REPLAY_PAGE = 200;

/** Sent in place of the events a slow subscriber lost, so it can fetch them from history. */
export interface DroppedNotice {
  dropped: number;
  /** The last event id delivered before the gap: ask history for `after=resume_after`. */
  resume_after: number;
}

/** Where a stream writes: a WebSocket or a Server-Sent Events response. */
export interface StreamSink {
  /** Writes one event; `written` runs once its bytes are handed to the operating system. */
  writeEvent(event: KoorEvent, written: () => void): void;
  writeNotice(notice: DroppedNotice, written: () => void): void;
  /** Bytes accepted by the sink and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /** Optional: hold writes between cork and uncork, to hand them to the OS in one go. */
  cork?(): void;
  uncork?(): void;
}

/**
 * One subscriber's view of the bus: optionally replays stored events after a cursor, then
 * follows live events, filtered by a topic pattern, without gaps or duplicates.
 *
 * Switch-over: the stream listens to the hub before it reads history, keeping what arrives
 * meanwhile; after the last history page it forwards only the kept events it has not already
 * replayed. The hub emits committed events in id order, so "newer than the last id seen" is
 * exactly "not yet sent".
 *
 * Slow subscribers: live events wait in a buffer of SUBSCRIBER_BUFFER events while the
 * connection has more than HIGH_WATER_BYTES in flight. When it overflows, the oldest waiting
 * events are dropped and a DroppedNotice goes out in their place. Nothing here ever waits on
 * a subscriber, so a slow one cannot delay the publisher or anyone else.
 */
export class EventStream {
  private mode: 'replay' | 'live' | 'closed' = 'replay';
  /** Live events waiting to be written (live mode). */
  private readonly waiting: KoorEvent[] = [];
  /** Live events that arrived while replaying, and whether some had to be let go. */
  private arrivedDuringReplay: KoorEvent[] = [];
  private replayOverflowed = false;
  /** The highest event id replayed, queued or dropped: anything at or below it is old news. */
  private lastSeenId: number;
  /** The last event id handed to the sink (or the starting cursor). */
  private lastDeliveredId: number | undefined;
  private dropped = 0;
  private resumeAfter = 0;
  private drainWaiter: (() => void) | undefined;
  private pumpQueued = false;
  private readonly unsubscribe: () => void;
  private readonly written = () => this.onWritten();

  constructor(
    private readonly ctx: AppContext,
    private readonly pattern: TopicPattern,
    private readonly sink: StreamSink,
    private readonly after: number | undefined,
  ) {
    this.lastSeenId = after ?? 0;
    this.lastDeliveredId = after;
    this.unsubscribe = ctx.hub.subscribe((event) => this.onEvent(event));
  }

  /** Replays history after the cursor (when one was given); resolves once the stream is live. */
  async start(): Promise<void> {
    if (this.after === undefined) {
      this.goLive([]);
      return;
    }
    let cursor = this.after;
    for (;;) {
      const page = await scanEvents(this.ctx, { pattern: this.pattern }, 'asc', cursor, REPLAY_PAGE, PAGE_DATA_CHARS);
      for (const event of page.events) {
        if (this.closed) return;
        // Replay is paced by the connection rather than dropped: every stored event is wanted.
        await this.roomInSink();
        if (this.closed) return;
        this.deliver(event);
      }
      cursor = page.cursor ?? cursor;
      this.lastSeenId = Math.max(this.lastSeenId, cursor);
      if (this.closed) return;
      if (!page.exhausted) continue;
      if (this.replayOverflowed) {
        // Too much arrived while replaying; it is all stored, so read it from history instead.
        this.replayOverflowed = false;
        this.arrivedDuringReplay = [];
        continue;
      }
      // No await from here on: nothing can arrive between taking the kept events and going live.
      this.goLive(this.arrivedDuringReplay);
      return;
    }
  }

  /** Read through a getter so that checks after an await are not narrowed away. */
  private get closed(): boolean {
    return this.mode === 'closed';
  }

  close(): void {
    if (this.closed) return;
    this.mode = 'closed';
    this.unsubscribe();
    this.waiting.length = 0;
    this.arrivedDuringReplay = [];
    this.drainWaiter?.();
  }

  private goLive(kept: KoorEvent[]): void {
    if (this.closed) return;
    this.arrivedDuringReplay = [];
    this.mode = 'live';
    for (const event of kept) this.enqueue(event);
  }

  private onEvent(event: KoorEvent): void {
    if (!this.pattern.matches(event.topic)) return;
    if (this.mode === 'live') this.enqueue(event);
    else if (this.mode === 'replay') {
      if (this.arrivedDuringReplay.length >= SUBSCRIBER_BUFFER) this.replayOverflowed = true;
      else this.arrivedDuringReplay.push(event);
    }
  }

  private enqueue(event: KoorEvent): void {
    if (event.id <= this.lastSeenId) return;
    this.lastSeenId = event.id;
    this.waiting.push(event);
    if (this.waiting.length > SUBSCRIBER_BUFFER) {
      const lost = this.waiting.shift()!;
      if (this.dropped === 0) this.resumeAfter = this.lastDeliveredId ?? lost.id - 1;
      this.dropped++;
    }
    // Events stored in one transaction are emitted back to back: writing them after the
    // emitting code is done lets one system call carry them all.
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
  }

  private get sinkFull(): boolean {
    return this.sink.bufferedAmount >= HIGH_WATER_BYTES;
  }

  /** Writes waiting events (the dropped notice first) while the connection keeps up. */
  private pump(): void {
    if (this.mode !== 'live' || (this.waiting.length === 0 && this.dropped === 0)) return;
    this.sink.cork?.();
    try {
      this.writeWaiting();
    } finally {
      this.sink.uncork?.();
    }
  }

  private writeWaiting(): void {
    while (this.mode === 'live' && !this.sinkFull) {
      if (this.dropped > 0) {
        const notice: DroppedNotice = { dropped: this.dropped, resume_after: this.resumeAfter };
        this.dropped = 0;
        this.sink.writeNotice(notice, this.written);
        continue;
      }
      const event = this.waiting.shift();
      if (!event) return;
      this.deliver(event);
    }
  }

  private deliver(event: KoorEvent): void {
    this.lastDeliveredId = event.id;
    this.sink.writeEvent(event, this.written);
  }

  private onWritten(): void {
    if (this.sinkFull) return;
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
    if (this.waiting.length > 0 || this.dropped > 0) this.pump();
  }

  private roomInSink(): Promise<void> {
    if (!this.sinkFull) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }
}
