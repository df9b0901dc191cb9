import { FixedInsert } from '../db/fixed-statement.js';
import type { NewEvent, WriteTx } from '../commit/change.js';
import type { KoorEvent } from './hub.js';
import './tables.js';

const insertEvent = new FixedInsert('insert into events (topic, data, source, created_at) values (?, ?, ?, ?)');

/** Stores one event in the committer's transaction and returns it with its id and time. */
export async function storeEventIn(trx: WriteTx, event: NewEvent): Promise<KoorEvent> {
  const data = event.data ?? null;
  // Taken here, in storing order, so that timestamps never go backwards as ids go up.
  const createdAt = new Date().toISOString();
  const id = await insertEvent.insert(trx, [event.topic, JSON.stringify(data), event.source ?? '', createdAt]);
  return { id, topic: event.topic, data, source: event.source ?? '', created_at: createdAt };
}
