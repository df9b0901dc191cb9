import type { VersionedMigration } from '../migrate.js';
import { bigintType } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    // Durable consumers (SPEC §18): a named cursor per calling instance (or admin).
    await db.schema
      .createTable('event_consumers')
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('acked_id', bigintType(engine), (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_consumers_pk', ['owner', 'name'])
      .execute();
  },
});
export default migration;
