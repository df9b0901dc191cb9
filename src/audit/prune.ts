import type { AppContext } from '../kernel/context.js';
import './tables.js';

/** Rows one prune commit deletes at most: a long backlog goes in short transactions. */
const PRUNE_BATCH = 5000;

/**
 * Deletes the audit entries older than `--audit-retention` (SPEC §15), oldest first, in
 * batches; 0 keeps them forever. Run by the job runner (the leader's jobs: fenced on
 * PostgreSQL like every job's change). Returns how many went.
 */
export async function pruneAudit(ctx: AppContext, now = Date.now()): Promise<number> {
  const retention = ctx.config.auditRetentionMs;
  if (retention <= 0) return 0;
  const cutoff = new Date(now - retention).toISOString();
  let total = 0;
  for (;;) {
    const old = await ctx.db.query.selectFrom('audit_log').select('id').where('timestamp', '<', cutoff).limit(1).executeTakeFirst();
    if (!old) return total;
    const deleted = await ctx.commit(async (trx) => {
      const batch = trx.selectFrom('audit_log').select('id').where('timestamp', '<', cutoff).orderBy('id').limit(PRUNE_BATCH);
      const result = await trx.deleteFrom('audit_log').where('id', 'in', batch).executeTakeFirst();
      return { value: Number(result.numDeletedRows) };
    }, { emits: false });
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}
