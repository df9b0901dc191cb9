import type { Generated } from 'kysely';

export interface ComplianceRunRow {
  id: Generated<number>;
  instance_id: string;
  project: string;
  contract: string;
  /** 1 = passed, 0 = failed. */
  pass: number;
  /** JSON array of violations. */
  violations: string;
  run_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    compliance_runs: ComplianceRunRow;
  }
}
