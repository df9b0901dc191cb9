import type { Selectable } from 'kysely';
import type { ReadQuery } from '../db/engine.js';
import type { AuditRow } from './tables.js';
import './tables.js';

/** An audit entry as the API returns it: the stored row, with `imported: true` only on entries an import brought. */
export type AuditRecord = Omit<Selectable<AuditRow>, 'imported'> & { imported?: true };

export interface AuditFilter {
  actor?: string;
  action?: string;
  /** Inclusive bounds, stored ISO form (see parseTimeBound). */
  from?: string;
  to?: string;
  limit: number;
}

// The static type of the summary route's answer schema (schemas.ts).
import type { AuditSummary } from './schemas.js';
export type { AuditSummary };

/** The entries matching `filter`, newest first. */
export async function queryAudit(db: ReadQuery, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (filter.actor) query = query.where('actor', '=', filter.actor);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.from) query = query.where('timestamp', '>=', filter.from);
  if (filter.to) query = query.where('timestamp', '<=', filter.to);
  const rows = await query.orderBy('timestamp', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(({ imported, ...row }) => ({ ...row, id: Number(row.id), ...(Number(imported) === 1 ? { imported: true as const } : {}) }));
}

/** Counts over the entries in the time range (the whole log without bounds). */
export async function summarizeAudit(db: ReadQuery, range: { from?: string; to?: string }): Promise<AuditSummary> {
  let base = db.selectFrom('audit_log');
  if (range.from) base = base.where('timestamp', '>=', range.from);
  if (range.to) base = base.where('timestamp', '<=', range.to);

  const [totals, actions, outcomes] = await Promise.all([
    base
      .select((eb) => [
        eb.fn.countAll<number>().as('total'),
        eb.fn.count<number>('actor').distinct().as('actors'),
        eb.fn.count<number>('resource').distinct().as('resources'),
      ])
      .executeTakeFirstOrThrow(),
    base.select((eb) => ['action', eb.fn.countAll<number>().as('n')]).groupBy('action').orderBy('action').execute(),
    base.select((eb) => ['outcome', eb.fn.countAll<number>().as('n')]).groupBy('outcome').orderBy('outcome').execute(),
  ]);
  return {
    total_entries: Number(totals.total),
    action_counts: Object.fromEntries(actions.map((row) => [row.action, Number(row.n)])),
    outcome_counts: Object.fromEntries(outcomes.map((row) => [row.outcome, Number(row.n)])),
    unique_actors: Number(totals.actors),
    unique_resources: Number(totals.resources),
  };
}
