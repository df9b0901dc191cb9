import type { AppContext } from '../kernel/context.js';
import './tables.js';

/**
 * Deletes all but the newest `keep` events; returns how many went. Ids only grow, so "newest"
 * is "highest id" and one boundary id splits what stays from what goes.
 */
export async function pruneEvents(ctx: AppContext, keep = ctx.config.eventHistory): Promise<number> {
  const boundary = await ctx.db.query
    .selectFrom('events')
    .select('id')
    .orderBy('id', 'desc')
    .limit(1)
    .offset(keep)
    .executeTakeFirst();
  if (!boundary) return 0;
  return ctx.commit(
    async (trx) => {
      const result = await trx.deleteFrom('events').where('id', '<=', Number(boundary.id)).executeTakeFirst();
      return { value: Number(result.numDeletedRows) };
    },
    { emits: false },
  );
}
