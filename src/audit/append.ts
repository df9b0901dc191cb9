import { sql } from 'kysely';
import type { Executor } from '../db/engine.js';
import './tables.js';

export interface AuditEntry {
  actor: string;
  /** `area.verb`, e.g. `state.put`. */
  action: string;
  resource: string;
  detail?: string;
  outcome: 'success' | 'error';
}

/**
 * Appends one entry to the audit log. Pass the transaction that makes the change so the change
 * and its entry commit or roll back together. Entries are never updated or deleted.
 */
export async function appendAudit(executor: Executor, entry: AuditEntry): Promise<void> {
  // Written as SQL text rather than with the query builder: this runs with nearly every write,
  // and building and compiling the insert cost more than SQLite spends storing it.
  await sql`insert into audit_log (timestamp, actor, action, resource, detail, outcome)
    values (${new Date().toISOString()}, ${entry.actor}, ${entry.action}, ${entry.resource}, ${entry.detail ?? ''}, ${entry.outcome})`.execute(executor);
}
