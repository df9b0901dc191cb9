import type { VersionedMigration } from '../migrate.js';

// Placeholder until this domain's tables land; a migration's name is its identity.
const migration: VersionedMigration = () => ({
  async up() {},
});
export default migration;
