import { FixedInsert, type Placeholders } from '../db/fixed-statement.js';
import type { NewEvent, WriteTx } from '../commit/change.js';
import type { KoorEvent } from './hub.js';
import type { EventRow } from './tables.js';

const insertEvent = new FixedInsert((db, p: Placeholders<Omit<EventRow, 'id'>>) =>
  db.insertInto('events').values({ topic: p('topic'), data: p('data'), source: p('source'), created_at: p('created_at') }),
);

/** Stores one event in the committer's transaction and returns it with its id and time. */
export async function storeEventIn(trx: WriteTx, event: NewEvent): Promise<KoorEvent> {
  const data = event.data ?? null;
  // Taken here, in storing order, so that timestamps never go backwards as ids go up.
  const createdAt = new Date().toISOString();
  const id = await insertEvent.insert(trx, { topic: event.topic, data: JSON.stringify(data), source: event.source ?? '', created_at: createdAt });
  return { id, topic: event.topic, data, source: event.source ?? '', created_at: createdAt };
}
