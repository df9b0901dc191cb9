import type { SelectQueryBuilder } from 'kysely';
import type { AppContext } from '../kernel/context.js';
import type { WriteTx } from '../commit/change.js';
import type { Database } from '../db/schema.js';
import './tables.js';

/**
 * Another domain's claim on stored events: the ids it still needs (webhook deliveries refer to
 * their event until it is sent), as a query run inside the pruning transaction. The app
 * factory hands these over, so the events domain never reads other domains' tables.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventRetainer = (trx: WriteTx) => SelectQueryBuilder<Database, any, { event_id: number }>;

declare module '../kernel/context.js' {
  interface AppContext {
    eventRetainers: readonly EventRetainer[];
  }
}

/**
 * Deletes all but the newest `keep` events; returns how many went. Ids only grow, so "newest"
 * is "highest id" and one boundary id splits what stays from what goes. Older events that
 * another domain still needs (see EventRetainer) stay until it lets go of them.
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
      let prune = trx.deleteFrom('events').where('id', '<=', Number(boundary.id));
      for (const retained of ctx.eventRetainers) prune = prune.where('id', 'not in', retained(trx));
      const result = await prune.executeTakeFirst();
      return { value: Number(result.numDeletedRows) };
    },
    { emits: false },
  );
}
