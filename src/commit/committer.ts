import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { Db } from '../db/engine.js';
import { sql } from 'kysely';
import { FixedStatement } from '../db/fixed-statement.js';
import { transactionEnded } from '../db/executors.js';
import type { LeaderTerm } from '../db/replicas.js';
import { appendAuditIn } from '../audit/append.js';
import { storeEventIn } from '../events/store.js';
import type { KoorEvent } from '../events/hub.js';
import { auditNotes, type Change, type Describe, type WriteTx } from './change.js';

export interface CommitOptions {
  /**
   * False for changes that never store events (housekeeping, counters, failure audits): on
   * PostgreSQL a batch of only such changes does not wait for the events lock other replicas
   * share. A change promising this that returns events is a programming error.
   */
  emits?: boolean;
}

/** Where the committer learns which leadership a change is made under (the app's JobSet). */
export interface Leadership {
  /** The leadership the caller runs under (a leader's job), or undefined. */
  leaderTerm(): LeaderTerm | undefined;
  /** A change made under `term` was refused: another replica leads now. */
  leadershipLost(term: LeaderTerm): void;
}

/** A change of a leader's job, refused because another replica has taken over since. */
export class LeadershipLost extends Error {}

/** A change's value and the events stored for it, ids and times given. */
export interface Committed<T> {
  value: T;
  events: KoorEvent[];
}

/** Work that must commit together with each stored event (webhook deliveries). */
export type StoredEventHook = (trx: WriteTx, event: KoorEvent) => Promise<void>;

/** Notified on commit of every batch that stored events, so other replicas read them. */
export const EVENTS_COMMITTED = 'koor_events';

interface Pending {
  describe: Describe<unknown>;
  emits: boolean;
  /** Set for a leader's job: checked inside the transaction (fencing). */
  term: LeaderTerm | undefined;
  resolve(committed: Committed<unknown>): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; change: Change<unknown>; events: KoorEvent[] } | { ok: false; err: unknown };

/** Most changes in one transaction. */
const MAX_BATCH = 256;

// The query builder has no savepoints outside its own controlled transactions.
const savepoint = new FixedStatement(() => sql`savepoint koor_change`);
const releaseSavepoint = new FixedStatement(() => sql`release savepoint koor_change`);
const rollbackToSavepoint = new FixedStatement(() => sql`rollback to savepoint koor_change`);

/**
 * The one door every change to the database goes through. A domain describes a change as a
 * function of the transaction (its rows, its audit entries, the events it causes); the
 * committer runs it, appends the audit entries and events (and, through the stored-event
 * hooks, webhook deliveries) in the same transaction, and emits the events to live listeners
 * after the commit, in id order. It is the only code that opens a write transaction.
 *
 * Changes that arrive while a transaction is under way wait and then run together in the
 * next one (group commit: one commit instead of many), each inside a savepoint, so one change
 * that refuses (throws) undoes only its own writes. Within a batch each change sees the ones
 * before it, so versions and preconditions are checked in arrival order.
 *
 * Emitting from this single loop right after each commit, through the in-order emitter, is
 * what gives listeners events in strictly increasing id order, each only once committed —
 * which replaying subscribers rely on to switch from history to live without a gap.
 */
export class Committer {
  readonly storeHooks = new Set<StoredEventHook>();
  /** Events stored by this process since start (for the metrics). */
  eventsStored = 0;
  private readonly waiting: Pending[] = [];
  private writing = false;
  private scheduled = false;
  /** Set while changes run: a change that calls the committer again would wait for itself. */
  private readonly insideChange = new AsyncLocalStorage<true>();

  constructor(
    private readonly db: Db,
    /** Hands committed events to live listeners (the in-order emitter). */
    private readonly emit: (events: KoorEvent[]) => void,
    private readonly onAfterCommitError: (err: unknown) => void,
    private readonly leadership?: Leadership,
  ) {}

  /**
   * Commits a change and resolves with its value once committed (before its events reach
   * live listeners); rejects with what the change threw, having written nothing of it.
   */
  commit = async <T>(describe: Describe<T>, options: CommitOptions = {}): Promise<T> => (await this.store(describe, options)).value;

  /** Like `commit`, also resolving with the events stored for the change. */
  store<T>(describe: Describe<T>, options: CommitOptions = {}): Promise<Committed<T>> {
    if (this.insideChange.getStore()) {
      return Promise.reject(new Error('a change called the committer: compose its parts with combineChanges instead'));
    }
    return new Promise((resolve, reject) => {
      const term = this.leadership?.leaderTerm();
      this.waiting.push({ describe, emits: options.emits !== false, term, resolve: resolve as Pending['resolve'], reject });
      this.schedule();
    });
  }

  /** Runs `hook` for every event inside the transaction that stores it; returns its removal. */
  onEventStored(hook: StoredEventHook): () => void {
    this.storeHooks.add(hook);
    return () => this.storeHooks.delete(hook);
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    // Start after the current I/O phase, so that every request that arrived with this one
    // joins its transaction (SQLite writes never yield to I/O, so nothing else would).
    this.scheduled = true;
    setImmediate(this.startDrain);
  }

  /**
   * Bound to the context the committer was built in, so that the writing loop never runs in
   * the async context of whichever caller happened to wake it (a leader's job, with its term):
   * what the loop sets off (after-commit effects, listeners of the events) must not inherit it.
   */
  private readonly startDrain = AsyncResource.bind(() => {
    this.scheduled = false;
    void this.drain();
  });

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        let outcomes: Outcome[];
        try {
          outcomes = await this.run(batch);
        } catch (err) {
          // The transaction itself failed (its commit, or a savepoint the engine dropped with
          // the whole transaction, as SQLite does on a full disk): run the changes one per
          // transaction, so that one bad change does not fail its neighbours.
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          this.waiting.unshift(...batch.slice(1));
          batch.splice(1);
          outcomes = await this.runAlone(batch[0]!);
        }
        this.settle(batch, outcomes);
      }
    } finally {
      this.writing = false;
    }
  }

  private async runAlone(pending: Pending): Promise<Outcome[]> {
    try {
      return await this.run([pending]);
    } catch (err) {
      return [{ ok: false, err }];
    }
  }

  private settle(batch: Pending[], outcomes: Outcome[]): void {
    for (const [i, outcome] of outcomes.entries()) {
      const pending = batch[i]!;
      if (!outcome.ok) {
        pending.reject(outcome.err);
        continue;
      }
      try {
        outcome.change.afterCommit?.();
      } catch (err) {
        this.onAfterCommitError(err);
      }
      pending.resolve({ value: outcome.change.value, events: outcome.events });
      this.eventsStored += outcome.events.length;
      this.emit(outcome.events);
    }
  }

  private run(batch: Pending[]): Promise<Outcome[]> {
    return this.insideChange.run(true, () =>
      this.db.transaction(async (trx) => {
        const { replicas } = this.db;
        // Replicas sharing a PostgreSQL database store events one transaction at a time, so
        // that ids commit in increasing order and each replica can emit every event in order.
        if (batch.some((pending) => pending.emits)) await replicas.lockUntilCommit(trx, 'events');
        const alone = batch.length === 1;
        const outcomes: Outcome[] = [];
        for (const pending of batch) {
          if (alone) {
            // A lone change that throws fails the transaction: nothing to keep.
            outcomes.push(await this.apply(trx, pending));
            continue;
          }
          await savepoint.run(trx);
          try {
            outcomes.push(await this.apply(trx, pending));
            await releaseSavepoint.run(trx);
          } catch (err) {
            // SQLite ended the whole transaction (a full disk, an I/O error): no savepoint is
            // left to go back to, and the batch fails with the error that ended it.
            if (transactionEnded(trx)) throw err;
            await rollbackToSavepoint.run(trx);
            await releaseSavepoint.run(trx);
            outcomes.push({ ok: false, err });
          }
        }
        const channels = new Set<string>();
        for (const outcome of outcomes) {
          if (!outcome.ok) continue;
          for (const channel of outcome.change.notify ?? []) channels.add(channel);
          if (outcome.events.length > 0) channels.add(EVENTS_COMMITTED);
        }
        for (const channel of channels) await replicas.notifyOnCommit(trx, channel);
        return outcomes;
      }),
    );
  }

  /** Runs one change and stores its events and audit entries, in the open transaction. */
  private async apply(trx: WriteTx, pending: Pending): Promise<Outcome & { ok: true }> {
    if (pending.term && !(await this.db.replicas.stillLeads(trx, pending.term))) {
      // Outside this change's context: stepping down and leading again is no part of it.
      const lost = pending.term;
      this.insideChange.exit(() => this.leadership?.leadershipLost(lost));
      throw new LeadershipLost(`the background job's change is refused: another replica leads the jobs since term ${pending.term.term}`);
    }
    const change = await pending.describe(trx);
    const events: KoorEvent[] = [];
    if (change.events && change.events.length > 0) {
      if (!pending.emits) throw new Error('a change committed with { emits: false } returned events');
      for (const event of change.events) {
        const stored = await storeEventIn(trx, event);
        for (const hook of this.storeHooks) await hook(trx, stored);
        events.push(stored);
      }
    }
    for (const note of auditNotes(change.audit)) await appendAuditIn(trx, note);
    return { ok: true, change, events };
  }
}
