import type { VersionedMigration } from '../migrate.js';
import { addIdColumn, bigintType } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await addIdColumn(db.schema.createTable('llm_usage'), engine)
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('project', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('tokens_in', bigintType(engine), (c) => c.notNull().defaultTo(0))
      .addColumn('tokens_out', bigintType(engine), (c) => c.notNull().defaultTo(0))
      .addColumn('cost_usd', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('request_type', 'text', (c) => c.notNull().defaultTo('completion'))
      .addColumn('session_tag', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('llm_usage_created_at').on('llm_usage').column('created_at').execute();
  },
});
export default migration;
