import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './engine.js';
import { MIGRATIONS } from './migrations/index.js';

/** A migration receives the engine so that one file can spell a type for both SQLite and PostgreSQL. */
export type VersionedMigration = (db: Db) => Migration;

class ListedMigrations implements MigrationProvider {
  constructor(private readonly db: Db) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, make] of Object.entries(MIGRATIONS)) out[name] = make(this.db);
    return out;
  }
}

export class MigrationError extends Error {}

/**
 * On PostgreSQL, the schema the server's tables live in: the first schema of `search_path`
 * that exists. Undefined on SQLite, which has one.
 */
async function currentSchema(db: Db): Promise<string | undefined> {
  if (db.engine !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db.query);
  return rows[0]?.schema ?? undefined;
}

/** Applies every pending migration in name order; any failure stops start-up with its reason. */
export async function migrateToLatest(db: Db): Promise<void> {
  // Named, because without a schema the migrator takes migration tables it sees in *any* schema
  // of the database for its own: next to another Kysely app (or another Koor in its own schema)
  // it skipped creating them and failed ("relation kysely_migration_lock does not exist").
  const migrationTableSchema = await currentSchema(db);
  const migrator = new Migrator({ db: db.query, provider: new ListedMigrations(db), migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`.replace('  ', ' '));
  }
}
