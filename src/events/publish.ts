import type { AppContext } from '../server/context.js';
import type { KoorEvent } from './hub.js';
import './tables.js';

export interface NewEvent {
  topic: string;
  data?: unknown;
  source?: string;
}

/**
 * Stores an event and hands it to live listeners. Domains call this after their own
 * transaction has committed, so no event ever describes a write that was rolled back.
 */
export async function publishEvent(ctx: AppContext, input: NewEvent): Promise<KoorEvent> {
  const createdAt = new Date().toISOString();
  const data = input.data ?? null;
  const row = await ctx.db.query
    .insertInto('events')
    .values({ topic: input.topic, data: JSON.stringify(data), source: input.source ?? '', created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  const event: KoorEvent = { id: Number(row.id), topic: input.topic, data, source: input.source ?? '', created_at: createdAt };
  ctx.hub.emit(event);
  return event;
}
