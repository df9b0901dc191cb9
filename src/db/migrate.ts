import { Migrator, type Migration, type MigrationProvider } from 'kysely';
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

/** Applies every pending migration in name order; any failure stops start-up with its reason. */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db: db.query, provider: new ListedMigrations(db) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`.replace('  ', ' '));
  }
}
