import type { VersionedMigration } from '../migrate.js';
import { addIdColumn } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await addIdColumn(db.schema.createTable('compliance_runs'), engine)
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('contract', 'text', (c) => c.notNull())
      .addColumn('pass', 'integer', (c) => c.notNull())
      // JSON array of {endpoint?, path, message}.
      .addColumn('violations', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('run_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('compliance_runs_instance').on('compliance_runs').columns(['instance_id', 'id']).execute();
  },
});
export default migration;
