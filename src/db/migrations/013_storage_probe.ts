import type { VersionedMigration } from '../migrate.js';

/** The row StorageHealth rewrites to find out whether a degraded database takes writes again. */
const migration: VersionedMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('storage_probe')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('checked_at', 'text', (c) => c.notNull())
      .execute();
  },
});
export default migration;
