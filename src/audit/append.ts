import type { Executor } from '../db/engine.js';
import { FixedStatement } from '../db/fixed-statement.js';
import type { AuditNote } from '../commit/change.js';
import './tables.js';

/** Longest text an audit field keeps: a request must not turn into megabytes of log. */
export const MAX_AUDIT_FIELD = 1024;

const insertEntry = new FixedStatement(
  'insert into audit_log (timestamp, actor, action, resource, detail, outcome) values (?, ?, ?, ?, ?, ?)',
);

const clip = (text: string) => (text.length > MAX_AUDIT_FIELD ? `${text.slice(0, MAX_AUDIT_FIELD - 1)}…` : text);

/**
 * Appends one entry to the audit log, inside the transaction that makes the change it records
 * (only the committer calls this). Entries are never updated or deleted.
 */
export async function appendAuditIn(executor: Executor, note: AuditNote): Promise<void> {
  await insertEntry.run(executor, [
    new Date().toISOString(),
    clip(note.actor),
    clip(note.action),
    clip(note.resource),
    clip(note.detail ?? ''),
    note.outcome ?? 'success',
  ]);
}
