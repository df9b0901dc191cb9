import type { VersionedMigration } from '../migrate.js';
import { bigintType, blobType } from '../columns.js';

// The spec registry (key = project/name): a versioned key space (row shapes in src/mvcc/rows.ts).
const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    // One row per key ever written; `version` is the highest version ever given (never lowered).
    await db.schema
      .createTable('spec_keys')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('version', bigintType(engine), (c) => c.notNull())
      .addColumn('live', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // Every version ever written, immutable.
    await db.schema
      .createTable('spec_versions')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('version', bigintType(engine), (c) => c.notNull())
      .addColumn('data', blobType(engine), (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('spec_versions_pk', ['key', 'version'])
      .execute();
  },
});
export default migration;
