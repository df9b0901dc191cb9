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
  await executor
    .insertInto('audit_log')
    .values({
      timestamp: new Date().toISOString(),
      actor: entry.actor,
      action: entry.action,
      resource: entry.resource,
      detail: entry.detail ?? '',
      outcome: entry.outcome,
    })
    .execute();
}
