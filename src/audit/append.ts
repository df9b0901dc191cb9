import type { Executor } from '../db/engine.js';
import { FixedStatement, type Placeholders } from '../db/fixed-statement.js';
import type { AuditNote } from '../commit/change.js';
import type { AuditRow } from './tables.js';

/** Longest text an audit field keeps: a request must not turn into megabytes of log. */
export const MAX_AUDIT_FIELD = 1024;

const insertEntry = new FixedStatement((db, p: Placeholders<Omit<AuditRow, 'id' | 'imported'>>) =>
  db.insertInto('audit_log').values({
    timestamp: p('timestamp'),
    actor: p('actor'),
    action: p('action'),
    resource: p('resource'),
    detail: p('detail'),
    outcome: p('outcome'),
  }),
);

const clip = (text: string) => (text.length > MAX_AUDIT_FIELD ? `${text.slice(0, MAX_AUDIT_FIELD - 1)}…` : text);

/**
 * Appends one entry to the audit log, inside the transaction that makes the change it records
 * (only the committer calls this). Entries are never updated, and deleted only once older than
 * `--audit-retention` (see prune.ts).
 */
export async function appendAuditIn(executor: Executor, note: AuditNote): Promise<void> {
  await insertEntry.run(executor, {
    timestamp: new Date().toISOString(),
    actor: clip(note.actor),
    action: clip(note.action),
    resource: clip(note.resource),
    detail: clip(note.detail ?? ''),
    outcome: note.outcome ?? 'success',
  });
}
