import type { VersionedMigration } from '../migrate.js';
import { bigintType } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    // Active leases only: a lease that ends is deleted (its story is in the events and the audit log).
    await db.schema
      .createTable('leases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('holder_name', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('resources', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('fence', bigintType(engine), (c) => c.notNull())
      .addColumn('ttl_ms', bigintType(engine), (c) => c.notNull())
      .addColumn('acquired_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('leases_project').on('leases').column('project').execute();
    await db.schema.createIndex('leases_holder').on('leases').column('holder').execute();
    await db.schema.createIndex('leases_expires_at').on('leases').column('expires_at').execute();
    // One row (made by the first lease change, so that a new server holds no data): the
    // fencing counter, raised by every grant, and the generation, raised by every change to
    // the leases (so a replica knows whether the leases it keeps in memory are current). Every
    // lease change updates it first: that row lock makes changes on several replicas take
    // turns, so each acquirer's check sees every lease granted before it.
    await db.schema
      .createTable('lease_fence')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('fence', bigintType(engine), (c) => c.notNull())
      .addColumn('generation', bigintType(engine), (c) => c.notNull())
      .execute();
  },
});
export default migration;
