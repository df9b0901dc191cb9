import type { FastifyRequest } from 'fastify';
import { badRequest } from '../kernel/errors.js';
import { TopicPattern, TopicPatternError } from './topics.js';
import type { SubscribeQuery } from './schemas.js';

/** What a live subscriber asked for: a topic pattern and an optional resume cursor. */
export interface Subscription {
  pattern: TopicPattern;
  after: number | undefined;
}

/** Reads a topic pattern parameter; a bad one is a 400 naming the parameter. */
export function parsePattern(value: string | undefined, param: string): TopicPattern | undefined {
  if (value === undefined) return undefined;
  try {
    return TopicPattern.compile(value);
  } catch (err) {
    if (err instanceof TopicPatternError) throw badRequest(`invalid ${param}: ${err.message}`);
    throw err;
  }
}

/** Reads an event id cursor (`after`, `Last-Event-ID`); a bad one is a 400 naming where it came from. */
export function parseCursor(value: string | undefined, param: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`invalid ${param} "${value}": expected an event id (a whole number ≥ 0)`);
  return Number(value);
}

export function parseSubscription(pattern: string | undefined, after: string | undefined, afterParam = 'after'): Subscription {
  return {
    pattern: parsePattern(pattern ?? '*', 'pattern')!,
    after: parseCursor(after, afterParam),
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What a request to the subscribe route asked for, read by its preHandler. */
    eventSubscription: Subscription | null;
  }
}

/**
 * preHandler of `GET /api/events/subscribe`: reads `?pattern=` and `?after=` (else the
 * `Last-Event-ID` header a reconnecting EventSource sends) before any stream opens, so a bad
 * value is an ordinary 400 answer, for a WebSocket upgrade as for Server-Sent Events.
 */
export async function readSubscription(request: FastifyRequest<{ Querystring: SubscribeQuery }>): Promise<void> {
  const { query } = request;
  const lastEventId = request.headers['last-event-id'];
  request.eventSubscription = query.after !== undefined
    ? parseSubscription(query.pattern, query.after)
    : parseSubscription(query.pattern, typeof lastEventId === 'string' ? lastEventId : undefined, 'Last-Event-ID');
}
