import type { FastifyInstance } from 'fastify';
import { heldRequests, parseWait } from '../kernel/long-poll.js';
import { presentWhileOpen } from '../liveness/presence.js';
import { ackConsumer, checkConsumerName, CONSUMER_ACK, DEFAULT_NEXT_MAX, MAX_NEXT, nextEvents } from './consumers.js';
import { eventSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';
import { parsePattern } from './subscription.js';

const tags = ['events'];
const error = KoorErrorRef;

/** Durable consumers (SPEC §18): `next` after a stored cursor, and `ack` to move it. */
export default async function consumerRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const abandoned = heldRequests(app);
  const api = typedRoutes(app);

  api.get('/api/events/next', {
    config: { permission: 'write', act: 'consume events durably' },
    schema: {
      tags,
      summary: "Events after the consumer's acknowledged cursor, oldest first; ?wait=30s holds until there is one",
      description: 'Consumers belong to the calling instance. A new consumer starts at the newest event. `next` does not move the cursor: acknowledge with POST /api/events/consumers/{name}/ack.',
      querystring: Type.Object({
        consumer: Type.String({ description: "the consumer's name" }),
        pattern: Type.Optional(Type.String({ default: '*', description: 'topic pattern' })),
        max: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NEXT, default: DEFAULT_NEXT_MAX })),
        wait: Type.Optional(Type.String({ description: 'hold up to this long (30s, at most 5m) for an event' })),
      }),
      response: { 200: Type.Array(eventSchema), 400: error },
    },
  }, async (request, reply) => {
    const q = request.query;
    const name = checkConsumerName(q.consumer);
    const pattern = parsePattern(q.pattern ?? '*', 'pattern')!;
    const waitMs = parseWait(q.wait);
    if (waitMs > 0) presentWhileOpen(ctx, request.actor, reply.raw);
    return nextEvents(ctx, request.actor, { name, pattern, max: q.max ?? DEFAULT_NEXT_MAX, waitMs }, waitMs > 0 ? abandoned(reply) : undefined);
  });

  api.post('/api/events/consumers/:name/ack', {
    config: { permission: 'write', act: 'acknowledge events', auditAction: CONSUMER_ACK },
    schema: {
      tags,
      summary: "Move the consumer's cursor: the events up to this id are done",
      params: Type.Object({ name: Type.String() }),
      body: Type.Object(
        { id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the last event id handled' }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ consumer: Type.String(), cursor: Type.Integer() }),
        400: error,
      },
    },
  }, async (request) => ackConsumer(ctx, request.actor, checkConsumerName(request.params.name, 'name'), request.body.id));
}
