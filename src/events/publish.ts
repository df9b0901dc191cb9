import type { Actor, AppContext } from '../kernel/context.js';
import type { Transaction } from 'kysely';
import { FixedInsert } from '../db/fixed-statement.js';
import type { Executor } from '../db/engine.js';
import type { Database } from '../db/schema.js';
import { appendAudit } from '../audit/append.js';
import type { EventHub, KoorEvent } from './hub.js';
import { EVENTS_COMMITTED, inOrderEmitter } from './fanout.js';
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

/** An event ready to be stored: its data already turned into JSON text. */
interface PendingEvent {
  topic: string;
  json: string;
  data: unknown;
  source: string;
  actor?: Actor;
}

/** One unit of work for the writer's next transaction. */
interface Job {
  /** Runs inside the batch's transaction; returns the events to store in that same transaction. */
  work(trx: Transaction<Database>): Promise<PendingEvent[]>;
  /** Called once the transaction has committed, with the stored events, before they are emitted. */
  done(events: KoorEvent[]): void;
  fail(err: unknown): void;
}

const insertEvent = new FixedInsert('insert into events (topic, data, source, created_at) values (?, ?, ?, ?)');

/** Most jobs run in one transaction. */
const MAX_BATCH = 256;

/**
 * The one place an app's events are stored and emitted, in order. Jobs that arrive while a
 * transaction is in progress wait and then run together in one transaction (one commit
 * instead of many), so the bus keeps up under many concurrent publishers. A job is either a
 * plain publish or a change that announces itself (a state write and its `state.changed`), so
 * a change and its event commit together or not at all.
 *
 * Emitting from this single loop, right after each commit (through the in-order emitter, which
 * also merges in what other replicas commit), is also what gives listeners events in strictly
 * increasing id order, each only once committed — which replaying subscribers rely on to switch
 * to live without a gap.
 *
 * A job's work may run twice: when a batch fails, its jobs are retried one per transaction so
 * that one bad job does not fail its neighbours. Work must therefore only touch the database;
 * anything else belongs in `done`.
 */
class EventWriter {
  /** Run for each event inside the transaction that stores it (see onEventStored). */
  readonly storeHooks = new Set<StoredEventHook>();
  private readonly waiting: Job[] = [];
  private writing = false;
  private scheduled = false;

  constructor(private readonly ctx: AppContext) {}

  add(job: Job): void {
    this.waiting.push(job);
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
        let stored: KoorEvent[][];
        try {
          stored = await this.run(batch);
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.fail(err);
            continue;
          }
          // One bad job must not fail its neighbours: run them one by one instead.
          this.waiting.unshift(...batch.slice(1));
          batch.splice(1);
          try {
            stored = await this.run(batch);
          } catch (single) {
            batch[0]!.fail(single);
            continue;
          }
        }
        const emitter = inOrderEmitter(this.ctx);
        for (const [i, events] of stored.entries()) {
          batch[i]!.done(events);
          this.ctx.stats.eventsPublished += events.length;
          emitter.local(events);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private run(batch: Job[]): Promise<KoorEvent[][]> {
    const { replicas } = this.ctx.db;
    return this.ctx.db.transaction(async (trx) => {
      // Replicas sharing a PostgreSQL database commit their events one after another, so that
      // ids are committed in increasing order and each replica can emit every event in order.
      await replicas.lockUntilCommit(trx, 'events');
      const stored: KoorEvent[][] = [];
      for (const job of batch) {
        const events: KoorEvent[] = [];
        for (const pending of await job.work(trx)) {
          const event = await this.insert(trx, pending);
          for (const hook of this.storeHooks) await hook(trx, event);
          events.push(event);
        }
        stored.push(events);
      }
      if (stored.some((events) => events.length > 0)) await replicas.notifyOnCommit(trx, EVENTS_COMMITTED);
      return stored;
    });
  }

  private async insert(executor: Executor, entry: PendingEvent): Promise<KoorEvent> {
    // Taken here, in storing order, so that timestamps never go backwards as ids go up.
    const createdAt = new Date().toISOString();
    const id = await insertEvent.insert(executor, [entry.topic, entry.json, entry.source, createdAt]);
    if (entry.actor) {
      await appendAudit(executor, { actor: entry.actor.id, action: 'event.publish', resource: entry.topic, detail: `event ${id}`, outcome: 'success' });
    }
    return { id, topic: entry.topic, data: entry.data, source: entry.source, created_at: createdAt };
  }
}

const writers = new WeakMap<EventHub, EventWriter>();

function writerOf(ctx: AppContext): EventWriter {
  let writer = writers.get(ctx.hub);
  if (!writer) writers.set(ctx.hub, (writer = new EventWriter(ctx)));
  return writer;
}

function pending(input: NewEvent, actor?: Actor): PendingEvent {
  const data = input.data ?? null;
  return { topic: input.topic, json: JSON.stringify(data), data, source: input.source ?? '', actor };
}

/**
 * Stores an event and hands it to live listeners. Domains call this after their own
 * transaction has committed, so no event ever describes a write that was rolled back (or use
 * `commitWithEvents` to store the change and its event together).
 * The topic is not checked here; the publish route checks topics from users.
 */
export function publishEvent(ctx: AppContext, input: NewEvent, options: PublishOptions = {}): Promise<KoorEvent> {
  const event = pending(input, options.actor);
  return new Promise((resolve, reject) => {
    writerOf(ctx).add({ work: async () => [event], done: (events) => resolve(events[0]!), fail: reject });
  });
}

/** Work that must commit together with each event (see onEventStored). */
export type StoredEventHook = (trx: Transaction<Database>, event: KoorEvent) => Promise<void>;

/**
 * Runs `hook` for every event inside the transaction that stores it, so that what it writes
 * commits with the event or not at all (the webhooks domain stores its pending deliveries
 * this way). The hook must only touch the database through `trx`. Returns its removal.
 */
export function onEventStored(ctx: AppContext, hook: StoredEventHook): () => void {
  const writer = writerOf(ctx);
  writer.storeHooks.add(hook);
  return () => writer.storeHooks.delete(hook);
}

/** What a change run by `commitWithEvents` hands back: its result and the events announcing it. */
export interface Announced<T> {
  value: T;
  events: NewEvent[];
}

/**
 * Runs a change in the event writer's next transaction and stores the events it announces in
 * that same transaction: the change and its events commit together, or neither does. Resolves
 * with the change's value once committed, before its events reach live listeners.
 *
 * `change` may run more than once (see EventWriter) and must only touch the database through
 * `trx`. To refuse without failing the transaction (a precondition that does not hold), return
 * the refusal as the value with no events, and throw it after this resolves.
 *
 * Never await it (nor `publishEvent`) inside another `db.transaction`: on SQLite the writer
 * needs the one connection that transaction holds, and both would wait forever.
 */
export function commitWithEvents<T>(ctx: AppContext, change: (trx: Transaction<Database>) => Promise<Announced<T>>): Promise<T> {
  return new Promise((resolve, reject) => {
    let value: T;
    writerOf(ctx).add({
      async work(trx) {
        const announced = await change(trx);
        value = announced.value;
        return announced.events.map((event) => pending(event));
      },
      done: () => resolve(value),
      fail: reject,
    });
  });
}
