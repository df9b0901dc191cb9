import type { Generated } from 'kysely';

export interface LlmUsageRow {
  id: Generated<number>;
  created_at: string;
  provider: string;
  model: string;
  instance_id: string;
  project: string;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  request_type: string;
  session_tag: string;
}

declare module '../db/schema.js' {
  interface Database {
    llm_usage: LlmUsageRow;
  }
}
