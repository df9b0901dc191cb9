import type { FastifyInstance } from 'fastify';
import { Type, typedRoutes } from '../kernel/schema.js';
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

  typedRoutes(app).post('/api/liveness/check', {
    config: { permission: 'admin', act: 'run the liveness check', auditAction: INSTANCE_ACTIONS.livenessCheck },
    schema: {
      tags: ['instances'],
      summary: 'Run the liveness check now',
      response: {
        200: Type.Object({ checked: Type.Boolean(), newly_stale: Type.Array(Type.String()), count: Type.Integer() }),
      },
    },
  }, async (request) => {
    const newlyStale = await markStaleInstances(ctx, request.actor);
    return { checked: true, newly_stale: newlyStale.map((i) => i.id), count: newlyStale.length };
  });
}
