export interface RuleRow {
  project: string;
  rule_id: string;
  severity: string;
  match_type: string;
  pattern: string;
  message: string;
  /** JSON array of globs. */
  applies_to: string;
  stack: string;
  source: string;
  status: string;
  proposed_by: string;
  context: string;
  created_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    rules: RuleRow;
  }
}
