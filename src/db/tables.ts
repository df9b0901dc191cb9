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
