import { CompiledQuery } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { EngineName, Executor } from './engine.js';

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

/**
 * A statement whose SQL text never changes, only its values, for the inserts that run with
 * nearly every write (audit entries, events). Building and compiling such a statement through
 * the query builder, and passing it through the builder's connection handling, costs several
 * times what SQLite spends storing the row.
 *
 * Inside a SQLite transaction the statement runs as a prepared statement straight on the
 * connection: the transaction holds the only connection, so nothing else can run in between.
 * Everywhere else (PostgreSQL, or SQLite outside a transaction) it goes through the query
 * builder's executor as precompiled SQL. The text is written once, with `?` placeholders,
 * in SQL that both engines accept.
 */
export class FixedStatement<Row = never> {
  private readonly postgresText: string;
  private readonly prepared = new WeakMap<SqliteDatabase.Database, SqliteDatabase.Statement>();

  constructor(private readonly text: string) {
    let n = 0;
    this.postgresText = text.replace(/\?/g, () => `$${++n}`);
  }

  async run(executor: Executor, values: readonly unknown[]): Promise<Row[]> {
    const native = sqliteTransactions.get(executor);
    if (native?.inTransaction) {
      let statement = this.prepared.get(native);
      if (!statement) this.prepared.set(native, (statement = native.prepare(this.text)));
      if (statement.reader) return statement.all(...values) as Row[];
      statement.run(...values);
      return [];
    }
    const engine = engines.get(executor);
    if (!engine) throw new Error('FixedStatement: executor not opened by openDatabase');
    const result = await executor.executeQuery(CompiledQuery.raw(engine === 'postgres' ? this.postgresText : this.text, [...values]));
    return result.rows as Row[];
  }
}
