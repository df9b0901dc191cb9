import type { Generated } from 'kysely';

export interface AuditRow {
  id: Generated<number>;
  timestamp: string;
  actor: string;
  action: string;
  resource: string;
  detail: string;
  outcome: string;
}

declare module '../db/schema.js' {
  interface Database {
    audit_log: AuditRow;
  }
}
