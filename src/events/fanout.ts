import type { AppContext } from '../kernel/context.js';
import type { Job } from '../kernel/jobs.js';
import type { Closable } from '../db/replicas.js';
import { EVENTS_COMMITTED } from '../commit/committer.js';
import { eventsBetween, lastEventId } from './history.js';
import { InOrderEmitter } from './in-order.js';

declare module '../kernel/context.js' {
  interface AppContext {
    /** Hands committed events to the hub once each, in id order, whichever replica stored them. */
    emitter: InOrderEmitter;
  }
}

/** The app's one emitter of committed events, reading other replicas' events from the database. */
export function createEmitter(ctx: AppContext): InOrderEmitter {
  return new InOrderEmitter(
    ctx.hub,
    (after, before, limit) => eventsBetween(ctx, after, before, limit),
    (err) => ctx.log.error({ err }, 'cannot read events committed by other replicas'),
  );
}

/**
 * Brings events stored by other replicas of the same PostgreSQL database to this replica's
 * live subscribers (WebSocket, SSE) and listeners (webhook sender, token cache). A no-op on
 * SQLite, where no other process writes.
 */
export function replicaFanOut(ctx: AppContext): Job {
  let listening: Closable | undefined;
  let starting: Promise<void> | undefined;
  return {
    name: 'events.fan-out',
    runsOn: 'every-replica',
    start() {
      const { emitter } = ctx;
      starting = (async () => {
        emitter.startAfter(await lastEventId(ctx));
        listening = ctx.db.replicas.listen(EVENTS_COMMITTED, () => emitter.remote());
      })().catch((err: unknown) => ctx.log.error({ err }, 'cannot follow events of other replicas'));
    },
    async stop() {
      await starting;
      await listening?.close();
      listening = undefined;
    },
  };
}
