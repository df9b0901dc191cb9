import type { VersionedKeyRow, VersionedValueRow } from '../mvcc/rows.js';

// The state store is a versioned key space (see src/mvcc/rows.ts).
declare module '../db/schema.js' {
  interface Database {
    state_keys: VersionedKeyRow;
    state_versions: VersionedValueRow;
  }
}
