import type { VersionedMigration } from '../migrate.js';
import { addIdColumn } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await addIdColumn(db.schema.createTable('events'), engine)
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_created_at').on('events').column('created_at').execute();
    // History and replays filtered to one exact topic.
    await db.schema.createIndex('events_topic').on('events').column('topic').execute();
  },
});
export default migration;
