import type { VersionedKeyRow, VersionedValueRow } from '../mvcc/rows.js';

// The spec registry is a versioned key space like the state store; its key is `project/name`.
declare module '../db/schema.js' {
  interface Database {
    spec_keys: VersionedKeyRow;
    spec_versions: VersionedValueRow;
  }
}
