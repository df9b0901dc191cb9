import type { EventHub, KoorEvent } from './hub.js';

/** Reads committed events with `after < id < before` (no upper bound when before is undefined), oldest first. */
export type ReadCommitted = (after: number, before: number | undefined, limit: number) => Promise<KoorEvent[]>;

const PAGE = 500;

/**
 * Hands committed events to the hub once each, in strictly increasing id order, whichever
 * replica stored them.
 *
 * This process's own events arrive right after their commit (`local`). Events other replicas
 * stored are announced by a notice (`remote`) and read back from the database. Commits that
 * store events are ordered across replicas (a lock held until commit, see publish.ts), so
 * when an id is committed every smaller one is too: before emitting its own events a replica
 * reads whatever others committed in between, and nothing is skipped or emitted twice.
 *
 * With one process (SQLite, or a single PostgreSQL replica) its own events follow each other
 * without a gap and go straight to the hub, with no read and no wait. (PostgreSQL may skip an
 * id when a transaction rolls back; that costs one read that finds nothing.)
 */
export class InOrderEmitter {
  /** The highest id handed to the hub; undefined until the first event or `startAfter`. */
  private lastEmitted: number | undefined;
  private tail: Promise<void> = Promise.resolve();
  private remoteQueued = false;

  constructor(
    private readonly hub: EventHub,
    private readonly readCommitted: ReadCommitted,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Where a replica starts following: events up to `id` are history, not news. */
  startAfter(id: number): void {
    if (this.lastEmitted === undefined) this.lastEmitted = id;
  }

  /** Events this process has just committed, in id order. */
  local(events: KoorEvent[]): void {
    const first = events[0];
    if (!first) return;
    this.lastEmitted ??= first.id - 1;
    // Right after the last one emitted: nothing can come in between, whatever reads are under
    // way (a read that returns later ids returns these too, and emitting skips repeats).
    if (first.id === this.lastEmitted + 1) {
      this.emitNew(events);
      return;
    }
    this.enqueue(async () => {
      try {
        await this.catchUp(first.id);
      } finally {
        // Committed, so emitted even if the events before them could not be read (live
        // subscribers of this replica then miss those; history still has them).
        this.emitNew(events);
      }
    });
  }

  /** Another replica committed events: read and emit everything newer than what was emitted. */
  remote(): void {
    if (this.remoteQueued) return;
    this.remoteQueued = true;
    this.enqueue(async () => {
      this.remoteQueued = false;
      await this.catchUp(undefined);
    });
  }

  private emitNew(events: KoorEvent[]): void {
    for (const event of events) {
      if (this.lastEmitted !== undefined && event.id <= this.lastEmitted) continue;
      this.lastEmitted = event.id;
      this.hub.emit(event);
    }
  }

  private async catchUp(before: number | undefined): Promise<void> {
    if (this.lastEmitted === undefined) return;
    for (;;) {
      const page = await this.readCommitted(this.lastEmitted, before, PAGE);
      this.emitNew(page);
      if (page.length < PAGE) return;
    }
  }

  /** Steps run one at a time, in the order they were asked for. */
  private enqueue(step: () => Promise<void>): void {
    this.tail = this.tail.then(step).catch((err: unknown) => this.onError(err));
  }
}
