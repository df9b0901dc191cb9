import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type EngineName = 'sqlite' | 'postgres';

export type Executor = Kysely<Database> | Transaction<Database>;

/** One open database: the typed query builder plus what the rest of the app may ask of the engine. */
export interface Db {
  engine: EngineName;
  query: Kysely<Database>;
  /** Runs `work` in one transaction: it commits when `work` resolves, rolls back when it throws. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** SQLite's native handle, for checks such as `PRAGMA integrity_check`; undefined on PostgreSQL. */
  sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `{dataDir}/data.db` (or `:memory:`). */
  database?: string;
  dataDir?: string;
  /** PostgreSQL only: the schema to create and use (tests isolate themselves this way). */
  pgSchema?: string;
}

// node-postgres returns BIGINT as a string to avoid precision loss; our ids and counters stay
// far below 2^53, and returning numbers keeps both engines' rows identical.
pg.types.setTypeParser(20, (value) => Number(value));

function openSqlite(file: string): Db {
  const native = new SqliteDatabase(file);
  native.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a killed process; only a power loss can undo the last commits.
  native.pragma('synchronous = NORMAL');
  native.pragma('busy_timeout = 5000');
  native.pragma('foreign_keys = ON');
  const query = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) });
  return {
    engine: 'sqlite',
    query,
    sqlite: native,
    transaction: (work) => query.transaction().execute(work),
    close: async () => {
      await query.destroy();
    },
  };
}

function openPostgres(url: string, schema?: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
    pool.on('connect', (client) => {
      client.query(`SET search_path TO ${schema}`).catch(() => undefined);
    });
  }
  const query = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    query,
    transaction: (work) => query.transaction().execute(work),
    close: async () => {
      await query.destroy();
    },
  };
}

/** Opens the configured engine and brings its schema up to date; a failed migration throws. */
export async function openDatabase(options: OpenOptions): Promise<Db> {
  let db: Db;
  if (options.database && /^postgres(ql)?:\/\//.test(options.database)) {
    if (options.pgSchema) await createPgSchema(options.database, options.pgSchema);
    db = openPostgres(options.database, options.pgSchema);
  } else {
    const dataDir = options.dataDir ?? '.';
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      file = join(dataDir, 'data.db');
    }
    db = openSqlite(file);
  }
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

async function createPgSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await client.end();
  }
}

export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
