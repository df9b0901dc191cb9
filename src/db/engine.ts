import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, SqliteDialect, type SqliteDatabase as SqliteDialectDatabase, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';
import { startCheckpointer } from './checkpointer.js';
import { forgetTransaction, registerExecutor } from './executors.js';
import { WriteGate } from './write-gate.js';
import { postgresReplicas, singleProcess, type Replicas } from './replicas.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { StorageHealth } from './storage-health.js';
import { watchedDialect } from './watched-driver.js';
import { connectionLost, failedBeforeCommit } from './storage-trouble.js';
import { afterPause, RETRY_WINDOW_MS } from './retry.js';
import './tables.js';

export type EngineName = 'sqlite' | 'postgres';

export type Durability = 'full' | 'normal';

export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * The query builder as domains see it: reads only. Writes go through the committer (the one
 * door, src/commit/), which holds the whole `Db`; a domain cannot open a transaction or write
 * outside one, so it cannot write a change without its audit entry and events.
 */
export type ReadQuery = Pick<Kysely<Database>, 'selectFrom' | 'selectNoFrom' | 'fn' | 'dynamic' | 'getExecutor'>;

/** What the rest of the app may ask of the open database. */
export interface ReadDb {
  engine: EngineName;
  query: ReadQuery;
  /** What replicas sharing this database need from it (trivial on SQLite: one process per file). */
  replicas: Replicas;
  /**
   * Whether an acknowledged write survives a power loss: `full`, or `normal` when the last
   * commits before one may be lost (SQLite's `synchronous=NORMAL`; PostgreSQL's
   * `synchronous_commit=off`, read when the server starts).
   */
  durability: Durability;
  /** Whether the database takes writes now (`/health`), and what a failure of it means. */
  health: StorageHealth;
  /** SQLite's native handle, for checks such as `PRAGMA integrity_check`; undefined on PostgreSQL. */
  sqlite?: SqliteDatabase.Database;
}

/** One open database: the typed query builder plus what the rest of the app may ask of the engine. */
export interface Db extends ReadDb {
  query: Kysely<Database>;
  /**
   * Runs `work` in one transaction: it commits when `work` resolves, rolls back when it throws.
   * Only the committer (and migrations, backups and imports in this layer) call it. On
   * PostgreSQL a transaction that lost its connection before COMMIT runs again (within
   * RETRY_WINDOW_MS), so `work` must touch nothing but `trx`.
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `{dataDir}/data.db` (or `:memory:`). */
  database?: string;
  dataDir?: string;
  /** Told about trouble that does not stop the database (e.g. the checkpoint worker failing). */
  warn?: (message: string, err: Error) => void;
  /** SQLite's `synchronous` pragma (default `full`: commits survive a power loss). */
  sqliteSynchronous?: Durability;
  /** PostgreSQL: how soon replica connections are retried and leadership is asked again. */
  replicaRetryMs?: number;
}

// node-postgres returns BIGINT as a string to avoid precision loss; our ids and counters stay
// far below 2^53, and returning numbers keeps both engines' rows identical.
pg.types.setTypeParser(20, (value) => Number(value));

/** Most distinct SQL texts whose prepared statements are kept. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every statement anew on each execution; preparing costs about as much as
 * running a small insert. The app issues a few hundred distinct SQL texts at most (values are
 * always parameters), so keeping their prepared statements makes every repeat query cheaper.
 * Reuse is safe: better-sqlite3 runs a statement to completion synchronously.
 */
function withStatementCache(native: SqliteDatabase.Database): SqliteDialectDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => native.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = native.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function openSqlite(file: string, synchronous: Durability, warn: OpenOptions['warn'], lock?: DataDirLock): Db {
  const native = new SqliteDatabase(file);
  native.pragma('journal_mode = WAL');
  // In WAL mode FULL syncs the log at every commit, so a commit survives a power loss. NORMAL
  // syncs at checkpoints only: a killed process loses nothing, a power loss the last commits.
  native.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  native.pragma('busy_timeout = 5000');
  native.pragma('foreign_keys = ON');
  const gate = new WriteGate();
  const checkpointer =
    file === ':memory:' ? undefined : startCheckpointer(native, file, gate, (err) => warn?.('SQLite checkpoint worker failed; checkpointing on the main connection', err));
  const health = new StorageHealth(() => probeWrite(db));
  const dialect = new SqliteDialect({ database: withStatementCache(native) });
  const query = new Kysely<Database>({
    dialect: watchedDialect(dialect, { failed: (err) => health.noticed(err), inTransaction: () => native.inTransaction }),
  });
  registerExecutor(query, 'sqlite');
  const db: Db = {
    engine: 'sqlite',
    durability: synchronous,
    query,
    replicas: singleProcess,
    health,
    sqlite: native,
    transaction: async (work) => {
      await gate.enter();
      let opened: Transaction<Database> | undefined;
      try {
        const result = await query.transaction().execute((trx) => {
          opened = trx;
          registerExecutor(trx, 'sqlite', native);
          return work(trx);
        });
        // Committed: whatever kept the database from taking writes is over.
        health.recovered();
        return result;
      } catch (err) {
        health.noticed(err);
        throw err;
      } finally {
        if (opened) forgetTransaction(opened);
        gate.leave();
      }
    },
    close: async () => {
      health.close();
      await checkpointer?.stop();
      await query.destroy();
      lock?.release();
    },
  };
  return db;
}

/**
 * The smallest real write, for StorageHealth to find out whether a degraded database takes
 * writes again: one row of its own table, rewritten, in a transaction that must commit.
 */
async function probeWrite(db: Db): Promise<void> {
  const checkedAt = new Date().toISOString();
  await db.transaction((trx) =>
    trx
      .insertInto('storage_probe')
      .values({ id: 1, checked_at: checkedAt })
      .onConflict((conflict) => conflict.column('id').doUpdateSet({ checked_at: checkedAt }))
      .execute(),
  );
}

function openPostgres(url: string, warn: OpenOptions['warn'], replicaRetryMs: number): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server ends (a restart, an administrator, a dropped database) is
  // reported here and replaced on next use; without a listener it would crash the process.
  // Only the message and code are passed on: the error also carries the client, settings and all.
  pool.on('error', (err: Error & { code?: string }) => warn?.('PostgreSQL closed an idle connection', Object.assign(new Error(err.message), { code: err.code })));
  // The pool listens for errors only on idle connections. One that fails while checked out
  // (PostgreSQL restarting between two statements of a transaction) would emit its error with
  // nobody listening, and that ends the process; the statement that meets the broken
  // connection fails instead, and is retried or answered with a named 503.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const health = new StorageHealth(() => probeWrite(db));
  const query = new Kysely<Database>({
    dialect: watchedDialect(new PostgresDialect({ pool }), { failed: (err) => health.noticed(err), retryReads: true }),
  });
  registerExecutor(query, 'postgres');
  const db: Db = {
    engine: 'postgres',
    // Until openDatabase has asked the server.
    durability: 'full',
    query,
    replicas: postgresReplicas({ url, retryMs: replicaRetryMs, warn: (message, err) => warn?.(message, err) }),
    health,
    transaction: async (work) => {
      // A transaction that lost its connection before asking to commit surely did not commit:
      // it runs again on a new connection, within the retry window (`work` touches nothing but
      // `trx`, so running it again is safe).
      const deadline = Date.now() + RETRY_WINDOW_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await query.transaction().execute((trx) => {
            registerExecutor(trx, 'postgres');
            return work(trx);
          });
          health.recovered();
          return result;
        } catch (err) {
          health.noticed(err);
          if (!connectionLost(err) || !failedBeforeCommit(err) || Date.now() >= deadline) throw err;
          await afterPause(attempt, deadline);
        }
      }
    },
    close: async () => {
      health.close();
      await query.destroy();
    },
  };
  return db;
}

/**
 * With `synchronous_commit=off` PostgreSQL acknowledges a commit before its log is on disk
 * (a crash of the server or the machine can lose the last ones); every other value waits for
 * the local flush at least.
 */
async function postgresDurability(query: Kysely<Database>): Promise<Durability> {
  const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(query);
  return rows[0]?.synchronous_commit === 'off' ? 'normal' : 'full';
}

/** Opens the configured engine and brings its schema up to date; a failed migration throws. */
export async function openDatabase(options: OpenOptions): Promise<Db> {
  let db: Db;
  if (options.database && /^postgres(ql)?:\/\//.test(options.database)) {
    db = openPostgres(options.database, options.warn, options.replicaRetryMs ?? 5_000);
  } else {
    const dataDir = options.dataDir ?? '.';
    let file = ':memory:';
    let lock: DataDirLock | undefined;
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      // Taken before the file is opened: a second server must not even run migrations on it.
      lock = lockDataDir(dataDir);
      file = join(dataDir, 'data.db');
    }
    try {
      db = openSqlite(file, options.sqliteSynchronous ?? 'full', options.warn, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }
  try {
    await migrateToLatest(db);
    if (db.engine === 'postgres') db.durability = await postgresDurability(db.query);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
