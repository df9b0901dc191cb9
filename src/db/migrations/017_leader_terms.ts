import type { VersionedMigration } from '../migrate.js';
import { bigintType } from '../columns.js';

/** Leadership terms of PostgreSQL replicas, for fencing the leader's changes (replicas.ts). */
const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await db.schema
      .createTable('leader_terms')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('term', bigintType(engine), (c) => c.notNull())
      .execute();
  },
});
export default migration;
