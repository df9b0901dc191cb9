import type { Actor, AppContext } from '../server/context.js';
import type { Executor } from '../db/engine.js';
import { appendAudit } from '../audit/append.js';
import type { EventHub, KoorEvent } from './hub.js';
import './tables.js';

export interface NewEvent {
  topic: string;
  data?: unknown;
  source?: string;
}

export interface PublishOptions {
  /**
   * Who asked to publish through the API. When given, the `event.publish` audit entry is
   * written in the same transaction as the event. Domains publishing their own events after
   * their own audited change leave it out.
   */
  actor?: Actor;
}

interface Waiting {
  topic: string;
  json: string;
  data: unknown;
  source: string;
  actor?: Actor;
  resolve(event: KoorEvent): void;
  reject(err: unknown): void;
}

/** Most events stored in one transaction. */
const MAX_BATCH = 256;

/**
 * The one place an app's events are stored and emitted, in order. Publishes that arrive while
 * a write is in progress wait and are then stored together in one transaction (one commit
 * instead of many), so the bus keeps up under many concurrent publishers. Emitting from a
 * single loop is also what gives listeners events in strictly increasing id order, each only
 * once committed — which replaying subscribers rely on to switch to live without a gap.
 */
class EventWriter {
  private readonly waiting: Waiting[] = [];
  private writing = false;
  private scheduled = false;

  constructor(private readonly ctx: AppContext) {}

  add(entry: Waiting): void {
    this.waiting.push(entry);
    if (this.writing || this.scheduled) return;
    // Start after the current I/O phase, so that every request that arrived with this one
    // joins its transaction (SQLite writes never yield to I/O, so nothing else would).
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        let events: KoorEvent[];
        try {
          events = await this.store(batch);
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          // One bad event must not fail its neighbours: store them one by one instead.
          this.waiting.unshift(...batch.slice(1));
          batch.splice(1);
          try {
            events = await this.store(batch);
          } catch (single) {
            batch[0]!.reject(single);
            continue;
          }
        }
        for (const [i, event] of events.entries()) {
          this.ctx.stats.eventsPublished++;
          this.ctx.hub.emit(event);
          batch[i]!.resolve(event);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async store(batch: Waiting[]): Promise<KoorEvent[]> {
    if (batch.length === 1 && !batch[0]!.actor) return [await this.insert(this.ctx.db.query, batch[0]!)];
    return this.ctx.db.transaction(async (trx) => {
      const events: KoorEvent[] = [];
      for (const entry of batch) events.push(await this.insert(trx, entry));
      return events;
    });
  }

  private async insert(executor: Executor, entry: Waiting): Promise<KoorEvent> {
    // Taken here, in storing order, so that timestamps never go backwards as ids go up.
    const createdAt = new Date().toISOString();
    const row = await executor
      .insertInto('events')
      .values({ topic: entry.topic, data: entry.json, source: entry.source, created_at: createdAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(row.id);
    if (entry.actor) {
      await appendAudit(executor, { actor: entry.actor.id, action: 'event.publish', resource: entry.topic, detail: `event ${id}`, outcome: 'success' });
    }
    return { id, topic: entry.topic, data: entry.data, source: entry.source, created_at: createdAt };
  }
}

const writers = new WeakMap<EventHub, EventWriter>();

/**
 * Stores an event and hands it to live listeners. Domains call this after their own
 * transaction has committed, so no event ever describes a write that was rolled back.
 * The topic is not checked here; the publish route checks topics from users.
 */
export async function publishEvent(ctx: AppContext, input: NewEvent, options: PublishOptions = {}): Promise<KoorEvent> {
  const data = input.data ?? null;
  const json = JSON.stringify(data);
  let writer = writers.get(ctx.hub);
  if (!writer) writers.set(ctx.hub, (writer = new EventWriter(ctx)));
  return new Promise((resolve, reject) => {
    writer.add({ topic: input.topic, json, data, source: input.source ?? '', actor: options.actor, resolve, reject });
  });
}
