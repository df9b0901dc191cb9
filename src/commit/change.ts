import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/** The transaction a change writes through. Only the committer opens one. */
export type WriteTx = Transaction<Database>;

/** One audit log entry a change writes; the committer stamps its time. */
export interface AuditNote {
  /** The instance id, `admin` or `anonymous`. */
  actor: string;
  /** `area.verb`, e.g. `state.put`: each domain names its actions once, as exported constants. */
  action: string;
  resource: string;
  detail?: string;
  /** `success` unless said otherwise (failed calls are recorded as `error`). */
  outcome?: 'success' | 'error';
}

/**
 * An event a change causes; the committer gives it its id and time when it stores it. It is
 * what POST /api/events/publish takes, so its type is that route's body schema's.
 */
import type { NewEvent } from '../events/schemas.js';
export type { NewEvent };

/**
 * What a change hands the committer: its result, the audit entries and the events it causes.
 * All of it commits in the change's transaction, or none of it does.
 */
export interface Change<T> {
  value: T;
  /** None only for the server's own housekeeping (pruning, counters, deliveries). */
  audit?: AuditNote | readonly AuditNote[];
  events?: readonly NewEvent[];
  /** Channels other replicas are told about once this commits (PostgreSQL NOTIFY). */
  notify?: readonly string[];
  /**
   * Effects on this process once the change has committed (a cache update), run before the
   * caller resumes. Never run for a change that rolled back.
   */
  afterCommit?: () => void;
}

/**
 * A change, as a function of the transaction it writes through. It may run more than once
 * (a batch that fails is retried change by change), so it must only touch the database, and
 * only through `trx`. It refuses by throwing: its own writes are then undone.
 */
export type Describe<T> = (trx: WriteTx) => Promise<Change<T>>;

export function auditNotes(audit: Change<unknown>['audit']): readonly AuditNote[] {
  if (audit === undefined) return [];
  return Array.isArray(audit) ? (audit as readonly AuditNote[]) : [audit as AuditNote];
}

/**
 * Merges the parts of a composite change (each a domain's `…In(trx)` result) into one change
 * with `value`: their audit entries, events and notifications in order, plus the composite's
 * own; their after-commit effects all run.
 */
export function combineChanges<T>(value: T, parts: readonly Change<unknown>[], own: Omit<Change<T>, 'value'> = {}): Change<T> {
  const all = [...parts, own];
  const effects = all.map((part) => part.afterCommit).filter((effect): effect is () => void => effect !== undefined);
  return {
    value,
    audit: all.flatMap((part) => auditNotes(part.audit)),
    events: all.flatMap((part) => part.events ?? []),
    notify: [...new Set(all.flatMap((part) => part.notify ?? []))],
    afterCommit: effects.length === 0 ? undefined : () => effects.forEach((effect) => effect()),
  };
}
