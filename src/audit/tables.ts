import type { Generated } from 'kysely';

export interface AuditRow {
  id: Generated<number>;
  timestamp: string;
  actor: string;
  action: string;
  resource: string;
  detail: string;
  outcome: string;
  /** 1 when the entry came in with an import (`POST /api/import`, `koor-server import-go`). */
  imported: Generated<number>;
}

declare module '../db/schema.js' {
  interface Database {
    audit_log: AuditRow;
  }
}
