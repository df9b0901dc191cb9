import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest } from '../kernel/errors.js';
import { holdUntilAnswered } from '../kernel/long-poll.js';
import type { KoorEvent } from './hub.js';
import { lastEventId, PAGE_DATA_CHARS, scanEvents } from './history.js';
import type { TopicPattern } from './topics.js';
import './consumer-tables.js';

/**
 * Durable consumers (SPEC §18): a named cursor kept by the server for the calling instance,
 * so that a consumer that stops and starts again reads on from the last event it acknowledged
 * (Redis consumer groups and etcd watches from a revision work the same way). `next` never
 * moves the cursor; only an acknowledgement does, so an event is handed out until its
 * consumer says it is done with it.
 */

export const CONSUMER_ACK = 'consumer.ack';
export const CONSUMER_CREATE = 'consumer.create';
export const DEFAULT_NEXT_MAX = 50;
export const MAX_NEXT = 1000;

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

export function checkConsumerName(name: string | undefined, field = 'consumer'): string {
  if (name === undefined || name === '') throw badRequest(`${field} is required: the consumer's name`);
  if (!NAME.test(name)) throw badRequest(`invalid ${field} "${name.slice(0, 60)}": up to 200 letters, digits, "_", ".", ":" and "-"`);
  return name;
}

/** Consumers belong to the calling instance (or to the admin / anonymous caller). */
const ownerOf = (actor: Actor) => actor.instanceId ?? actor.id;

/** The consumer's cursor; a consumer met for the first time starts at the newest event. */
async function cursorOf(ctx: AppContext, owner: string, name: string, actor: Actor): Promise<number> {
  const row = await ctx.db.query.selectFrom('event_consumers').select('acked_id').where('owner', '=', owner).where('name', '=', name).executeTakeFirst();
  if (row) return Number(row.acked_id);
  const start = await lastEventId(ctx);
  return ctx.commit(async (trx) => {
    // Two first calls at once: the first one's starting point stands.
    await trx
      .insertInto('event_consumers')
      .values({ owner, name, acked_id: start, updated_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['owner', 'name']).doNothing())
      .execute();
    const stored = await trx.selectFrom('event_consumers').select('acked_id').where('owner', '=', owner).where('name', '=', name).executeTakeFirstOrThrow();
    return { value: Number(stored.acked_id), audit: { actor: actor.id, action: CONSUMER_CREATE, resource: name, detail: `from event ${start}` } };
  }, { emits: false });
}

/**
 * The events after the consumer's cursor that match `pattern`, oldest first, at most `max`;
 * when there are none, waits up to `waitMs` for one to be committed (on any replica).
 */
export async function nextEvents(
  ctx: AppContext,
  actor: Actor,
  input: { name: string; pattern: TopicPattern; max: number; waitMs: number },
  signal?: AbortSignal,
): Promise<KoorEvent[]> {
  const cursor = await cursorOf(ctx, ownerOf(actor), input.name, actor);
  const max = Math.min(input.max, MAX_NEXT);
  const read = async () => (await scanEvents(ctx, { pattern: input.pattern }, 'asc', cursor, max, PAGE_DATA_CHARS)).events;
  if (input.waitMs === 0) return read();
  return holdUntilAnswered(ctx.hub, {
    attempt: async () => {
      const events = await read();
      return events.length > 0 ? events : undefined;
    },
    wakesOn: (event) => event.id > cursor && input.pattern.matches(event.topic),
    timedOut: () => [],
  }, input.waitMs, signal);
}

/** Moves the consumer's cursor to `id` (forward, or back to read again). */
export async function ackConsumer(ctx: AppContext, actor: Actor, name: string, id: number): Promise<{ consumer: string; cursor: number }> {
  const owner = ownerOf(actor);
  return ctx.commit(async (trx) => {
    await trx
      .insertInto('event_consumers')
      .values({ owner, name, acked_id: id, updated_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['owner', 'name']).doUpdateSet({ acked_id: id, updated_at: new Date().toISOString() }))
      .execute();
    return { value: { consumer: name, cursor: id }, audit: { actor: actor.id, action: CONSUMER_ACK, resource: name, detail: `event ${id}` } };
  }, { emits: false });
}
