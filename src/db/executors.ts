import type SqliteDatabase from 'better-sqlite3';
import type { EngineName, Executor } from './engine.js';

// What the engine knows of each executor it hands out (its query builder, each transaction),
// for the code of this layer that runs below the query builder (FixedStatement).
const engines = new WeakMap<Executor, EngineName>();
const sqliteTransactions = new WeakMap<Executor, SqliteDatabase.Database>();

/** Called by the engine for its query builder and for each transaction it opens. */
export function registerExecutor(executor: Executor, engine: EngineName, sqliteInTransaction?: SqliteDatabase.Database): void {
  engines.set(executor, engine);
  if (sqliteInTransaction) sqliteTransactions.set(executor, sqliteInTransaction);
}

/**
 * Called by the engine when a transaction has ended: a stray use of its executor afterwards
 * must not run straight on the connection, which may by then be inside another transaction.
 */
export function forgetTransaction(executor: Executor): void {
  sqliteTransactions.delete(executor);
}

export function engineOf(executor: Executor): EngineName | undefined {
  return engines.get(executor);
}

/** SQLite's connection, while `executor` is a transaction that holds it. */
export function sqliteConnectionOf(executor: Executor): SqliteDatabase.Database | undefined {
  const native = sqliteTransactions.get(executor);
  return native?.inTransaction ? native : undefined;
}

/**
 * True when the engine itself has ended the transaction `trx` is running: SQLite rolls the
 * whole transaction back on some errors (a full disk, an I/O error), and after that there is
 * no savepoint to go back to and nothing to roll back.
 */
export function transactionEnded(trx: Executor): boolean {
  const native = sqliteTransactions.get(trx);
  return native !== undefined && !native.inTransaction;
}
