import type { VersionedMigration } from '../migrate.js';
import { addIdColumn } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await addIdColumn(db.schema.createTable('audit_log'), engine)
      .addColumn('timestamp', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('outcome', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_timestamp').on('audit_log').column('timestamp').execute();
    await db.schema.createIndex('audit_log_actor').on('audit_log').column('actor').execute();
  },
});
export default migration;
