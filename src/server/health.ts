import type { FastifyInstance } from 'fastify';
import { formatUptime } from '../kernel/duration.js';
import { StringEnum, Type, typedRoutes } from '../kernel/schema.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  typedRoutes(app).get('/health', {
    config: { permission: 'public' },
    schema: {
      summary: 'Liveness probe; never needs a token. "degraded", with the reason, while the database cannot take writes',
      tags: ['health'],
      security: [],
      response: {
        200: Type.Object({
          status: StringEnum(['ok', 'degraded']),
          reason: Type.Optional(Type.String({ description: 'When degraded: why the database does not take writes (e.g. "disk full: …")' })),
          since: Type.Optional(Type.String({ description: 'When degraded: since when (ISO 8601)' })),
          uptime: Type.String(),
          version: Type.String(),
        }),
      },
    },
  }, async () => ({ ...app.koor.db.health.state, uptime: formatUptime(Date.now() - app.koor.startedAt), version: app.koor.version }));
}
