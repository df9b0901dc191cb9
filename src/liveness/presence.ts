import type { Actor, AppContext } from '../kernel/context.js';
import { IntervalJob, type Job } from '../kernel/jobs.js';
import { recordSignOfLife } from '../instances/instances.js';

/**
 * Instances this process is in touch with right now without them sending anything: an open
 * event stream of theirs, or a request of theirs held by `?wait=` (SPEC §18: an agent that is
 * listening is alive, even while it thinks for minutes). A job refreshes their last_seen, so
 * the liveness monitor (on whichever replica runs it) never takes them for silent.
 */
export class Presence {
  private readonly holds = new Map<string, number>();
  /** Other sources of presence (the open streams registry), asked at each refresh. */
  private readonly sources: Array<() => Iterable<string>> = [];

  /** Counts the instance present until the returned function is called. */
  hold(instanceId: string): () => void {
    this.holds.set(instanceId, (this.holds.get(instanceId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.holds.get(instanceId) ?? 1) - 1;
      if (left > 0) this.holds.set(instanceId, left);
      else this.holds.delete(instanceId);
    };
  }

  addSource(source: () => Iterable<string>): void {
    this.sources.push(source);
  }

  present(): Set<string> {
    const ids = new Set(this.holds.keys());
    for (const source of this.sources) for (const id of source()) ids.add(id);
    return ids;
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** Instances this process is in touch with (open streams, held requests). */
    presence: Presence;
  }
}

/** Keeps the calling instance alive for as long as this response is open (a held request). */
export function presentWhileOpen(ctx: AppContext, actor: Actor, response: NodeJS.EventEmitter): void {
  if (!actor.instanceId) return;
  response.once('close', ctx.presence.hold(actor.instanceId));
}

/**
 * How often present instances are refreshed: a third of the stale threshold (at most 5 s), so
 * that a present instance is refreshed at least twice before it could be called stale.
 */
export function presenceIntervalMs(ctx: AppContext): number {
  return Math.max(50, Math.min(5_000, Math.floor(ctx.config.staleAfterMs / 3)));
}

/** Refreshes the present instances of this process; runs on every replica. */
export function presenceJob(ctx: AppContext): Job {
  const job = new IntervalJob('liveness.presence', presenceIntervalMs(ctx), async () => {
    for (const id of ctx.presence.present()) await recordSignOfLife(ctx, id);
  }, ctx.log);
  return Object.assign(job, { runsOn: 'every-replica' as const });
}
