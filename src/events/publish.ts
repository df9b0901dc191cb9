import type { Actor, AppContext } from '../kernel/context.js';
import type { NewEvent } from '../commit/change.js';
import type { KoorEvent } from './hub.js';

/** The audit action of the events domain, named once. */
export const EVENT_ACTIONS = { publish: 'event.publish' } as const;

/**
 * Stores an event someone asked to publish, with its audit entry, and returns it as stored.
 * The topic is not checked here; the publish route checks topics from users. (Domains announce
 * their own changes by returning events from their change, not through this.)
 */
export async function publishEvent(ctx: AppContext, input: NewEvent, actor: Actor): Promise<KoorEvent> {
  const { events } = await ctx.committer.store(async () => ({
    value: undefined,
    events: [input],
    audit: { actor: actor.id, action: EVENT_ACTIONS.publish, resource: input.topic },
  }));
  return events[0]!;
}
