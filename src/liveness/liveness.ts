import type { Actor, AppContext } from '../kernel/context.js';
import { IntervalJob } from '../kernel/jobs.js';
import { markSilentInstancesStale, type Instance } from '../instances/instances.js';

/**
 * Marks every instance not heard from for `config.staleAfterMs` as stale, announcing
 * `agent.stale` for each one that just turned stale. Returns those instances. `requestedBy` is
 * who asked for a check out of schedule (audited); the monitor passes nothing.
 */
export async function markStaleInstances(ctx: AppContext, requestedBy?: Actor): Promise<Instance[]> {
  const silentSince = new Date(Date.now() - ctx.config.staleAfterMs);
  const newlyStale = await markSilentInstancesStale(ctx, silentSince, requestedBy);
  if (newlyStale.length > 0) ctx.log.info({ ids: newlyStale.map((i) => i.id) }, 'instances went stale');
  return newlyStale;
}

/** The background monitor: runs the check every `config.livenessIntervalMs`. */
export function livenessJob(ctx: AppContext): IntervalJob {
  return new IntervalJob('liveness', ctx.config.livenessIntervalMs, () => markStaleInstances(ctx), ctx.log);
}
