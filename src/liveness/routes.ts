import type { FastifyInstance } from 'fastify';
import { livenessJob, markStaleInstances } from './liveness.js';
import { INSTANCE_ACTIONS } from '../instances/instances.js';
import { presenceJob } from './presence.js';

/** The liveness monitor job and its manual trigger. */
export default async function livenessRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  ctx.jobs.add(livenessJob(ctx));
  ctx.jobs.add(presenceJob(ctx));
  // Open event streams (WebSocket, SSE) of an instance keep it alive.
  ctx.presence.addSource(() => ctx.streams.instanceIds());

  app.post('/api/liveness/check', {
    config: { auditAction: INSTANCE_ACTIONS.livenessCheck },
    schema: {
      tags: ['instances'],
      summary: 'Run the liveness check now',
      response: {
        200: {
          type: 'object',
          properties: {
            checked: { type: 'boolean' },
            newly_stale: { type: 'array', items: { type: 'string' } },
            count: { type: 'integer' },
          },
          required: ['checked', 'newly_stale', 'count'],
        },
      },
    },
  }, async (request) => {
    const newlyStale = await markStaleInstances(ctx, request.actor);
    return { checked: true, newly_stale: newlyStale.map((i) => i.id), count: newlyStale.length };
  });
}
