import type { FastifyInstance } from 'fastify';
import { heldRequests, parseWait } from '../kernel/long-poll.js';
import { presentWhileOpen } from '../liveness/presence.js';
import { ackConsumer, checkConsumerName, CONSUMER_ACK, DEFAULT_NEXT_MAX, MAX_NEXT, nextEvents } from './consumers.js';
import { eventSchema } from './routes.js';
import { parsePattern } from './subscription.js';

const tags = ['events'];
const error = { $ref: 'KoorError#' };

interface NextQuerystring {
  consumer: string;
  pattern?: string;
  max?: number;
  wait?: string;
}

/** Durable consumers (SPEC §18): `next` after a stored cursor, and `ack` to move it. */
export default async function consumerRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const abandoned = heldRequests(app);

  app.get<{ Querystring: NextQuerystring }>('/api/events/next', {
    schema: {
      tags,
      summary: "Events after the consumer's acknowledged cursor, oldest first; ?wait=30s holds until there is one",
      description: 'Consumers belong to the calling instance. A new consumer starts at the newest event. `next` does not move the cursor: acknowledge with POST /api/events/consumers/{name}/ack.',
      querystring: {
        type: 'object',
        properties: {
          consumer: { type: 'string', description: "the consumer's name" },
          pattern: { type: 'string', default: '*', description: 'topic pattern' },
          max: { type: 'integer', minimum: 1, maximum: MAX_NEXT, default: DEFAULT_NEXT_MAX },
          wait: { type: 'string', description: 'hold up to this long (30s, at most 5m) for an event' },
        },
        required: ['consumer'],
      },
      response: { 200: { type: 'array', items: eventSchema }, 400: error },
    },
  }, async (request, reply) => {
    const q = request.query;
    const name = checkConsumerName(q.consumer);
    const pattern = parsePattern(q.pattern ?? '*', 'pattern')!;
    const waitMs = parseWait(q.wait);
    if (waitMs > 0) presentWhileOpen(ctx, request.actor, reply.raw);
    return nextEvents(ctx, request.actor, { name, pattern, max: q.max ?? DEFAULT_NEXT_MAX, waitMs }, waitMs > 0 ? abandoned(reply) : undefined);
  });

  app.post<{ Params: { name: string }; Body: { id: number } }>('/api/events/consumers/:name/ack', {
    config: { auditAction: CONSUMER_ACK },
    schema: {
      tags,
      summary: "Move the consumer's cursor: the events up to this id are done",
      params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      body: {
        type: 'object',
        properties: { id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the last event id handled' } },
        required: ['id'],
        additionalProperties: false,
      },
      response: {
        200: { type: 'object', properties: { consumer: { type: 'string' }, cursor: { type: 'integer' } }, required: ['consumer', 'cursor'] },
        400: error,
      },
    },
  }, async (request) => ackConsumer(ctx, request.actor, checkConsumerName(request.params.name, 'name'), request.body.id));
}
