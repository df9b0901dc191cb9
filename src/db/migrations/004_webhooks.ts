import type { VersionedMigration } from '../migrate.js';
import { addIdColumn, bigintType } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('patterns', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('fail_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_fired', 'text')
      .execute();
    await addIdColumn(db.schema.createTable('webhook_deliveries'), engine)
      .addColumn('webhook_id', 'text', (c) => c.notNull())
      .addColumn('event_id', bigintType(engine), (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    // The worker sends each webhook's oldest pending delivery first.
    await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
  },
});
export default migration;
