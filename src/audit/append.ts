import type { Executor } from '../db/engine.js';
import { FixedStatement } from '../db/fixed-statement.js';
import './tables.js';

export interface AuditEntry {
  actor: string;
  /** `area.verb`, e.g. `state.put`. */
  action: string;
  resource: string;
  detail?: string;
  outcome: 'success' | 'error';
}

const insertEntry = new FixedStatement(
  'insert into audit_log (timestamp, actor, action, resource, detail, outcome) values (?, ?, ?, ?, ?, ?)',
);

/**
 * Appends one entry to the audit log. Pass the transaction that makes the change so the change
 * and its entry commit or roll back together. Entries are never updated or deleted.
 */
export async function appendAudit(executor: Executor, entry: AuditEntry): Promise<void> {
  await insertEntry.run(executor, [new Date().toISOString(), entry.actor, entry.action, entry.resource, entry.detail ?? '', entry.outcome]);
}
