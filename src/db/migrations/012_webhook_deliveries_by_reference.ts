import type { VersionedMigration } from '../migrate.js';

// A pending webhook delivery refers to its stored event instead of carrying a copy of it: one
// 5 MB event matching 200 webhooks was 1 GB written. Events with pending deliveries are kept
// by the pruning job until they are delivered.
const migration: VersionedMigration = () => ({
  async up(db) {
    await db.schema.alterTable('webhook_deliveries').dropColumn('body').execute();
    await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').column('event_id').execute();
  },
});
export default migration;
