/** Tables the database layer keeps for itself: bookkeeping, never data (backups leave them out). */
export const DATABASE_LAYER_TABLES = ['storage_probe', 'leader_terms'] as const;

/** The database layer's own table: one row, rewritten by StorageHealth's probe write. */
export interface StorageProbeRow {
  id: number;
  checked_at: string;
}

declare module './schema.js' {
  interface Database {
    storage_probe: StorageProbeRow;
  }
}

/** The current leadership term of each leader-elected role (`jobs`), for fencing (replicas.ts). */
export interface LeaderTermRow {
  name: string;
  term: number;
}

declare module './schema.js' {
  interface Database {
    leader_terms: LeaderTermRow;
  }
}
