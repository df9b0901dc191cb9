export interface InstanceRow {
  id: string;
  name: string;
  workspace: string;
  intent: string;
  stack: string;
  /** The capability names as a JSON array. */
  capabilities: string;
  /** `pending` | `active` | `stale`. */
  status: string;
  registered_at: string;
  last_seen: string;
  /** The agent's own running service (used by compliance), or ''. */
  base_url: string;
  /** sha256 (hex) of the instance's token; the token itself is never stored. */
  token_hash: string;
}

declare module '../db/schema.js' {
  interface Database {
    instances: InstanceRow;
  }
}
