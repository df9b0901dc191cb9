import { sql } from 'kysely';
import type { AppContext } from '../kernel/context.js';
import type { KoorEvent } from './hub.js';
import type { TopicPattern } from './topics.js';
import type { EventRow } from './tables.js';
import './tables.js';

export interface HistoryFilter {
  /** Only topics this pattern matches (all when absent). */
  pattern?: TopicPattern;
  /** Inclusive bounds on created_at, as ISO strings. */
  from?: string;
  to?: string;
  source?: string;
  /** Only events with a smaller id (the in-order emitter reads the gap below its own events). */
  beforeId?: number;
}

export interface HistoryQuery extends HistoryFilter {
  /** At most this many events. */
  last: number;
  /** A cursor: only events with a greater id, returned oldest first. */
  after?: number;
}

export const MAX_HISTORY = 1000;
/**
 * Most event data (JSON text) one history answer or replay page holds. Events may carry up to
 * 10 MB each, so 1000 of them were gigabytes built in memory at once; past this budget a page
 * ends early (it always holds at least one event).
 */
export const PAGE_DATA_CHARS = 32 * 1024 * 1024;
// Pattern filters that SQL cannot express exactly are applied here, a page at a time.
const PAGE_SIZE = 500;

type Selected = Pick<EventRow, 'topic' | 'data' | 'source' | 'created_at'> & { id: number };

export function rowToEvent(row: Selected): KoorEvent {
  return { id: Number(row.id), topic: row.topic, data: JSON.parse(row.data), source: row.source, created_at: row.created_at };
}

/** `_` is a LIKE wildcard and may appear in topics, so the literal prefix is escaped. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

interface Scan {
  events: KoorEvent[];
  /** The last id looked at (matching or not): where the next scan continues. */
  cursor: number | undefined;
  /** True when there is nothing more to scan in this direction. */
  exhausted: boolean;
  /** True when the scan stopped early because its events' data reached `maxDataChars`. */
  full?: boolean;
}

/**
 * Scans stored events in id order from a cursor (exclusive), collecting up to `want` that
 * pass the filter and, past the first, hold no more than `maxDataChars` of data between them.
 * Ascending scans return oldest first, descending newest first.
 */
export async function scanEvents(
  ctx: AppContext,
  filter: HistoryFilter,
  direction: 'asc' | 'desc',
  cursor: number | undefined,
  want: number,
  maxDataChars = Infinity,
): Promise<Scan> {
  let dataChars = 0;
  const pattern = filter.pattern && !filter.pattern.matchesAll ? filter.pattern : undefined;
  const exact = pattern?.exactTopic ?? null;
  const prefix = pattern?.literalPrefix ?? '';
  const events: KoorEvent[] = [];
  for (;;) {
    let query = ctx.db.query.selectFrom('events').select(['id', 'topic', 'data', 'source', 'created_at']);
    if (cursor !== undefined) query = query.where('id', direction === 'asc' ? '>' : '<', cursor);
    if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
    if (filter.from) query = query.where('created_at', '>=', filter.from);
    if (filter.to) query = query.where('created_at', '<=', filter.to);
    if (filter.source !== undefined) query = query.where('source', '=', filter.source);
    if (exact !== null) query = query.where('topic', '=', exact);
    else if (prefix) query = query.where(sql<boolean>`topic like ${likePrefix(prefix)} escape '!'`);
    // With SQL doing all the filtering, one page of exactly `want` rows is the answer.
    const pageSize = pattern && exact === null ? PAGE_SIZE : want - events.length;
    const rows = await query.orderBy('id', direction).limit(pageSize).execute();
    for (const row of rows) {
      const wanted = !pattern || exact !== null || pattern.matches(row.topic);
      if (wanted) {
        dataChars += row.data.length;
        // The cursor stays on the last event taken, so the next scan starts with this one.
        if (events.length > 0 && dataChars > maxDataChars) return { events, cursor, exhausted: false, full: true };
        events.push(rowToEvent(row));
      }
      cursor = Number(row.id);
      if (wanted && events.length === want) return { events, cursor, exhausted: false };
    }
    if (rows.length < pageSize) return { events, cursor, exhausted: true };
  }
}

/**
 * `GET /api/events/history`: newest first, or oldest first after a cursor. `cut` says the data
 * budget ended the answer before `last` events (the older ones, or the ones after the last id
 * listed, are left for the next request).
 */
export async function readHistory(ctx: AppContext, query: HistoryQuery): Promise<{ events: KoorEvent[]; cut: boolean }> {
  const last = Math.min(query.last, MAX_HISTORY);
  if (last <= 0) return { events: [], cut: false };
  const scan = query.after !== undefined
    ? await scanEvents(ctx, query, 'asc', query.after, last, PAGE_DATA_CHARS)
    : await scanEvents(ctx, query, 'desc', undefined, last, PAGE_DATA_CHARS);
  return { events: scan.events, cut: scan.full === true };
}

/** The newest stored event id, or 0 when there is none. */
export async function lastEventId(ctx: AppContext): Promise<number> {
  const row = await ctx.db.query.selectFrom('events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? Number(row.id) : 0;
}

/** Committed events with `after < id < before` (no upper bound without `before`), oldest first. */
export async function eventsBetween(ctx: AppContext, after: number, before: number | undefined, limit: number): Promise<KoorEvent[]> {
  return (await scanEvents(ctx, { beforeId: before }, 'asc', after, limit)).events;
}

/**
 * One stored event's JSON, as `eventJson` spells a live one (`{id, topic, data, source,
 * created_at}`), or null when it is gone. The stored data is JSON text already and is placed
 * as it is: events may carry megabytes, which need not be parsed to be sent on.
 */
export async function storedEventJson(ctx: AppContext, id: number): Promise<string | null> {
  const row = await ctx.db.query.selectFrom('events').select(['id', 'topic', 'data', 'source', 'created_at']).where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const text = (value: string) => JSON.stringify(value);
  return `{"id":${Number(row.id)},"topic":${text(row.topic)},"data":${row.data},"source":${text(row.source)},"created_at":${text(row.created_at)}}`;
}
