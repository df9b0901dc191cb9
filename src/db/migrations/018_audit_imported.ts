import type { VersionedMigration } from '../migrate.js';

/**
 * Audit entries brought by an import are marked (1), so that an import cannot add entries that
 * look as if this server had recorded them (SPEC §15: an import cannot forge the audit log).
 */
const migration: VersionedMigration = () => ({
  async up(db) {
    await db.schema.alterTable('audit_log').addColumn('imported', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
});
export default migration;
