import type { VersionedMigration } from '../migrate.js';
import { bigintType } from '../columns.js';

// Per-agent counters in hourly buckets. The flush job adds to a bucket with an upsert, so the
// composite primary key is what makes "add to this hour's counter" one statement.
const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await db.schema
      .createTable('agent_metrics')
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('metric_name', 'text', (c) => c.notNull())
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('metric_value', bigintType(engine), (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('agent_metrics_pk', ['instance_id', 'period', 'metric_name'])
      .execute();
    await db.schema.createIndex('agent_metrics_period').on('agent_metrics').column('period').execute();
  },
});
export default migration;
