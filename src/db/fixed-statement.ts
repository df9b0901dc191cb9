import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type Compilable,
  type CompiledQuery,
  type InsertQueryBuilder,
  type InsertResult,
  type RawBuilder,
} from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { EngineName, Executor } from './engine.js';
import type { Database } from './schema.js';
import { engineOf, sqliteConnectionOf } from './executors.js';

/**
 * The placeholders a fixed statement's query is built with: `p('key')` stands for the value
 * passed as `key` to each run. Typed by the statement's parameters, so a misspelt name or a
 * value of the wrong type does not compile.
 */
export type Placeholders<P> = <K extends keyof P & string>(name: K) => RawBuilder<P[K]>;

/**
 * Builds a fixed statement's query, once per engine, on a query builder that only compiles: a
 * query builder, or `sql` for what the builder does not say (savepoints).
 */
export type BuildStatement<P, Row> = (db: Kysely<Database>, p: Placeholders<P>) => Compilable<Row> | RawBuilder<Row>;

/** The values of a statement without placeholders: none. */
type NoValues = Record<never, never>;

/** A run's values: optional when the statement has no placeholders. */
type ValuesOf<P> = [keyof P] extends [never] ? [values?: P] : [values: P];

/** Marks a parameter of the compiled query as the run's value `name`. */
class Slot {
  constructor(readonly name: string) {}
}

const placeholder = ((name: string) => sql`${new Slot(name)}`) as Placeholders<never>;

/**
 * A Kysely per engine that never connects: it turns a query into the engine's SQL text
 * (quoting, placeholders: `?` on SQLite, `$1…` on PostgreSQL) and nothing else.
 */
const compileOnly: Record<EngineName, () => Kysely<Database>> = {
  sqlite: once(() => new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  })),
  postgres: once(() => new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  })),
};

function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/** A statement compiled for one engine, and where each of its parameters comes from. */
interface Compiled {
  query: CompiledQuery;
  /** Per parameter: the name of the run's value it takes… */
  sources: Array<string | undefined>;
  /** …or, where that is undefined, the constant the query was built with. */
  constants: unknown[];
}

function compile(query: CompiledQuery): Compiled {
  const sources = query.parameters.map((value) => (value instanceof Slot ? value.name : undefined));
  const constants = query.parameters.map((value) => (value instanceof Slot ? undefined : value));
  return { query, sources, constants };
}

/** The run's values in the order of the compiled statement's parameters. */
function argumentsOf(compiled: Compiled, values: object | undefined): unknown[] {
  const { sources, constants } = compiled;
  const args = new Array<unknown>(sources.length);
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i];
    args[i] = source === undefined ? constants[i] : (values as Record<string, unknown>)[source];
  }
  return args;
}

/** A statement as written, or (for FixedInsert on PostgreSQL) with `returning id` added. */
type Form = 'plain' | 'returning id';

interface PreparedOnce {
  statement: SqliteDatabase.Statement;
  reader: boolean;
}

/**
 * A statement whose SQL text never changes, only its values, for the writes that run with
 * nearly every request (versioned values, audit entries, events). Building and compiling such
 * a statement through the query builder on every run, and passing it through the builder's
 * connection handling, costs several times what SQLite spends storing the row.
 *
 * The query is written with the query builder, its values as placeholders:
 *
 *     const insertNote = new FixedStatement((db, p: Placeholders<{ text: string }>) =>
 *       db.insertInto('notes').values({ text: p('text'), created_at: sql.lit('now') }));
 *     await insertNote.run(trx, { text: 'hello' });
 *
 * and compiled by Kysely once per engine, the first time it runs there. Inside a SQLite
 * transaction the statement then runs as a prepared statement straight on the connection: the
 * transaction holds the only connection, so nothing else can run in between. Everywhere else
 * (PostgreSQL, or SQLite outside a transaction) it goes through the query builder's executor
 * as precompiled SQL.
 */
export class FixedStatement<Row = never, P extends object = NoValues> {
  private readonly compiled: Record<Form, Partial<Record<EngineName, Compiled>>> = { plain: {}, 'returning id': {} };
  private readonly prepared = new WeakMap<SqliteDatabase.Database, PreparedOnce>();

  constructor(private readonly build: BuildStatement<P, Row>) {}

  /**
   * Runs the statement with its values, by name (none for a statement without placeholders).
   * Answers the rows a statement with `returning` (or a select) gives; none for the others.
   */
  async run(executor: Executor, ...[values]: ValuesOf<P>): Promise<Row[]> {
    const prepared = this.onConnection(executor);
    if (prepared) {
      const args = argumentsOf(this.compiledFor('sqlite'), values);
      if (prepared.reader) return prepared.statement.all(...args) as Row[];
      prepared.statement.run(...args);
      return [];
    }
    return (await this.throughBuilder<Row>(executor, 'plain', values)).rows;
  }

  /** The engine's SQL text for this statement (for tests and logs). */
  sqlFor(engine: EngineName): string {
    return this.compiledFor(engine).query.sql;
  }

  protected compiledFor(engine: EngineName, form: Form = 'plain'): Compiled {
    let compiled = this.compiled[form][engine];
    if (!compiled) {
      const db = compileOnly[engine]();
      const query = this.build(db, placeholder as Placeholders<P>);
      if (isRaw(query)) compiled = compile(query.compile(db));
      else compiled = compile(form === 'plain' ? query.compile() : returningId(query).compile());
      this.compiled[form][engine] = compiled;
    }
    return compiled;
  }

  /** The prepared statement to run straight on the connection, when inside a SQLite transaction. */
  protected onConnection(executor: Executor): PreparedOnce | undefined {
    const native = sqliteConnectionOf(executor);
    if (!native) return undefined;
    let prepared = this.prepared.get(native);
    if (!prepared) {
      const statement = native.prepare(this.compiledFor('sqlite').query.sql);
      // Asked once: `reader` is a call into the driver, and it never changes for a statement.
      this.prepared.set(native, (prepared = { statement, reader: statement.reader }));
    }
    return prepared;
  }

  protected throughBuilder<R>(executor: Executor, form: Form, values: P | undefined) {
    const engine = engineOf(executor);
    if (!engine) throw new Error('FixedStatement: executor not opened by openDatabase');
    const compiled = this.compiledFor(engine, form);
    return executor.executeQuery<R>({ ...compiled.query, parameters: argumentsOf(compiled, values) });
  }
}

const isRaw = (query: Compilable<unknown> | RawBuilder<unknown>): query is RawBuilder<unknown> =>
  (query as RawBuilder<unknown>).isRawBuilder === true;

function returningId(query: Compilable<unknown>): Compilable<unknown> {
  return (query as InsertQueryBuilder<Database, keyof Database, unknown>).returning('id' as never);
}

/**
 * An insert into a table with an integer `id` key that answers the new row's id. On SQLite
 * the id comes from the insert itself (no RETURNING, so no result row is built); PostgreSQL
 * is asked with `returning id`.
 */
export class FixedInsert<P extends object = NoValues> extends FixedStatement<never, P> {
  // Any table: the builder's own types check the columns and values.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(build: (db: Kysely<Database>, p: Placeholders<P>) => InsertQueryBuilder<Database, any, InsertResult>) {
    super(build as BuildStatement<P, never>);
  }

  async insert(executor: Executor, values: P): Promise<number> {
    const prepared = this.onConnection(executor);
    if (prepared) return Number(prepared.statement.run(...argumentsOf(this.compiledFor('sqlite'), values)).lastInsertRowid);
    if (engineOf(executor) === 'sqlite') return Number((await this.throughBuilder(executor, 'plain', values)).insertId);
    const result = await this.throughBuilder<{ id: number | string }>(executor, 'returning id', values);
    return Number(result.rows[0]!.id);
  }
}
