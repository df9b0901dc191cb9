import type { FastifyInstance } from 'fastify';
import { HttpError, badRequest } from '../kernel/errors.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';
import { eventSchema, publishBody, subscribeQuery } from './schemas.js';
import { IntervalJob } from '../kernel/jobs.js';
import { parseTimeRange } from '../kernel/time-range.js';
import { EVENT_ACTIONS, publishEvent } from './publish.js';
import { readHistory, MAX_HISTORY } from './history.js';
import { pruneEvents } from './prune.js';
import { topicProblem } from './topics.js';
import { parseCursor, parsePattern, readSubscription } from './subscription.js';
import { eventSocketServer, SUBSCRIBE_PATH } from './websocket.js';
import { eventSourceServer } from './sse.js';
import { replicaFanOut } from './fanout.js';

const errors = { 400: KoorErrorRef, 401: KoorErrorRef };

/** HTTP routes of the events domain: publish, history, live streams, and history pruning. */
export default async function eventsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.post('/api/events/publish', {
    config: { permission: 'write', act: 'publish events', auditAction: EVENT_ACTIONS.publish },
    schema: {
      summary: 'Publish an event',
      tags: ['events'],
      body: publishBody,
      response: { 200: eventSchema, ...errors },
    },
  }, async (request) => {
    const { topic, data, source } = request.body;
    const problem = topicProblem(topic);
    if (problem) throw badRequest(problem);
    const instanceId = request.actor.instanceId;
    const event = await publishEvent(ctx, { topic, data, source: source ?? instanceId }, request.actor);
    if (instanceId) ctx.counters.addAgentMetric(instanceId, 'events_published');
    return event;
  });

  api.get('/api/events/history', {
    config: { permission: 'read' },
    schema: {
      summary: 'Stored events, newest first (or oldest first after a cursor)',
      tags: ['events'],
      querystring: Type.Object({
        last: Type.Optional(Type.Integer({ minimum: 1, default: 50, description: `At most this many (capped at ${MAX_HISTORY})` })),
        topic: Type.Optional(Type.String({ description: 'Topic pattern: "*" alone = all, "*" = one segment, "**" = one or more' })),
        from: Type.Optional(Type.String({ description: 'RFC 3339; events created at or after' })),
        to: Type.Optional(Type.String({ description: 'RFC 3339; events created at or before' })),
        source: Type.Optional(Type.String()),
        after: Type.Optional(Type.String({ description: 'Event id cursor: events with a greater id, oldest first' })),
      }),
      response: { 200: Type.Array(eventSchema), ...errors },
    },
  }, async (request, reply) => {
    const q = request.query;
    const { from, to } = parseTimeRange(q);
    const { events, cut } = await readHistory(ctx, {
      last: q.last ?? 50,
      pattern: parsePattern(q.topic, 'topic'),
      from,
      to,
      source: q.source,
      after: parseCursor(q.after, 'after'),
    });
    // The answer stays a plain array (the wire format); a header says more was left out.
    if (cut) reply.header('x-koor-truncated', 'true');
    return events;
  });

  // One route for both kinds of stream: an upgrade goes to wsHandler, a plain GET to the handler.
  app.decorateRequest('eventSubscription', null);
  const openEventSource = eventSourceServer(app);
  api.route({
    method: 'GET',
    url: SUBSCRIBE_PATH,
    config: { permission: 'read' },
    preHandler: readSubscription,
    wsHandler: eventSocketServer(app, (request) => request.eventSubscription!),
    schema: {
      summary: 'Live events: WebSocket (upgrade) or Server-Sent Events (Accept: text/event-stream)',
      description:
        'Upgrade to a WebSocket for one JSON text frame per event, or send `Accept: text/event-stream` for SSE. ' +
        '`after` (or the `Last-Event-ID` header) replays stored events after that id first, then continues live. ' +
        'A subscriber that falls 64 events behind gets `{"dropped": N, "resume_after": ID}` in place of what it lost.',
      tags: ['events'],
      querystring: subscribeQuery,
      response: {
        200: Type.String({ description: 'text/event-stream of `id:`/`data:` frames' }),
        ...errors,
        426: KoorErrorRef,
      },
    },
    handler: async (request, reply) => {
      if (!(request.headers.accept ?? '').includes('text/event-stream')) {
        reply.header('upgrade', 'websocket');
        throw new HttpError(426, `${SUBSCRIBE_PATH} needs a WebSocket upgrade or the header Accept: text/event-stream`);
      }
      openEventSource(reply, request.eventSubscription!, request.actor);
    },
  });

  const prune = new IntervalJob('events.prune', ctx.config.pruneIntervalMs, () => pruneEvents(ctx), ctx.log);
  ctx.jobs.add(prune);
  ctx.jobs.add(replicaFanOut(ctx));
}
