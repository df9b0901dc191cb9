import type { VersionedMigration } from '../migrate.js';

const migration: VersionedMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('workspace', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('intent', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('stack', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('capabilities', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addColumn('base_url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .execute();
    await db.schema.createIndex('instances_name').on('instances').column('name').execute();
    // The liveness check scans by status and last_seen.
    await db.schema.createIndex('instances_status_last_seen').on('instances').columns(['status', 'last_seen']).execute();
  },
});
export default migration;
