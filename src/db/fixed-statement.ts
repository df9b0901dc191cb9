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
  private readonly prepared = new WeakMap<SqliteDatabase.Database, PreparedOnce>();

  constructor(private readonly text: string) {
    this.postgresText = numberedPlaceholders(text);
  }

  async run(executor: Executor, values: readonly unknown[]): Promise<Row[]> {
    const prepared = this.onConnection(executor);
    if (prepared) {
      if (prepared.reader) return prepared.statement.all(...values) as Row[];
      prepared.statement.run(...values);
      return [];
    }
    return (await this.throughBuilder(executor, this.text, this.postgresText, values)).rows as Row[];
  }

  /** The prepared statement to run straight on the connection, when inside a SQLite transaction. */
  protected onConnection(executor: Executor): PreparedOnce | undefined {
    const native = sqliteTransactions.get(executor);
    if (!native?.inTransaction) return undefined;
    let prepared = this.prepared.get(native);
    if (!prepared) {
      const statement = native.prepare(this.text);
      // Asked once: `reader` is a call into the driver, and it never changes for a statement.
      this.prepared.set(native, (prepared = { statement, reader: statement.reader }));
    }
    return prepared;
  }

  protected async throughBuilder(executor: Executor, sqliteText: string, postgresText: string, values: readonly unknown[]) {
    const engine = engines.get(executor);
    if (!engine) throw new Error('FixedStatement: executor not opened by openDatabase');
    return executor.executeQuery(CompiledQuery.raw(engine === 'postgres' ? postgresText : sqliteText, [...values]));
  }
}

/** PostgreSQL's spelling of the same SQL: `?` placeholders become `$1`, `$2`, … */
function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

interface PreparedOnce {
  statement: SqliteDatabase.Statement;
  reader: boolean;
}

/**
 * An insert into a table with an integer `id` key that answers the new row's id. On SQLite
 * the id comes from the insert itself (no RETURNING, so no result row is built); PostgreSQL
 * is asked with `returning id`.
 */
export class FixedInsert extends FixedStatement {
  private readonly returningText: string;
  private readonly postgresReturningText: string;

  constructor(text: string) {
    super(text);
    this.returningText = `${text} returning id`;
    this.postgresReturningText = numberedPlaceholders(this.returningText);
  }

  async insert(executor: Executor, values: readonly unknown[]): Promise<number> {
    const prepared = this.onConnection(executor);
    if (prepared) return Number(prepared.statement.run(...values).lastInsertRowid);
    const result = await this.throughBuilder(executor, this.returningText, this.postgresReturningText, values);
    return Number((result.rows[0] as { id: number | string }).id);
  }
}
