import type { VersionedMigration } from '../migrate.js';

const migration: VersionedMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('rules')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull().defaultTo('error'))
      .addColumn('match_type', 'text', (c) => c.notNull().defaultTo('regex'))
      .addColumn('pattern', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
      // JSON array of globs; empty array = every file.
      .addColumn('applies_to', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('stack', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('source', 'text', (c) => c.notNull().defaultTo('local'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('accepted'))
      .addColumn('proposed_by', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('context', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('rules_pk', ['project', 'rule_id'])
      .execute();
    await db.schema.createIndex('rules_status').on('rules').columns(['status', 'project']).execute();
  },
});
export default migration;
